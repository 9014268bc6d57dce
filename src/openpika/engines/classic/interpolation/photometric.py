"""Photometric normalisation: make two keyframes look alike to the flow estimator.

Optical flow assumes brightness constancy; a change of exposure or white balance between keyframes
breaks it. The flow estimator therefore sees luma normalised to a common mean and contrast (a gain
and bias per image), while the rendered frames keep their own colours: the blend between the two
warped keyframes then carries the colour change smoothly across the transition.
"""

from __future__ import annotations

import cv2
import numpy as np

_TARGET_MEAN = 128.0
_TARGET_STD = 52.0


def normalised_luma(image: np.ndarray) -> np.ndarray:
    """Luma (uint8) with its mean and standard deviation set to fixed targets."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    mean, std = float(gray.mean()), float(gray.std())
    scaled = (gray - mean) * (_TARGET_STD / max(std, 1.0)) + _TARGET_MEAN
    return np.clip(scaled, 0, 255).astype(np.uint8)

