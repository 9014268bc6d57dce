"""Objects lifted off their photos, as layers ready to composite.

The matte itself comes from ``subject.find_subject`` (shared with image-to-video and pikaffects);
this module crops it into a ``Cutout`` and judges whether the matte is good enough to put the
object into another picture (``matte_confidence``).
"""

from __future__ import annotations

import cv2
import numpy as np

from .layers import Cutout, _downscale, _lab
from .subject import Subject, find_subject

_WORK_SIDE = 320


def cut_out(image: np.ndarray, seed: int = 0, subject: Subject | None = None) -> Cutout:
    """The photo's main subject cropped to its matte (all of the matte, feathered edges included).
    ``subject``: the photo's ``find_subject`` result when the caller already has it."""
    found = subject if subject is not None else find_subject(image, seed=seed)
    alpha = found.alpha.astype(np.float32)
    coverage = float(alpha.mean())
    ys, xs = np.nonzero(alpha > 0.02)
    if len(xs) == 0:
        return Cutout(image[:1, :1].copy(), np.zeros((1, 1), np.float32), 0.0, 0.0)
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    return Cutout(
        decontaminate(image[y0:y1, x0:x1], alpha[y0:y1, x0:x1]),
        np.ascontiguousarray(alpha[y0:y1, x0:x1]),
        coverage,
        matte_confidence(image, alpha),
        origin=(int(x0), int(y0)),
        touches_bottom=bool(alpha[-2:].max() > 0.5),
    )


def decontaminate(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Replace the colour of partly transparent edge pixels by the subject's own nearby colour, so
    the old backdrop does not show as a light or dark fringe on the new background."""
    solid = (alpha > 0.95).astype(np.float32)
    if solid.sum() < 16:
        return np.ascontiguousarray(rgb)
    k = (max(3, min(rgb.shape[:2]) // 30) | 1,) * 2
    weight = cv2.blur(solid, k)
    inner = cv2.blur(rgb.astype(np.float32) * solid[..., None], k) / np.maximum(weight, 1e-3)[..., None]
    edge = ((alpha < 0.95) & (weight > 0.02))[..., None]
    return np.where(edge, np.clip(inner + 0.5, 0, 255).astype(np.uint8), rgb)


def matte_confidence(image: np.ndarray, alpha: np.ndarray) -> float:
    """The fraction of the matte's outline where the colour really changes across it (more than
    12 Lab units between the mean colours just inside and just outside). A subject lifted off a
    contrasting background scores above 0.9; a cut through fur or sky about 0.5."""
    small = _downscale(image, _WORK_SIDE)
    a = cv2.resize(alpha, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA)
    inside = (a > 0.5).astype(np.float32)
    outside = 1.0 - inside
    k = max(3, small.shape[1] // 40) | 1
    lab = cv2.GaussianBlur(_lab(small), (3, 3), 0)

    def side_mean(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Normalised convolution: the mean colour of nearby pixels on one side only.
        total = cv2.blur(weight, (k, k))
        return cv2.blur(lab * weight[..., None], (k, k)) / np.maximum(total, 1e-3)[..., None], total

    colour_in, near_in = side_mean(inside)
    colour_out, near_out = side_mean(outside)
    outline = (near_in > 0.2) & (near_out > 0.2)
    # The photo's own frame is not an outline the matte chose.
    outline[:2] = outline[-2:] = False
    outline[:, :2] = outline[:, -2:] = False
    if outline.sum() < 20:
        return 0.0
    step = np.linalg.norm(colour_in - colour_out, axis=2)[outline]
    return float((step > 12.0).mean())
