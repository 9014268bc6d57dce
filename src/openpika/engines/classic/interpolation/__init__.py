"""Motion-compensated interpolation between keyframes, and designed transitions where it cannot work."""

from __future__ import annotations

from .flow import PairFlow, bidirectional_flow
from .synthesis import PairInterpolator

__all__ = ["PairFlow", "PairInterpolator", "bidirectional_flow"]
