"""The neural engine: diffusers pipelines for every endpoint (see ``engine`` and docs/neural.md).

Importing this package never imports torch; the [neural] extra is needed only to run tasks.
"""

from __future__ import annotations

from .engine import NeuralEngine
from .registry import CONFIG_FILE_NAME, ModelRegistry

__all__ = ["CONFIG_FILE_NAME", "ModelRegistry", "NeuralEngine"]
