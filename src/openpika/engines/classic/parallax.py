"""Layered rendering: each depth layer is a plane warped by its own homography, back to front.

Disocclusion: when the camera moves, background the subject used to hide comes into view. The
background layer is the photo itself wherever the subject did not cover it (so the first frame is
the photo, with no halo), and inside the subject's area, widened a few pixels to eat the matte's
mixed edge, ``subject.clean_plate``'s push-pull fill from the surrounding background, smoothed: what
appears is a soft continuation of the background, never a black hole or a rubber-sheet smear. The
subject layer's colours are *decontaminated*: its soft edge takes the colour of the subject just
inside it, so it carries no fringe of the old background when it moves over the new one. Moves are
kept within what the fill supports: ``reveal_fraction`` measures how much background a move
uncovers and the caller scales the move down past ``MAX_REVEAL``.

Rendering the layers frame by frame is ``layer_render.py``'s job; this module prepares them once
(matte, plate, decontaminated colours, coarse opacity grid) and fits the shot to what they support.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass

import cv2
import numpy as np

from .camera.trajectory import Pose, intrinsics, plane_homographies, plane_homography, pose_maps
from .plate import clean_plate
from .resample import PaddedPlane

MAX_OVERSCAN = 1.3  # the widest crop margin a move may need before it is scaled down
MAX_REVEAL = 0.03  # uncovered background, as a fraction of the frame's short side
# The plate is filled where the subject (any alpha) was, plus this much of the short side: enough
# to eat the matte's mixed edge pixels, small enough that the photo itself is kept right up to the
# subject (a wide hole would show its fill as a halo even before the camera moves).
PLATE_GROW = 0.006


@dataclass
class Layer:
    rgb: np.ndarray  # (h, w, 3) uint8, or (h, w, 4) RGBA for layers with alpha
    normal: np.ndarray  # plane n . X = 1
    offset: tuple[int, int] = (0, 0)  # where the layer's (0, 0) sits in the source image
    # Where the layer is fully opaque, on a coarse grid of SOLID_CELL pixels (255 = every pixel of
    # the cell, and SOLID_MARGIN around it, is opaque): nothing behind it needs drawing there.
    solid: np.ndarray | None = None
    # The layer zero-padded for ``resample``'s separable warp, which draws it whenever its plane
    # faces the camera (no perspective terms: a dolly, zoom or pedestal).
    padded: PaddedPlane | None = None


@dataclass
class Framing:
    k_src: np.ndarray  # source pixel -> normalised camera ray
    k_out: np.ndarray  # normalised camera ray -> output pixel at the start pose (zoom 1)
    width: int
    height: int

    def homography(self, pose: Pose, normal: np.ndarray) -> np.ndarray:
        return plane_homography(pose, normal, self.k_src, self.k_out)


def source_intrinsics(width: int, height: int) -> np.ndarray:
    """A ~50 degree field of view across the long side: a normal lens, neither wide nor tele."""
    return intrinsics(1.1 * max(width, height), (width - 1) / 2.0, (height - 1) / 2.0)


def output_framing(src_w: int, src_h: int, out_w: int, out_h: int, overscan: float) -> Framing:
    k_src = source_intrinsics(src_w, src_h)
    cover = max(out_w / src_w, out_h / src_h) * overscan
    k_out = intrinsics(k_src[0, 0] * cover, (out_w - 1) / 2.0, (out_h - 1) / 2.0)
    return Framing(k_src, k_out, out_w, out_h)


def _frames_inside_source(homs: np.ndarray, out_w: int, out_h: int, src_w: int, src_h: int) -> bool:
    """Whether every output frame of the source -> output maps ``homs`` (N, 3, 3) sees only source
    pixels (its corners, mapped back, lie inside the image)."""
    corners = np.array(
        [[0, 0, 1], [out_w - 1, 0, 1], [0, out_h - 1, 1], [out_w - 1, out_h - 1, 1]], np.float64
    )
    back = np.linalg.inv(homs) @ corners.T
    w = back[:, 2]
    if np.any(w <= 1e-12):  # a corner's ray misses the plane: it sees no source at all
        return False
    x, y = back[:, 0] / w, back[:, 1] / w
    return bool(
        np.all(x >= -0.5) and np.all(y >= -0.5) and np.all(x <= src_w - 0.5) and np.all(y <= src_h - 0.5)
    )


def required_overscan(
    poses: list[Pose], normals: list[np.ndarray], src_w: int, src_h: int, out_w: int, out_h: int
) -> float:
    """The smallest crop margin for which every frame of every plane stays inside the image.

    Checking the subject's plane too keeps the subject's cut edges (where it leaves the photo, as a
    bust leaves the bottom edge) out of view, so it never shows a gap beneath it.
    """

    maps = np.concatenate([pose_maps(poses, n, source_intrinsics(src_w, src_h)) for n in normals])

    def fits(overscan: float) -> bool:
        framing = output_framing(src_w, src_h, out_w, out_h, overscan)
        return _frames_inside_source(framing.k_out @ maps, out_w, out_h, src_w, src_h)

    lo, hi = 1.0, 2.5
    if fits(lo):
        return lo
    if not fits(hi):
        return hi
    for _ in range(12):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if fits(mid) else (mid, hi)
    return hi


def _apply(homs: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points (1, K, 2) mapped by each of ``homs`` (N, 3, 3): (N, K, 2)."""
    ones = np.ones((points.shape[1], 1))
    mapped = homs @ np.hstack([points[0], ones]).T
    return np.transpose(mapped[:, :2] / mapped[:, 2:3], (0, 2, 1))


def reveal_fraction(
    poses: list[Pose], framing: Framing, background: np.ndarray, subject: Layer | None
) -> float:
    """How much hidden background the move uncovers: the largest inward slip of the subject's
    outline over the background, as a fraction of the frame's short side. (Outward slip covers
    background instead, so a dolly in reveals nothing.)"""
    if subject is None:
        return 0.0
    h, w = subject.rgb.shape[:2]
    x0, y0 = subject.offset
    outline = np.array(
        [
            [x0 + w * fx, y0 + h * fy]
            for fx in (0.0, 0.5, 1.0)
            for fy in (0.0, 0.5, 1.0)
            if (fx, fy) != (0.5, 0.5)
        ],
        np.float64,
    )[None]
    centre = np.array([[[x0 + w / 2.0, y0 + h / 2.0]]])
    on_subject, centres, on_background = (
        _apply(plane_homographies(poses, normal, framing.k_src, framing.k_out), points)
        for normal, points in ((subject.normal, outline), (subject.normal, centre), (background, outline))
    )
    outward = on_subject - centres
    outward /= np.maximum(np.linalg.norm(outward, axis=2, keepdims=True), 1e-9)
    inward_slip = -((on_subject - on_background) * outward).sum(axis=2)
    worst = max(0.0, float(inward_slip.max()))
    return worst / min(framing.width, framing.height)


DECONTAMINATION_WINDOWS = (5, 13, 37, 101)  # px; small windows first: the nearest subject colour wins


def _decontaminate(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Give the matte's soft edge the colour of the subject inside it: the mean colour of the
    solid subject pixels (alpha >= 0.92) in the smallest window around it that holds some. (Only
    pixels that keep some alpha once it is 8-bit: the layer is premultiplied, so the colour of the
    rest never shows.) Window sums come from one integral image, so each window size costs four
    look-ups per edge pixel instead of a box filter over the whole layer."""
    out = rgb.copy()
    ys, xs = np.nonzero((alpha >= 0.5 / 255) & (alpha < 0.92))
    if ys.size == 0:
        return out
    solid = (alpha >= 0.92).astype(np.float32)
    weighted = cv2.multiply(rgb.astype(np.float32), cv2.merge([solid, solid, solid]))
    pad = DECONTAMINATION_WINDOWS[-1] // 2 + 1  # mirrored past the edges, as cv2.blur's border
    stack = cv2.copyMakeBorder(cv2.merge([weighted, solid]), pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    sums = cv2.integral(stack, sdepth=cv2.CV_64F)
    ys, xs = ys + pad, xs + pad
    left = np.arange(ys.size)
    for size in DECONTAMINATION_WINDOWS:
        r = size // 2
        y, x = ys[left], xs[left]
        box = (
            sums[y + r + 1, x + r + 1] - sums[y - r, x + r + 1] - sums[y + r + 1, x - r] + sums[y - r, x - r]
        )
        take = box[:, 3] > 0.02 * size * size  # some solid subject in the window
        picked = left[take]
        out[ys[picked] - pad, xs[picked] - pad] = np.clip(box[take, :3] / box[take, 3:], 0, 255).astype(
            np.uint8
        )
        left = left[~take]
        if left.size == 0:
            break
    return out


def _background_plate(image: np.ndarray, alpha: np.ndarray, seed: int) -> np.ndarray:
    """The photo with the subject removed: filled (``clean_plate``) where the subject was, then
    smoothed there. Only a thin band of the fill is ever revealed, right beside the subject; a
    smooth continuation of the surrounding colours reads as out-of-focus background there, where
    synthetic grain reads as noise crawling along the subject's edge. (So the plate takes no
    mirrored texture: the smoothing below left 0.4-0.8 levels of it on average, 6 at most, in the
    band beside the subject, measured on six photos.)"""
    h, w = alpha.shape
    covered = alpha > 0.02
    grow = max(2, int(min(h, w) * PLATE_GROW))
    plate = clean_plate(image, covered, seed=seed, grow=PLATE_GROW, detail_depth=0)
    hole = cv2.dilate(
        covered.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
    )
    sigma = max(1.5, min(h, w) / 300)
    if not hole.any():
        return plate
    # Only the hole and a blur's reach around it change: work in that box, not the whole photo.
    pad = int(np.ceil(4 * sigma)) + 4
    bx, by, bw, bh = cv2.boundingRect(hole)
    y0, y1 = max(0, by - pad), min(h, by + bh + pad)
    x0, x1 = max(0, bx - pad), min(w, bx + bw + pad)
    box = plate[y0:y1, x0:x1]
    weight = np.clip(cv2.GaussianBlur(hole[y0:y1, x0:x1].astype(np.float32) * 1.3, (0, 0), 1.5), 0, 1)
    smooth = cv2.GaussianBlur(cv2.medianBlur(box, 5), (0, 0), sigma)
    # box + (smooth - box) * weight, in OpenCV's saturating arithmetic (weight 0: box unchanged).
    step = cv2.subtract(smooth, box, dtype=cv2.CV_16S)
    shift = cv2.multiply(step, cv2.merge([weight, weight, weight]), dtype=cv2.CV_16S)
    plate[y0:y1, x0:x1] = cv2.add(box, shift, dtype=cv2.CV_8U)
    return plate


def _fill_enclosed(alpha: np.ndarray) -> np.ndarray:
    """Make holes the matte encloses part of the subject: a hole would show the background plate's
    fill, moving with the background, through the middle of the subject."""
    outside = (alpha < 0.5).astype(np.uint8)
    h, w = alpha.shape
    flooded = np.pad(outside, 1, constant_values=1)
    cv2.floodFill(flooded, np.zeros((h + 4, w + 4), np.uint8), (0, 0), 2)
    enclosed = flooded[1:-1, 1:-1] == 1
    if not enclosed.any():
        return alpha
    filled = alpha.copy()
    filled[enclosed] = 1.0
    return filled


def _unmix_edge(plate: np.ndarray, image: np.ndarray, subject: np.ndarray, alpha: np.ndarray) -> None:
    """Under the matte's soft edge, give the plate the background colour the photo implies.

    A soft-edge pixel is ``I = a F + (1 - a) B``; with ``F`` the subject's decontaminated colour,
    ``B = (I - a F) / (1 - a)``. The plate takes that ``B`` where ``a`` is small enough for it to be
    stable, so at rest the two layers recompose the photo exactly (no halo of fill around the
    subject), and once they move apart the edge shows background colour, not a subject fringe.
    """
    edge = (alpha > 0.02) & (alpha < 0.85)
    if not edge.any():
        return
    a = alpha[edge][:, None]
    implied = (image[edge].astype(np.float32) - a * subject[edge]) / (1.0 - a)
    trust = np.clip((0.85 - a) / 0.3, 0.0, 1.0)
    mixed = implied * trust + plate[edge].astype(np.float32) * (1.0 - trust)
    plate[edge] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


@dataclass
class _SubjectPixels:
    """The subject layer's pixels: premultiplied RGBA over its box, and what the plate needs."""

    offset: tuple[int, int]
    rgba: np.ndarray
    colour: np.ndarray  # decontaminated, not premultiplied
    alpha: np.ndarray  # float, over the box
    solid: np.ndarray
    padded: PaddedPlane


def _subject_pixels(image: np.ndarray, alpha: np.ndarray) -> _SubjectPixels:
    ys, xs = np.nonzero(alpha > 0.01)
    pad = 24
    h, w = alpha.shape
    x0, y0 = max(0, int(xs.min()) - pad), max(0, int(ys.min()) - pad)
    x1, y1 = min(w, int(xs.max()) + pad + 1), min(h, int(ys.max()) + pad + 1)
    crop_alpha = alpha[y0:y1, x0:x1]
    crop_rgb = _decontaminate(image[y0:y1, x0:x1], crop_alpha)
    # Premultiplied: interpolating premultiplied colour is what keeps a warped soft edge from
    # darkening, and it makes the per-frame "over" two cheap integer operations.
    alpha8 = np.round(crop_alpha * 255).astype(np.uint8)
    premultiplied = cv2.multiply(crop_rgb, cv2.merge([alpha8, alpha8, alpha8]), scale=1.0 / 255.0)
    rgba = cv2.merge([premultiplied, alpha8])
    padded = PaddedPlane.of(rgba, border=cv2.BORDER_CONSTANT)
    return _SubjectPixels((x0, y0), rgba, crop_rgb, crop_alpha, _solid_cells(alpha8), padded)


@dataclass
class LayerJob:
    """The layers' pixel work for one matte (the clean plate and the decontaminated subject),
    running on helper threads from the moment the matte is known, so that it overlaps whatever the
    caller still has to decide (the depth cues; whether the subject is kept at all)."""

    image: np.ndarray
    plate: Future[np.ndarray]
    subject: Future[_SubjectPixels]

    def layers(
        self,
        background_normal: np.ndarray,
        subject_normal: np.ndarray,
        check: Callable[[], None] = lambda: None,
    ) -> tuple[Layer, Layer]:
        """The background layer (the clean plate) and the subject layer, once both are done."""
        pixels = self.subject.result()
        plate = self.plate.result()
        check()
        x0, y0 = pixels.offset
        h, w = pixels.alpha.shape
        _unmix_edge(
            plate[y0 : y0 + h, x0 : x0 + w], self.image[y0 : y0 + h, x0 : x0 + w], pixels.colour, pixels.alpha
        )
        subject = Layer(pixels.rgba, subject_normal, pixels.offset, pixels.solid, pixels.padded)
        return Layer(plate, background_normal), subject


def start_layers(pool: Executor, image: np.ndarray, alpha: np.ndarray, seed: int) -> LayerJob:
    """Begin the layers' pixel work for ``alpha`` (the subject's matte) on ``pool``'s threads
    (two keep both cores busy: OpenCV and NumPy release the GIL in their big loops)."""
    alpha = _fill_enclosed(alpha)
    return LayerJob(
        image, pool.submit(_background_plate, image, alpha, seed), pool.submit(_subject_pixels, image, alpha)
    )


# Occlusion culling (``layer_render``): the background is not drawn where an opaque subject covers it
# (a large subject hides a third of the frame or more, and the background's warp is the costliest step).
SOLID_CELL = 8  # px per cell of the coarse opacity grid
SOLID_MARGIN = 2  # px: a bilinear sample near the opaque edge must not reach a soft pixel


def _solid_cells(alpha8: np.ndarray) -> np.ndarray:
    opaque = (alpha8 == 255).astype(np.uint8) * 255
    eroded = cv2.erode(opaque, np.ones((2 * SOLID_MARGIN + 1,) * 2, np.uint8))
    h, w = alpha8.shape
    size = (-(-w // SOLID_CELL), -(-h // SOLID_CELL))
    padded = np.zeros((size[1] * SOLID_CELL, size[0] * SOLID_CELL), np.uint8)
    padded[:h, :w] = eroded
    cells = padded.reshape(size[1], SOLID_CELL, size[0], SOLID_CELL).min(axis=(1, 3))
    return np.ascontiguousarray(cells)
