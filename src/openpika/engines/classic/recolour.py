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


def region_lightness(frame: np.ndarray, alpha: np.ndarray) -> float:
    """Mean Lab lightness (0..100) under ``alpha``: the reference a recolour is steered from."""
    lum = cv2.cvtColor(frame, cv2.COLOR_RGB2Lab)[..., 0].astype(np.float32) * (100.0 / 255.0)
    return float((lum * alpha).sum() / (float(alpha.sum()) + 1e-6))


def recolour(frame: np.ndarray, target: TargetColour, mean_l: float) -> np.ndarray:
    """``frame`` turned to ``target`` (meant to be blended in through the region's alpha).

    ``mean_l`` is the region's mean lightness on the first frame, so the shift is the same on every
    frame (no flicker). Lightness stays at full resolution; the new chroma is computed at half
    resolution (the eye does not see chroma detail, and it halves the cost)."""
    lightness, a8, b8 = cv2.split(cv2.cvtColor(frame, cv2.COLOR_RGB2Lab))  # 8-bit: L*2.55, a+128, b+128
    h, w = lightness.shape
    half = (max(1, w // 2), max(1, h // 2))
    a = cv2.resize(a8, half, interpolation=cv2.INTER_AREA).astype(np.float32) - 128.0
    b = cv2.resize(b8, half, interpolation=cv2.INTER_AREA).astype(np.float32) - 128.0
    if target.chroma < 8.0:
        # White, black, grey, silver: move lightness, squeeze its range, drop most of the colour.
        lightness = cv2.convertScaleAbs(lightness, alpha=0.6, beta=(target.lab[0] - 0.6 * mean_l) * 2.55)
        new_a, new_b = a * 0.12, b * 0.12
    else:
        chroma = np.maximum(cv2.magnitude(a, b), 0.85 * target.chroma)
        new_a, new_b = chroma * (target.lab[1] / target.chroma), chroma * (target.lab[2] / target.chroma)
        lightness = cv2.convertScaleAbs(lightness, alpha=1.0, beta=0.45 * (target.lab[0] - mean_l) * 2.55)

    def full(channel: np.ndarray) -> np.ndarray:
        return cv2.resize(
            np.clip(channel + 128.0, 0, 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR
        )

    return cv2.cvtColor(cv2.merge([lightness, full(new_a), full(new_b)]), cv2.COLOR_Lab2RGB)


def shade_like(layer: np.ndarray, frame: np.ndarray, mean_lum: float) -> np.ndarray:
    """``layer`` lit like the region it replaces: the region's brightness variations (folds,
    shadows, highlights) relative to ``mean_lum`` (its first-frame mean grey level) multiply the
    new content, softened."""
    if mean_lum < 1.0:
        return layer
    lum = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    sigma = max(1.0, frame.shape[1] / 400.0)
    ratio = np.clip(cv2.GaussianBlur(lum, (0, 0), sigma) / mean_lum, 0.45, 1.6) ** 0.6
    return np.clip(layer.astype(np.float32) * ratio[..., None] + 0.5, 0, 255).astype(np.uint8)
