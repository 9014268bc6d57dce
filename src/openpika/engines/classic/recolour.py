"""Recolouring a region, and keeping a region's shading when its content is replaced.

Recolouring keeps the brightness of every pixel (so folds, highlights and shadows stay), turns its
chroma to the target hue, and moves its overall brightness towards the target's (a white car must
get lighter, not just lose its colour).
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
    ycc: tuple[float, float, float]  # 8-bit YCrCb: luma, Cr, Cb (chroma centred on 128)

    @property
    def chroma(self) -> float:
        return float(np.hypot(self.ycc[1] - 128.0, self.ycc[2] - 128.0))


def parse_target_colour(prompt: str) -> TargetColour | None:
    """The colour the prompt asks for: the last colour word, so "turn the red car blue" -> blue."""
    found = COLOUR_PATTERN.findall(prompt.lower())
    if not found:
        return None
    name = found[-1]
    y, cr, cb = cv2.cvtColor(np.array([[COLOUR_RGB[name]]], np.uint8), cv2.COLOR_RGB2YCrCb)[0, 0]
    return TargetColour(name, (float(y), float(cr), float(cb)))


def region_lightness(frame: np.ndarray, alpha: np.ndarray) -> float:
    """Mean luma (0..255) under ``alpha``: the reference a recolour is steered from."""
    luma = cv2.cvtColor(frame, cv2.COLOR_RGB2YCrCb)[..., 0].astype(np.float32)
    return float((luma * alpha).sum() / (float(alpha.sum()) + 1e-6))


def recolour(frame: np.ndarray, target: TargetColour, mean_luma: float) -> np.ndarray:
    """``frame`` turned to ``target`` (meant to be blended in through the region's alpha).

    Works in YCrCb (an order of magnitude cheaper than Lab, and close enough for this): luma is
    kept per pixel and shifted by a constant towards the target's, so folds and highlights stay;
    chroma turns to the target's hue. ``mean_luma`` is the region's mean on the first frame, so the
    shift is the same on every frame (no flicker). Chroma is computed at half resolution (the eye
    does not see chroma detail)."""
    luma, cr8, cb8 = cv2.split(cv2.cvtColor(frame, cv2.COLOR_RGB2YCrCb))
    h, w = luma.shape
    half = (max(1, w // 2), max(1, h // 2))
    cr = cv2.resize(cr8, half, interpolation=cv2.INTER_AREA).astype(np.float32) - 128.0
    cb = cv2.resize(cb8, half, interpolation=cv2.INTER_AREA).astype(np.float32) - 128.0
    t_luma, t_cr, t_cb = target.ycc
    if target.chroma < 6.0:
        # White, black, grey, silver: move luma, squeeze its range, drop most of the colour.
        luma = cv2.convertScaleAbs(luma, alpha=0.6, beta=t_luma - 0.6 * mean_luma)
        new_cr, new_cb = cr * 0.12, cb * 0.12
    else:
        chroma = np.maximum(cv2.magnitude(cr, cb), 0.85 * target.chroma)
        new_cr = chroma * ((t_cr - 128.0) / target.chroma)
        new_cb = chroma * ((t_cb - 128.0) / target.chroma)
        luma = cv2.convertScaleAbs(luma, alpha=1.0, beta=0.45 * (t_luma - mean_luma))

    def full(channel: np.ndarray) -> np.ndarray:
        return cv2.resize(
            np.clip(channel + 128.0, 0, 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR
        )

    return cv2.cvtColor(cv2.merge([luma, full(new_cr), full(new_cb)]), cv2.COLOR_YCrCb2RGB)


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
