"""Bilinear affine warps, with a separable fast path for scale-and-translate maps.

Most camera moves the turbo tier draws (dolly, zoom, pan, truck, pedestal) map each output frame
to the source by a scale and a translation only. ``cv2.resize`` resamples such a map separably and
costs about half of ``cv2.warpAffine``'s per-pixel coordinate arithmetic and gather on a 720p
plane, but it only samples a fixed grid: output pixel ``j`` of a resized region that starts at
source pixel ``s`` reads source position ``s + (j + 0.5) * scale - 0.5``. The region's start is a
whole pixel, so on its own the grid cannot be placed on the fractional positions a smooth move
needs (that is zoompan's judder). Resizing a few extra leading pixels and dropping them adds the
freedom it lacks: dropping ``k`` pixels moves the grid by ``k * scale``, whose fractional part
takes many values over ``k = 0..MAX_MARGIN``. The first ``k`` that lands within
``POSITION_TOLERANCE`` of the wanted position is used; when none does (a scale close to a simple
fraction), or the map rotates or shears, ``cv2.warpAffine`` draws the plane instead. Both sample
the same bilinear kernel at the same positions, to within the tolerance and fixed-point rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

POSITION_TOLERANCE = 1.0 / 32.0  # source pixels; warpAffine itself rounds positions to 1/32 px
MAX_MARGIN = 64  # extra leading output pixels tried per axis (at most ~9 % more pixels at 720p)
_TRAIL = 4  # mirrored pixels after the last row and column: the region may reach a pixel past the edge


@dataclass(frozen=True)
class PaddedPlane:
    """A source plane (one channel or interleaved) with ``lead`` pixels before its first row and
    column (the room the dropped leading pixels need) and a few after its last, made by ``border``
    (mirrored, or zeros: a transparent layer's outside); maps keep the plane's own coordinates."""

    pixels: np.ndarray
    lead: int
    border: int = cv2.BORDER_REFLECT101

    @classmethod
    def of(
        cls, plane: np.ndarray, max_scale: float = 1.5, border: int = cv2.BORDER_REFLECT101
    ) -> PaddedPlane:
        """Pad for maps of up to ``max_scale`` source pixels per output pixel (larger scales try
        fewer margins, and fall back to ``warpAffine`` sooner)."""
        lead = math.ceil((MAX_MARGIN + 1) * max_scale) + 1
        pixels = cv2.copyMakeBorder(plane, lead, _TRAIL, lead, _TRAIL, border, value=0)
        return cls(pixels, lead, border)


def _axis_grid(scale: float, offset: float, out_len: int, src_len: int) -> tuple[int, int, int] | None:
    """(region start, region length, leading pixels to drop) for one axis of ``src_len`` pixels,
    or None.

    Wanted: output pixel ``x`` reads source position ``scale * x + offset``. Resizing the region
    ``[start, start + length)`` by ``1 / scale`` and dropping ``k`` leading pixels reads
    ``start + (x + k + 0.5) * scale - 0.5``, so ``start`` must be a whole number close to
    ``offset - (k + 0.5) * scale + 0.5``. (Plain floats, first ``k`` first: it runs six times a
    frame, and the usable ``k`` is usually small.)
    """
    if not 0.05 < scale < 20.0:
        return None
    for k in range(MAX_MARGIN + 1):
        start = offset - (k + 0.5) * scale + 0.5
        whole = round(start)
        # The first kept sample must not sit before the region's first pixel: cv2.resize clamps
        # there (it repeats the edge pixel) where the plane has a real neighbour. Only a magnifying
        # map (scale < 1) with no dropped pixels reaches back that far.
        if abs(start - whole) > POSITION_TOLERANCE or whole < 0 or (k + 0.5) * scale < 0.5:
            continue
        # cv2.resize makes round(length / scale) pixels, of which k + out_len are needed; and the
        # region must hold the bilinear neighbour of the last sample.
        last_sample = whole + (k + out_len - 0.5) * scale - 0.5
        length = max(math.ceil((k + out_len - 0.5) * scale - 1e-9), math.floor(last_sample) + 2 - whole)
        if whole + length <= src_len:
            return whole, length, k
    return None


def warp_affine_linear(source: PaddedPlane, matrix: np.ndarray, dst: np.ndarray) -> None:
    """``dst`` = the source plane sampled bilinearly at ``matrix @ (x, y, 1)`` (an output -> source
    2x3 map in the unpadded plane's pixels), continued past its edges by the plane's border."""
    height, width = dst.shape[:2]
    padded = matrix.copy()
    padded[:, 2] += source.lead
    src = source.pixels
    # Shear or rotation smaller than this moves no sample by more than a fraction of the tolerance.
    if abs(matrix[0, 1]) * height + abs(matrix[1, 0]) * width < POSITION_TOLERANCE / 8:
        cols = _axis_grid(float(padded[0, 0]), float(padded[0, 2]), width, src.shape[1])
        rows = _axis_grid(float(padded[1, 1]), float(padded[1, 2]), height, src.shape[0])
        if cols is not None and rows is not None:
            (x0, region_w, kx), (y0, region_h, ky) = cols, rows
            region = src[y0 : y0 + region_h, x0 : x0 + region_w]
            fx, fy = 1.0 / float(padded[0, 0]), 1.0 / float(padded[1, 1])
            resized = cv2.resize(region, (0, 0), fx=fx, fy=fy, interpolation=cv2.INTER_LINEAR)
            if resized.shape[0] >= ky + height and resized.shape[1] >= kx + width:
                dst[...] = resized[ky : ky + height, kx : kx + width]
                return
    cv2.warpAffine(
        src,
        padded,
        (width, height),
        dst=dst,
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=source.border,
    )
