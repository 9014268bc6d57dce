"""Bidirectional dense optical flow between two keyframes, global motion first, residual second.

Flow is computed once per keyframe pair at a reduced working resolution (measured: DIS at half
resolution with the finest pyramid level on is both faster and no worse for interpolation than DIS
MEDIUM at full resolution), then every intermediate frame reuses it.

Coarse to fine: a homography (``alignment``) absorbs the camera's global motion, DIS's own image
pyramid then finds the residual flow, from coarse to fine. Luma is photometrically normalised first.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .alignment import GlobalMotion, estimate_global_motion, homography_displacement
from .photometric import luma_pair

# Long side of the working resolution for flow: 720p keyframes are analysed at 640x360.
WORKING_LONG_SIDE = 640
# A homography that moves the frame by less than this (working pixels) is left to the flow alone.
_MIN_GLOBAL_DISPLACEMENT = 1.5
# Window (working pixels) over which a motion layer must explain the image to be chosen.
_LAYER_WINDOW = 15
# A secondary layer replaces the dominant one where its error is below PREFERENCE * error - BIAS.
# Filling occlusions, a secondary layer must be clearly better still: a wrong pick drags background along.
_FILL_PREFERENCE = 0.5
# Secondary motion layers are kept only if they cut the match error to this share of without.
_LAYER_GAIN = 0.9
_OCCLUDED_ERROR = 2.0
_LAYER_BIAS = -2.0


@dataclass(frozen=True)
class PairFlow:
    """Flows at working resolution: ``forward[y, x]`` moves pixel (x, y) of A to its place in B."""

    forward: np.ndarray  # (h, w, 2) float32, A -> B
    backward: np.ndarray  # (h, w, 2) float32, B -> A
    global_motion: GlobalMotion
    used_global: bool
    layers: tuple[np.ndarray, ...]  # the motion layers (A -> B matrices) that seeded the flow
    gray_a: np.ndarray  # the normalised luma the flow was computed on
    gray_b: np.ndarray
    # The keyframes (RGB) at working resolution, kept for what else is measured there.
    small_a: np.ndarray | None = None
    small_b: np.ndarray | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the working resolution."""
        return self.forward.shape[1], self.forward.shape[0]


def working_size(width: int, height: int, long_side: int | None = None) -> tuple[int, int]:
    long_side = long_side or WORKING_LONG_SIDE
    scale = min(1.0, long_side / max(width, height))
    return max(8, round(width * scale)), max(8, round(height * scale))


def _dis() -> cv2.DISOpticalFlow:
    # Measured on the benchmark: MEDIUM at working resolution beats finer custom settings (finest
    # scale 0, stride 3) per millisecond; the residual after global alignment is small anyway.
    return cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)


def identity_grid(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    return np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))


def _transformed(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points (h, w, 2 float32) moved by the homography: cv2.perspectiveTransform, a quarter of
    the time of the same arithmetic in NumPy (within 1e-4 px of it at working resolution)."""
    return cv2.perspectiveTransform(points, np.asarray(matrix, np.float64))


def layer_flow(matrix: np.ndarray, width: int, height: int) -> np.ndarray:
    grid = np.dstack(identity_grid(width, height))
    return _transformed(matrix, grid) - grid


def initial_flow(
    src: np.ndarray,
    dst: np.ndarray,
    layers: list[np.ndarray],
    default: np.ndarray | None = None,
    preference: float = 0.8,
) -> np.ndarray | None:
    """A dense starting flow src -> dst: zero, except where one of the motion layers explains the
    local neighbourhood clearly better (smaller photometric error); None without layers.

    This is how large displacements get into DIS: its patch search only looks near its starting
    point, so an object that moved across the frame must be given a start near its true motion.
    """
    if not layers:
        return None
    h, w = src.shape
    gx, gy = identity_grid(w, h)
    src_f = src.astype(np.float32)

    def cost(flow: np.ndarray | None) -> np.ndarray:
        warped = dst if flow is None else cv2.remap(dst, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR,
                                                    borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        return cv2.blur(np.abs(src_f - warped.astype(np.float32)), (_LAYER_WINDOW, _LAYER_WINDOW))

    init = np.zeros((h, w, 2), np.float32) if default is None else default.copy()
    best = cost(default) * preference + _LAYER_BIAS
    for matrix in layers:
        flow = layer_flow(matrix, w, h)
        candidate = cost(flow)
        better = candidate < best
        init[better] = flow[better]
        best = np.where(better, candidate, best)
    return init


def _flow(dis: cv2.DISOpticalFlow, src: np.ndarray, dst: np.ndarray, layers: list[np.ndarray]) -> np.ndarray:
    """Flow src -> dst. With motion layers (src -> dst matrices, dominant first): dst is aligned to
    src by the dominant one, DIS finds the residual (started from the other layers where they fit
    better), and the two compose."""
    if not layers:
        return dis.calc(src, dst, None)  # type: ignore[call-overload]
    h, w = src.shape
    dominant = layers[0]
    aligned = cv2.warpPerspective(dst, dominant, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                  borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    inverse = np.linalg.inv(dominant)
    # OpenCV's DIS starts from the flow passed in when it has the image's size (CV_32FC2).
    init = initial_flow(src, aligned, [inverse @ m for m in layers[1:]])
    residual = dis.calc(src, aligned, init)  # type: ignore[arg-type]
    grid = np.dstack(identity_grid(w, h))
    return _transformed(dominant, grid + residual) - grid


def bidirectional_flow(image_a: np.ndarray, image_b: np.ndarray, long_side: int | None = None) -> PairFlow:
    """Forward and backward flow between two RGB images of the same size, at working resolution."""
    h, w = image_a.shape[:2]
    size = working_size(w, h, long_side)
    small_a = cv2.resize(image_a, size, interpolation=cv2.INTER_AREA) if size != (w, h) else image_a
    small_b = cv2.resize(image_b, size, interpolation=cv2.INTER_AREA) if size != (w, h) else image_b
    gray_a, gray_b = luma_pair(small_a, small_b)
    motion = estimate_global_motion(gray_a, gray_b)
    layers = list(motion.layers)
    moving = any(homography_displacement(m, gray_a.shape) >= _MIN_GLOBAL_DISPLACEMENT for m in layers)
    if not moving:  # everything is (nearly) still: plain DIS from zero does best
        layers = []
    dis = _dis()
    forward, backward = _flow_pair(dis, gray_a, gray_b, layers)
    if len(layers) > 1:
        # Secondary layers come from leftover matches and can be spurious (repeated texture).
        # Keep them only when they clearly explain the images better than the dominant one alone.
        plain_forward, plain_backward = _flow_pair(dis, gray_a, gray_b, layers[:1])
        plain = _match_error(gray_a, gray_b, plain_forward) + _match_error(gray_b, gray_a, plain_backward)
        layered = _match_error(gray_a, gray_b, forward) + _match_error(gray_b, gray_a, backward)
        if layered > _LAYER_GAIN * plain:
            forward, backward, layers = plain_forward, plain_backward, layers[:1]
    return PairFlow(forward, backward, motion, moving, tuple(layers), gray_a, gray_b, small_a, small_b)


def _flow_pair(
    dis: cv2.DISOpticalFlow, gray_a: np.ndarray, gray_b: np.ndarray, layers: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    forward = _flow(dis, gray_a, gray_b, layers)
    backward = _flow(dis, gray_b, gray_a, [np.linalg.inv(m) for m in layers])
    if len(layers) > 1:
        # Independently moving objects cover and uncover background; there the flow has nothing
        # to match and is noise. Those pixels (failing the forward-backward check) are given the
        # motion layer that explains them best, the dominant one unless clearly beaten.
        inverse = [np.linalg.inv(m) for m in layers]
        forward, backward = (
            _fill_occluded(forward, backward, _layered_guess(gray_a, gray_b, layers)),
            _fill_occluded(backward, forward, _layered_guess(gray_b, gray_a, inverse)),
        )
    return forward, backward


def _match_error(src: np.ndarray, dst: np.ndarray, flow: np.ndarray) -> float:
    """Mean photometric error of src against dst pulled back along the flow (clipped: robust)."""
    h, w = src.shape
    gx, gy = identity_grid(w, h)
    warped = cv2.remap(
        dst, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return float(np.minimum(cv2.absdiff(src, warped), 40).mean())


def _layered_guess(src: np.ndarray, dst: np.ndarray, layers: list[np.ndarray]) -> np.ndarray:
    """Per pixel, the motion layer that explains it best, the dominant one unless clearly beaten."""
    h, w = src.shape
    guess = initial_flow(
        src, dst, layers[1:], default=layer_flow(layers[0], w, h), preference=_FILL_PREFERENCE
    )
    assert guess is not None
    return guess


def _fill_occluded(flow: np.ndarray, other: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    occluded = consistency_error(flow, other) > _OCCLUDED_ERROR
    return np.where(occluded[..., None], fallback, flow)


def warp_flow(flow: np.ndarray, map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    """Sample ``flow`` at (map_x, map_y) (bilinear, border replicated)."""
    return cv2.remap(flow, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def consistency_error(flow: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Forward-backward error |flow(x) + other(x + flow(x))| per pixel, in working pixels."""
    h, w = flow.shape[:2]
    gx, gy = identity_grid(w, h)
    back = warp_flow(other, gx + flow[..., 0], gy + flow[..., 1]) + flow
    # cv2.magnitude: a fifth of np.linalg.norm's time on (h, w, 2) float32.
    return cv2.magnitude(np.ascontiguousarray(back[..., 0]), np.ascontiguousarray(back[..., 1]))
