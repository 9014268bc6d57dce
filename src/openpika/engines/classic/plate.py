"""The clean plate: a photo with its subject removed and the hole filled, without learned weights.

The mask is dilated (so no halo of subject colour survives at the border) and the hole filled in
two bands of frequency: colours from a push-pull pyramid at analysis resolution (every level
averages the known pixels of the finer one, then the coarse levels fill the fine holes), texture
mirrored from the surrounding background across the hole's border, so the fill continues the grain
and structure around it instead of reading as a smear.
"""

from __future__ import annotations

import cv2
import numpy as np

ANALYSIS_LONG_SIDE = 320  # the pyramid's resolution: it carries colours only, so small is plenty


def _push_pull(image: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Fill unknown pixels from a pyramid of known-pixel averages (no holes, no streaks)."""
    levels: list[tuple[np.ndarray, np.ndarray]] = []
    img = image.astype(np.float32) * known[..., None]
    wgt: np.ndarray = known.astype(np.float32)
    while min(wgt.shape) > 2:
        levels.append((img, wgt))
        img = cv2.pyrDown(img)
        wgt = cv2.pyrDown(wgt)
    filled = img / np.maximum(wgt, 1e-6)[..., None]
    for img_l, wgt_l in reversed(levels):
        up = cv2.resize(filled, (wgt_l.shape[1], wgt_l.shape[0]), interpolation=cv2.INTER_LINEAR)
        up = cv2.GaussianBlur(up, (5, 5), 0)
        conf = np.clip(wgt_l * 2.0, 0.0, 1.0)[..., None]
        own = img_l / np.maximum(wgt_l, 1e-6)[..., None]
        filled = own * conf + up * (1.0 - conf)
    return filled


def _mirrored_detail(image: np.ndarray, hole: np.ndarray, depth: float | None = None) -> np.ndarray:
    """High-pass texture for hole pixels: the detail of the background pixel mirrored across the
    nearest border point (falling back to the border point itself when the mirror is in the hole).
    With ``depth``, only hole pixels that close to the border get texture (the rest stay smooth)."""
    h, w = hole.shape
    dist, labels = cv2.distanceTransformWithLabels(hole, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    # OpenCV numbers the zero (known) pixels in row-major order: label k is the k-th of them.
    known = np.flatnonzero(hole.ravel() == 0)
    textured = hole > 0 if depth is None else (hole > 0) & (dist <= depth)
    inside = np.nonzero(textured)
    nearest = known[np.clip(labels[inside] - 1, 0, len(known) - 1)]
    ny, nx = np.divmod(nearest, w)
    my = np.clip(2 * ny - inside[0], 0, h - 1)
    mx = np.clip(2 * nx - inside[1], 0, w - 1)
    in_hole = hole[my, mx] > 0
    my[in_hole], mx[in_hole] = ny[in_hole], nx[in_hole]
    flt = image.astype(np.float32)
    detail = flt - cv2.GaussianBlur(flt, (0, 0), 2.0)
    # Texture, not structure: strong edges (an object's outline) would be mirrored into ghosts, so
    # the detail is clipped to the background's typical amplitude and fades deep inside the hole.
    # (The median of every 7th known sample: the same figure, a fraction of the sorting.)
    typical = 2.0 * float(np.median(np.abs(detail.reshape(-1, 3)[known[::7]]))) + 1.0
    fade = np.exp(-dist[inside] / (0.12 * min(h, w)))[:, None]
    out = np.zeros((h, w, 3), np.float32)
    out[inside] = np.clip(detail[my, mx], -typical, typical) * (0.35 + 0.65 * fade)
    return out


def clean_plate(
    image: np.ndarray,
    mask: np.ndarray,
    seed: int = 0,
    grow: float = 0.02,
    detail_depth: float | None = None,
) -> np.ndarray:
    """The background with the subject (``mask``, bool HxW) removed and filled.

    The mask is dilated by ``grow`` of the image's short side so no subject halo survives. The fill's
    colours (low frequencies) come from a push-pull pyramid at analysis resolution; its texture (high
    frequencies) is the surrounding background's own, mirrored across the hole's border, so the fill
    continues the grain and structure around it instead of reading as a smear. ``detail_depth``
    (px) limits that texture to the band of the hole that close to its border (0: no texture, for a
    caller that smooths the fill anyway).
    """
    h, w = image.shape[:2]
    scale = min(1.0, ANALYSIS_LONG_SIDE / max(h, w))
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    radius = max(2, int(min(h, w) * grow))
    hole = cv2.dilate(
        mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    )
    small = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA)
    hole_small = cv2.resize(hole, (sw, sh), interpolation=cv2.INTER_NEAREST) > 0
    hole_small = cv2.dilate(hole_small.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    if hole_small.all():
        return np.full_like(image, int(np.median(image)))
    if not hole.any():
        return image.copy()
    fill = _push_pull(small, ~hole_small)
    # Only the hole and the feather's reach around it change: the rest is computed in that box.
    sigma = max(1.0, radius / 2.0)
    bx, by, bw, bh = cv2.boundingRect(hole)
    reach = int(np.ceil(4 * sigma)) + 2
    x0, y0, x1, y1 = max(0, bx - reach), max(0, by - reach), min(w, bx + bw + reach), min(h, by + bh + reach)
    # The fill at full resolution over the box: the small fill sampled where a full-size resize
    # would sample it (it is smooth, so bilinear is enough).
    fx, fy = sw / w, sh / h
    to_small = np.array([[fx, 0.0, (x0 + 0.5) * fx - 0.5], [0.0, fy, (y0 + 0.5) * fy - 0.5]])
    fill_box = cv2.warpAffine(
        fill,
        to_small,
        (x1 - x0, y1 - y0),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )
    if detail_depth is None or detail_depth > 0:
        fill_box += _mirrored_detail(image, hole, detail_depth)[y0:y1, x0:x1]
    feather = cv2.GaussianBlur(hole[y0:y1, x0:x1].astype(np.float32), (0, 0), sigma)
    feather[mask[y0:y1, x0:x1] > 0] = 1.0  # the subject itself is all fill (the hole holds it)
    photo = image[y0:y1, x0:x1].astype(np.float32)
    # photo + (fill - photo) * feather, rounded: where the feather is ~0 this is the photo exactly
    # (a change under half a level rounds away), so untouched pixels stay bit-exact.
    out = cv2.multiply(cv2.subtract(fill_box, photo), cv2.merge([feather, feather, feather]))
    plate = image.copy()
    plate[y0:y1, x0:x1] = cv2.add(out, photo, dtype=cv2.CV_8U)
    return plate
