"""Objects lifted off their photos, as layers ready to composite.

The matte itself comes from ``subject.find_subject`` (shared with image-to-video and pikaffects);
this module crops it into a ``Cutout`` and judges whether the matte is good enough to put the
object into another picture (``matte_confidence``).
"""

from __future__ import annotations

import cv2
import numpy as np

from .layers import Cutout, _downscale, _lab
from .subject import find_subject

_WORK_SIDE = 320


def cut_out(image: np.ndarray, seed: int = 0) -> Cutout:
    """The photo's main subject cropped to its matte (all of the matte, feathered edges included)."""
    alpha = find_subject(image, seed=seed).alpha.astype(np.float32)
    coverage = float(alpha.mean())
    ys, xs = np.nonzero(alpha > 0.02)
    if len(xs) == 0:
        return Cutout(image[:1, :1].copy(), np.zeros((1, 1), np.float32), 0.0, 0.0)
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    return Cutout(
        np.ascontiguousarray(image[y0:y1, x0:x1]),
        np.ascontiguousarray(alpha[y0:y1, x0:x1]),
        coverage,
        matte_confidence(image, alpha),
        origin=(int(x0), int(y0)),
        touches_bottom=bool(alpha[-2:].max() > 0.5),
    )


def matte_confidence(image: np.ndarray, alpha: np.ndarray) -> float:
    """How well the matte's outline follows real edges in the photo: the mean colour-gradient
    strength along the outline divided by the photo's overall mean. A cut through fur or sky scores
    near 1; a subject lifted off a contrasting backdrop scores 2 and more."""
    small = _downscale(image, _WORK_SIDE)
    a = cv2.resize(alpha, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA)
    binary = (a > 0.5).astype(np.uint8)
    outline = cv2.morphologyEx(binary, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    # The photo's own frame is not an outline the matte chose.
    outline[:2] = outline[-2:] = False
    outline[:, :2] = outline[:, -2:] = False
    if outline.sum() < 20:
        return 0.0
    lab = _lab(small)
    gx = cv2.Sobel(lab, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lab, cv2.CV_32F, 0, 1, ksize=3)
    grad = np.sqrt((gx**2 + gy**2).sum(axis=2))
    grad = cv2.dilate(grad, np.ones((3, 3), np.uint8))  # tolerate a pixel of misalignment
    return float(grad[outline].mean() / (grad.mean() + 1e-6))
