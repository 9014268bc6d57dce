"""Recolouring a region, and keeping a region's shading when its content is replaced.

Recolouring works in Lab: the lightness of every pixel is kept (so folds, highlights and shadows
stay), its chroma is turned to the target hue, and its overall lightness is moved towards the
target's (a white car must get lighter, not just lose its colour).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

# Canonical sRGB of the colour words the engine understands (also used to find regions by colour).
COLOUR_RGB: dict[str, tuple[int, int, int]] = {
    "red": (205, 32, 38),
    "orange": (240, 130, 25),
    "yellow": (245, 212, 40),
    "gold": (212, 172, 55),
    "green": (45, 160, 65),
    "teal": (20, 150, 150),
    "cyan": (20, 190, 210),
    "blue": (30, 85, 215),
    "purple": (120, 50, 175),
    "violet": (135, 70, 200),
    "pink": (240, 125, 175),
    "magenta": (205, 20, 145),
    "brown": (120, 72, 35),
    "black": (22, 22, 24),
    "white": (240, 240, 236),
    "gray": (128, 128, 128),
    "grey": (128, 128, 128),
    "silver": (192, 192, 196),
}
COLOUR_PATTERN = re.compile(r"\b(" + "|".join(COLOUR_RGB) + r")\b")


@dataclass(frozen=True)
class TargetColour:
    name: str
    lab: tuple[float, float, float]

    @property
    def chroma(self) -> float:
        return float(np.hypot(self.lab[1], self.lab[2]))


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def _rgb(lab: np.ndarray) -> np.ndarray:
    return np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def parse_target_colour(prompt: str) -> TargetColour | None:
    """The colour the prompt asks for: the last colour word, so "turn the red car blue" -> blue."""
    found = COLOUR_PATTERN.findall(prompt.lower())
    if not found:
        return None
    name = found[-1]
    lab = _lab(np.array([[COLOUR_RGB[name]]], np.uint8))[0, 0]
    return TargetColour(name, (float(lab[0]), float(lab[1]), float(lab[2])))


def recolour(frame: np.ndarray, alpha: np.ndarray, target: TargetColour) -> np.ndarray:
    """``frame`` with the pixels under ``alpha`` turned to ``target`` (same size; outside the
    region the result is meaningless and meant to be blended away by ``alpha``)."""
    lab = _lab(frame)
    weight = alpha.astype(np.float32)
    total = float(weight.sum()) + 1e-6
    mean_l = float((lab[..., 0] * weight).sum() / total)
    out = lab.copy()
    if target.chroma < 8.0:
        # White, black, grey, silver: move lightness, squeeze its range, drop most of the colour.
        out[..., 0] = np.clip(target.lab[0] + (lab[..., 0] - mean_l) * 0.6, 0, 100)
        out[..., 1] *= 0.12
        out[..., 2] *= 0.12
        return _rgb(out)
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    direction = np.array(target.lab[1:], np.float32) / target.chroma
    new_chroma = np.maximum(chroma, 0.85 * target.chroma)
    out[..., 1] = direction[0] * new_chroma
    out[..., 2] = direction[1] * new_chroma
    out[..., 0] = np.clip(lab[..., 0] + 0.45 * (target.lab[0] - mean_l), 0, 100)
    return _rgb(out)


def shade_like(layer: np.ndarray, frame: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``layer`` lit like the region it replaces: the region's lightness variations (folds,
    shadows, highlights, relative to its mean) multiply the new content, softened."""
    lum = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    weight = alpha.astype(np.float32)
    mean = float((lum * weight).sum() / (float(weight.sum()) + 1e-6))
    if mean < 1.0:
        return layer
    sigma = max(1.0, frame.shape[1] / 400.0)
    ratio = np.clip(cv2.GaussianBlur(lum, (0, 0), sigma) / mean, 0.45, 1.6) ** 0.6
    return np.clip(layer.astype(np.float32) * ratio[..., None] + 0.5, 0, 255).astype(np.uint8)
