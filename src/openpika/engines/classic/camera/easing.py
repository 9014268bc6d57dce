"""Easing curves: map linear time t in [0, 1] to eased progress in [0, 1].

Every curve starts at 0, ends at 1 and is monotonic, so a move never overshoots its end pose.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

Easing = Literal["linear", "ease_in", "ease_out", "ease_in_out"]


def _clamp(t: float) -> float:
    return 0.0 if t <= 0.0 else 1.0 if t >= 1.0 else t


def linear(t: float) -> float:
    return _clamp(t)


def ease_in(t: float) -> float:
    t = _clamp(t)
    return t * t


def ease_out(t: float) -> float:
    t = _clamp(t)
    return 1.0 - (1.0 - t) * (1.0 - t)


def ease_in_out(t: float) -> float:
    """Sine ease: zero velocity at both ends, like a dolly grip starting and stopping by hand."""
    t = _clamp(t)
    return 0.5 - 0.5 * math.cos(math.pi * t)


CURVES: dict[Easing, Callable[[float], float]] = {
    "linear": linear,
    "ease_in": ease_in,
    "ease_out": ease_out,
    "ease_in_out": ease_in_out,
}


def apply(easing: Easing, t: float) -> float:
    return CURVES[easing](t)
