"""Pixel masks for the regions a swap names, each from one frame and without learned weights: colour
classes (HSV rules), parts of the frame, the sky, faces, and the main components of a rough mask.
Reading the words and following the region over the clip is ``regions``.
"""

from __future__ import annotations

import cv2
import numpy as np

from .layers import fill_holes
from .subject import detect_faces

# OpenCV HSV (H in 0..180): (hue ranges, min saturation, min value, max value)
_HSV_RULES: dict[str, tuple[list[tuple[int, int]], int, int, int]] = {
    "red": ([(0, 6), (168, 180)], 90, 50, 255),
    "orange": ([(4, 22)], 110, 90, 255),
    "yellow": ([(21, 35)], 90, 90, 255),
    "gold": ([(15, 32)], 80, 70, 255),
    "green": ([(35, 85)], 60, 40, 255),
    "teal": ([(80, 100)], 60, 40, 255),
    "cyan": ([(85, 100)], 60, 60, 255),
    "blue": ([(100, 130)], 70, 40, 255),
    "purple": ([(128, 155)], 50, 35, 255),
    "violet": ([(125, 150)], 50, 50, 255),
    "pink": ([(145, 175)], 40, 120, 255),
    "magenta": ([(145, 170)], 90, 60, 255),
    "brown": ([(4, 25)], 70, 25, 165),
    "black": ([(0, 180)], 0, 0, 50),
    "white": ([(0, 180)], 0, 185, 255),
    "gray": ([(0, 180)], 0, 60, 190),
    "grey": ([(0, 180)], 0, 60, 190),
    "silver": ([(0, 180)], 0, 110, 215),
}
_LOW_SATURATION = {"black", "white", "gray", "grey", "silver"}


def colour_mask(rgb: np.ndarray, colours: list[str]) -> np.ndarray:
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    out = np.zeros(h.shape, bool)
    for name in colours:
        hues, s_min, v_min, v_max = _HSV_RULES[name]
        in_hue = np.zeros(h.shape, bool)
        for lo, hi in hues:
            in_hue |= (h >= lo) & (h <= hi)
        sat = s < 45 if name in _LOW_SATURATION else s >= s_min
        out |= in_hue & sat & (v >= v_min) & (v <= v_max)
    return out


def position_mask(shape: tuple[int, int], positions: list[str]) -> np.ndarray:
    h, w = shape
    ys, xs = np.mgrid[0:h, 0:w]
    m = np.ones((h, w), bool)
    for p in positions:
        if p == "left":
            m &= xs < w * 0.5
        elif p == "right":
            m &= xs >= w * 0.5
        elif p in ("top", "upper"):
            m &= ys < h * 0.5
        elif p in ("bottom", "lower"):
            m &= ys >= h * 0.5
        else:  # center / middle
            m &= (np.abs(xs - w / 2) < w * 0.25) & (np.abs(ys - h / 2) < h * 0.25)
    return m


def sky_mask(rgb: np.ndarray) -> np.ndarray:
    """Smooth, bright or blue pixels connected to the top of the frame, grown back over the
    fringe that the smoothness test leaves around towers and branches."""
    h, w = rgb.shape[:2]
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    grad = cv2.GaussianBlur(np.abs(cv2.Laplacian(gray, cv2.CV_32F, ksize=3)), (0, 0), 1.2)
    blueish = (hsv[..., 0] >= 85) & (hsv[..., 0] <= 135) & (hsv[..., 1] >= 40) & (hsv[..., 2] >= 35)
    overcast = (hsv[..., 1] < 45) & (hsv[..., 2] >= 150)
    smooth_sky = ((blueish | overcast) & (grad < 8.0)).astype(np.uint8)
    candidate = cv2.morphologyEx(smooth_sky, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=8)
    top = set(np.unique(labels[: max(2, h // 40)]).tolist()) - {0}
    keep = [i for i in top if stats[i, cv2.CC_STAT_AREA] >= 0.005 * h * w]
    if not keep:
        return np.zeros((h, w), bool)
    sky = np.isin(labels, keep)
    # Grow back over the fringe: nearby pixels within 10 Lab units of the local sky colour.
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    weight = sky.astype(np.float32)
    k = (max(5, w // 25) | 1,) * 2
    local = cv2.blur(lab * weight[..., None], k) / np.maximum(cv2.blur(weight, k), 1e-3)[..., None]
    near = cv2.dilate(sky.astype(np.uint8), np.ones((k[0] // 2 | 1,) * 2, np.uint8)) > 0
    close = np.linalg.norm(lab - local, axis=2) < 10.0
    return sky | (near & close & (cv2.blur(weight, k) > 0.15))


def main_components(mask: np.ndarray) -> np.ndarray:
    """The larger parts of a rough mask (each at least 30 % of the largest), cleaned and hole-filled."""
    m = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    if count <= 1:
        return np.zeros(mask.shape, bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.flatnonzero(areas >= 0.3 * areas.max()) + 1
    return fill_holes(np.isin(labels, keep))


def face_mask(full: np.ndarray, shape: tuple[int, int], where: np.ndarray) -> np.ndarray:
    """Head-shaped ellipses at ``shape`` around the faces in ``full`` whose centres lie in ``where``."""
    # Faces are small: look at a larger copy than the tracking resolution.
    h, w = full.shape[:2]
    scale = min(1.0, 720 / max(h, w))
    gray = cv2.cvtColor(
        cv2.resize(full, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA),
        cv2.COLOR_RGB2GRAY,
    )
    faces, _, _ = detect_faces(gray)
    k = shape[1] / gray.shape[1]
    mask = np.zeros(shape, np.uint8)
    for f in faces:
        cx, cy = (f.x + f.w / 2) * k, (f.y + f.h / 2) * k
        if not where[min(shape[0] - 1, int(cy)), min(shape[1] - 1, int(cx))]:
            continue
        # The cascade box is the inner face; the head reaches past it, mostly upwards.
        axes = (int(f.w * k * 0.62), int(f.h * k * 0.8))
        cv2.ellipse(mask, (int(cx), int(cy - 0.08 * f.h * k)), axes, 0, 0, 360, 1, -1)
    return mask > 0
