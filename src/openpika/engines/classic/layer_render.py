"""Drawing the parallax layers (``parallax.Layer``) frame by frame: each is a plane warped by its
own homography, back to front, premultiplied colour composited "over".

Speed: the background is one warp of the frame and the subject one RGBA warp into its bounding
box only. The background is not drawn where the subject is fully opaque (``_covered_spans``: per
band of rows, the widest covered run, from a coarse opacity grid warped with the subject). Every
warp is ``warpAffine``: a tilted plane's perspective map is drawn as a few tiles, each with the
affine map that matches it to within ``AFFINE_TOLERANCE`` (``warpPerspective`` costs about twice
as much per pixel, measured at 720p on these cores).
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from .camera.trajectory import Pose
from .parallax import SOLID_CELL, Framing, Layer
from .resample import warp_affine_linear

CULL_BAND = 96  # output rows per band; each band skips the widest run of covered cells
MIN_CULL_WIDTH = 64  # px: narrower runs are not worth two extra warp calls
# Source pixels: the most a tile's affine map may stray from the exact perspective map. OpenCV's
# own warps resolve positions to 1/32 px; a seam's step of a tenth of a pixel or two is invisible.
AFFINE_TOLERANCE = 0.1
# Past these counts one warpPerspective is cheaper (measured at 720p): a band of rows costs little
# more than its pixels, a column cuts every row's run and costs ~0.1 ms of its own.
MAX_TILE_ROWS = 16
MAX_TILE_COLUMNS = 3


def _scale(factor: float) -> np.ndarray:
    return np.diag([factor, factor, 1.0])


def _covered_spans(layer: Layer, hom: np.ndarray, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Output rectangles ``(y0, y1, x0, x1)``, one per band of rows at most, that the layer (warped
    by ``hom``) covers with fully opaque pixels."""
    if layer.solid is None:
        return []
    cells_w, cells_h = -(-width // SOLID_CELL), -(-height // SOLID_CELL)
    coarse = _scale(1.0 / SOLID_CELL) @ hom @ _scale(SOLID_CELL)
    warped = cv2.warpPerspective(
        layer.solid, coarse, (cells_w, cells_h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT
    )
    # One cell of erosion absorbs the coarse grid's nearest-cell rounding: every kept cell is inside
    # the layer's opaque area (the layers are drawn near 1:1, so a cell never spans two of the layer's).
    covered = cv2.erode(warped, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
    spans = []
    rows_per_band = CULL_BAND // SOLID_CELL
    for top in range(0, cells_h, rows_per_band):
        band = covered[top : top + rows_per_band].all(axis=0)
        if not band.any():
            continue
        edges = np.flatnonzero(np.diff(np.concatenate([[False], band, [False]]).astype(np.int8)))
        starts, ends = edges[0::2], edges[1::2]
        best = int(np.argmax(ends - starts))
        x0, x1 = int(starts[best]) * SOLID_CELL, min(width, int(ends[best]) * SOLID_CELL)
        if x1 - x0 >= MIN_CULL_WIDTH:
            spans.append((top * SOLID_CELL, min(height, (top + rows_per_band) * SOLID_CELL), x0, x1))
    return spans


def _warp_around(
    image: np.ndarray, hom: np.ndarray, size: tuple[int, int], holes: list[tuple[int, int, int, int]]
) -> np.ndarray:
    """``_warp`` of the whole output except the ``holes`` (left undefined: a later opaque layer
    covers them), drawn as rectangles: full-width runs of rows, and each holed band's two sides."""
    w, h = size
    if not holes:
        return _warp(image, hom, size, cv2.BORDER_REFLECT101)
    out = np.empty((h, w, *image.shape[2:]), image.dtype)
    tiles = _tiles(hom, w, h)
    for y0, y1, x0, x1 in _split((0, 0, w, h), holes)[0]:
        _draw(image, tiles, (x0, y0, x1, y1), out, cv2.BORDER_REFLECT101)
    return out


Span = tuple[int, int, int, int]  # y0, y1, x0, x1 (output rows, then columns)


def _split(box: tuple[int, int, int, int], holes: list[Span]) -> tuple[list[Span], list[Span]]:
    """``box`` (x0, y0, x1, y1) split by ``holes`` (sorted by row, no two sharing rows) into the
    rectangles around them (full-width runs of rows, and each holed band's two sides) and the
    holes' parts inside it."""
    bx0, by0, bx1, by1 = box
    around: list[Span] = []
    inside: list[Span] = []
    row = by0
    for y0, y1, x0, x1 in holes:
        y0, y1, x0, x1 = max(y0, row), min(y1, by1), max(x0, bx0), min(x1, bx1)
        if y1 <= y0 or x1 <= x0:
            continue
        around += [(row, y0, bx0, bx1), (y0, y1, bx0, x0), (y0, y1, x1, bx1)]
        inside.append((y0, y1, x0, x1))
        row = y1
    around.append((row, by1, bx0, bx1))
    return [r for r in around if r[1] > r[0] and r[3] > r[2]], inside


def _over(dst: np.ndarray, rgba: np.ndarray) -> None:
    """Composite premultiplied ``rgba`` over ``dst`` in place: ``dst = rgb + dst * (1 - alpha)``."""
    transparency = cv2.cvtColor(cv2.bitwise_not(cv2.extractChannel(rgba, 3)), cv2.COLOR_GRAY2RGB)
    behind = cv2.multiply(dst, transparency, scale=1.0 / 255.0)
    cv2.add(cv2.cvtColor(rgba, cv2.COLOR_RGBA2RGB), behind, dst=dst)


def _translate(dx: float, dy: float) -> np.ndarray:
    return np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], np.float64)


def affine_inverse_map(hom: np.ndarray, width: int, height: int) -> np.ndarray:
    """The affine map (output -> source) that matches ``hom`` to first order at the frame's centre.

    The turbo tier warps its single plane with this alone: the perspective terms of a camera move
    shift the frame's edges by a pixel or two at most, the same on every frame.
    """
    return _affine_at(np.linalg.inv(hom), (width - 1) / 2.0, (height - 1) / 2.0)


def _affine_at(inverse: np.ndarray, cx: float, cy: float) -> np.ndarray:
    """The 2x3 map (output -> source) matching the perspective map ``inverse`` to first order at
    output point (cx, cy)."""
    return np.array(_affine_terms(inverse.tolist(), cx, cy))


def _affine_terms(inverse: list[list[float]], cx: float, cy: float) -> list[list[float]]:
    """``_affine_at`` in plain floats (it runs for every tile of every frame, where NumPy's
    per-call overhead on 3x3 arrays costs more than the arithmetic)."""
    (n0, n1, n2), (m0, m1, m2), (c0, c1, c2) = inverse
    w = c0 * cx + c1 * cy + c2
    u = (n0 * cx + n1 * cy + n2) / w
    v = (m0 * cx + m1 * cy + m2) / w
    a, b = (n0 - u * c0) / w, (n1 - u * c1) / w
    c, d = (m0 - v * c0) / w, (m1 - v * c1) / w
    return [[a, b, u - (a * cx + b * cy)], [c, d, v - (c * cx + d * cy)]]


def _tiling(inverse: np.ndarray, width: int, height: int) -> tuple[int, int]:
    """The fewest tiles (columns, rows; rows are cheaper) over which per-tile first-order maps stay
    within ``AFFINE_TOLERANCE`` of the perspective map ``inverse`` (output -> source), or
    ``(0, 0)`` when more than ``MAX_TILE_COLUMNS`` x ``MAX_TILE_ROWS`` would be needed.

    For ``u(p) = N p / (c . p)`` and its first-order fit at a tile centre ``q``, the error at
    ``q + d`` is exactly ``-s / (1 + s) * J d`` with ``s = c_xy . d / (c . q)`` and ``J`` the
    Jacobian at ``q``: it is bounded here with the smallest ``c . p`` over the frame (an affine
    function: its extremes are at the corners) and the largest Jacobian entries at the corners
    (where, for the gentle perspective drawn this way, they are largest; the test samples check)."""
    c = inverse[2]
    if abs(c[0]) < 1e-12 and abs(c[1]) < 1e-12:
        return 1, 1
    corners = np.array([[0.0, 0.0, 1.0], [width, 0.0, 1.0], [0.0, height, 1.0], [width, height, 1.0]])
    w = corners @ c
    if np.any(w <= 0):  # the plane crosses the horizon within the frame: keep the exact map
        return 0, 0
    rows = inverse.tolist()
    maps = [_affine_terms(rows, x, y) for x, y in ((0.0, 0.0), (width, 0.0), (0.0, height), (width, height))]
    jx = max(abs(m[r][0]) for m in maps for r in (0, 1))
    jy = max(abs(m[r][1]) for m in maps for r in (0, 1))
    w_min = float(w.min())
    for nx in range(1, MAX_TILE_COLUMNS + 1):
        for ny in range(1, MAX_TILE_ROWS + 1):
            hx, hy = width / nx / 2.0, height / ny / 2.0
            s = (abs(c[0]) * hx + abs(c[1]) * hy) / w_min
            if s < 1.0 and s / (1.0 - s) * (jx * hx + jy * hy) <= AFFINE_TOLERANCE:
                return nx, ny
    return 0, 0


# x0, y0, x1, y1 and the tile's output -> source map: 2x3 (affine) rows, or the exact 3x3 array
Tile = tuple[int, int, int, int, "list[list[float]] | np.ndarray"]


def _tiles(hom: np.ndarray, width: int, height: int) -> list[Tile]:
    """The output split into the fewest tiles whose first-order (affine, 2x3) maps stay within
    ``AFFINE_TOLERANCE`` of the perspective map ``hom`` (source -> output); one for frontal planes.
    Where more tiles would be needed (``_tiling``), one tile keeps the exact 3x3 map."""
    inverse = np.linalg.inv(hom)
    inverse /= inverse[2, 2]
    nx, ny = _tiling(inverse, width, height)
    if nx == 0:
        return [(0, 0, width, height, inverse)]
    xs = np.linspace(0, width, nx + 1).round().astype(int)
    ys = np.linspace(0, height, ny + 1).round().astype(int)
    rows = inverse.tolist()
    return [
        (x0, y0, x1, y1, _affine_terms(rows, (x0 + x1 - 1) / 2.0, (y0 + y1 - 1) / 2.0))
        for y0, y1 in itertools.pairwise(ys.tolist())
        for x0, x1 in itertools.pairwise(xs.tolist())
        if x1 > x0 and y1 > y0
    ]


def _draw(
    image: np.ndarray,
    tiles: list[Tile],
    rect: tuple[int, int, int, int],
    out: np.ndarray,
    border: int,
    value: tuple[int, ...] = (0, 0, 0, 0),
) -> None:
    """Warp ``image`` into ``out`` over ``rect`` (x0, y0, x1, y1, output pixels), tile by tile."""
    rx0, ry0, rx1, ry1 = rect
    for tx0, ty0, tx1, ty1, tile_map in tiles:
        x0, y0, x1, y1 = max(rx0, tx0), max(ry0, ty0), min(rx1, tx1), min(ry1, ty1)
        if x1 <= x0 or y1 <= y0:
            continue
        # The sub-rectangle's own origin.
        if isinstance(tile_map, list):
            (a, b, c), (d, e, f) = tile_map
            local = np.array([[a, b, a * x0 + b * y0 + c], [d, e, d * x0 + e * y0 + f]])
        else:
            local = tile_map @ _translate(x0, y0)
        warp = cv2.warpAffine if len(local) == 2 else cv2.warpPerspective
        warp(
            image,
            local,
            (x1 - x0, y1 - y0),
            dst=out[y0:y1, x0:x1],
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=border,
            borderValue=value,
        )


def _warp(
    image: np.ndarray,
    hom: np.ndarray,
    size: tuple[int, int],
    border: int,
    value: tuple[int, ...] = (0, 0, 0, 0),
) -> np.ndarray:
    """``warpPerspective`` drawn as ``warpAffine`` tiles (``_tiles``): ``warpAffine`` costs about
    half as much per pixel, and the seams between tiles step by a tenth of a pixel at most."""
    w, h = size
    out = np.empty((h, w, *image.shape[2:]), image.dtype)
    _draw(image, _tiles(hom, w, h), (0, 0, w, h), out, border, value)
    return out


def _warp_layer(layer: Layer, hom: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A layer with alpha warped by ``hom`` (layer -> output) into an output box of ``size``,
    transparent outside it: separably (``resample``) when the map has no perspective terms."""
    inverse = np.linalg.inv(hom)
    if layer.padded is None or abs(inverse[2, 0]) > 1e-12 or abs(inverse[2, 1]) > 1e-12:
        return _warp(layer.rgb, hom, size, cv2.BORDER_CONSTANT)
    out = np.empty((size[1], size[0], layer.rgb.shape[2]), layer.rgb.dtype)
    warp_affine_linear(layer.padded, inverse[:2] / inverse[2, 2], out)
    return out


def _disjoint(holes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Holes sorted by row with no two sharing rows (with several opaque layers, the first wins)."""
    kept: list[tuple[int, int, int, int]] = []
    for hole in sorted(holes):
        if not kept or hole[0] >= kept[-1][1]:
            kept.append(hole)
    return kept


def composite(layers: list[Layer], pose: Pose, framing: Framing, *, affine: bool = False) -> np.ndarray:
    """Render one frame: the first layer fills the frame, later ones are blended over it."""
    w, h = framing.width, framing.height
    first = layers[0]
    first_hom = framing.homography(pose, first.normal) @ _translate(*first.offset)
    if affine:
        frame: np.ndarray = cv2.warpAffine(
            first.rgb,
            affine_inverse_map(first_hom, w, h),
            (w, h),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REFLECT101,
        )
    homs = [framing.homography(pose, layer.normal) @ _translate(*layer.offset) for layer in layers[1:]]
    spans: list[list[Span]] = [[] for _ in layers[1:]]
    if not affine:
        spans = [_covered_spans(layer, hom, w, h) for layer, hom in zip(layers[1:], homs, strict=True)]
        frame = _warp_around(first.rgb, first_hom, (w, h), _disjoint([s for own in spans for s in own]))
    for layer, hom, opaque in zip(layers[1:], homs, spans, strict=True):
        lh, lw = layer.rgb.shape[:2]
        corners = np.array([[[0, 0], [lw, 0], [0, lh], [lw, lh]]], np.float64)
        box = cv2.perspectiveTransform(corners, hom)[0]
        bx0, by0 = max(0, int(np.floor(box[:, 0].min()))), max(0, int(np.floor(box[:, 1].min())))
        bx1, by1 = min(w, int(np.ceil(box[:, 0].max())) + 1), min(h, int(np.ceil(box[:, 1].max())) + 1)
        if bx1 <= bx0 or by1 <= by0:
            continue
        warped = _warp_layer(layer, _translate(-bx0, -by0) @ hom, (bx1 - bx0, by1 - by0))
        _over_around(frame, (bx0, by0, bx1, by1), warped, opaque)
    return frame


def _over_around(
    frame: np.ndarray, box: tuple[int, int, int, int], rgba: np.ndarray, opaque: list[Span]
) -> None:
    """``_over`` of ``rgba`` onto ``frame``'s ``box`` (x0, y0, x1, y1), except that where the layer
    is known to be opaque (``opaque``, sorted by row) its colour is copied instead of blended."""
    bx0, by0 = box[:2]
    around, inside = _split(box, opaque)
    for y0, y1, x0, x1 in around:
        _over(frame[y0:y1, x0:x1], rgba[y0 - by0 : y1 - by0, x0 - bx0 : x1 - bx0])
    for y0, y1, x0, x1 in inside:
        colour = rgba[y0 - by0 : y1 - by0, x0 - bx0 : x1 - bx0]
        cv2.cvtColor(colour, cv2.COLOR_RGBA2RGB, dst=frame[y0:y1, x0:x1])
