"""Follow motion through a video with sparse optical flow.

Corners (Shi-Tomasi) are tracked frame to frame with pyramidal Lucas-Kanade, and a similarity
transform (shift, rotation, uniform scale) is fitted with RANSAC so moving people or cars in the
shot count as outliers. Chaining the steps gives, for every frame, where a point of frame 0 went:
what an inserted object must do to stay attached to the ground, and what a swapped region must do
to stay on its object.

Everything runs on small greyscale copies (``WORK_SIDE``); transforms are returned in the video's
own pixel units.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import cv2
import numpy as np

from .layers import Affine, compose

WORK_SIDE = 384
_IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def identity() -> Affine:
    return _IDENTITY.copy()


def work_scale(height: int, width: int) -> float:
    """An integer reduction factor (1/k): OpenCV's area resize has a fast path for those."""
    return 1.0 / max(1, math.ceil(max(height, width) / WORK_SIDE))


def work_size(height: int, width: int) -> tuple[int, int]:
    """(width, height) of the work copies."""
    scale = work_scale(height, width)
    return max(8, int(width * scale)), max(8, int(height * scale))


def to_work_gray(frame: np.ndarray, scale: float) -> np.ndarray:
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        h, w = gray.shape
        gray = cv2.resize(gray, work_size(h, w), interpolation=cv2.INTER_AREA)
    return gray


def step_motion(
    prev: np.ndarray, cur: np.ndarray, mask: np.ndarray | None = None, min_points: int = 8
) -> Affine | None:
    """The similarity mapping ``prev`` to ``cur`` (work pixels), from corners inside ``mask`` if
    given; None when too few corners survive to trust a fit."""
    pts = cv2.goodFeaturesToTrack(
        prev, maxCorners=300, qualityLevel=0.01, minDistance=6, mask=mask, blockSize=5
    )
    if pts is None or len(pts) < min_points:
        return None
    nxt, status, _ = cv2.calcOpticalFlowPyrLK(  # type: ignore[call-overload]
        prev,
        cur,
        pts,
        None,
        winSize=(21, 21),
        maxLevel=3,
        criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03),
    )
    ok = status.reshape(-1) == 1
    if ok.sum() < min_points:
        return None
    m, inliers = cv2.estimateAffinePartial2D(
        pts[ok], nxt[ok], method=cv2.RANSAC, ransacReprojThreshold=1.0, maxIters=500, confidence=0.99
    )
    if m is None or inliers is None or int(inliers.sum()) < min_points:
        return None
    return np.asarray(m, dtype=np.float64)


def to_full_units(m: Affine, scale: float) -> Affine:
    """Re-express a work-resolution transform in full-resolution pixels."""
    out = m.copy()
    out[:, 2] /= scale
    return out


def background_motion(
    frames: Sequence[np.ndarray] | np.ndarray, on_step: Callable[[int], None] | None = None
) -> list[Affine]:
    """For each frame t, the transform taking frame-0 pixel positions to frame-t positions."""
    if len(frames) == 0:
        return []
    h, w = frames[0].shape[:2]
    scale = work_scale(h, w)
    prev = to_work_gray(frames[0], scale)
    cumulative = identity()
    out = [identity()]
    for t in range(1, len(frames)):
        cur = to_work_gray(frames[t], scale)
        step = step_motion(prev, cur)
        if step is not None:
            cumulative = compose(step, cumulative)
        # A failed fit holds the last transform: a frozen object beats one that jumps.
        out.append(to_full_units(cumulative, scale))
        prev = cur
        if on_step is not None:
            on_step(t)
    return out


def source_indices(num_source: int, source_fps: float, num_out: int, out_fps: int) -> list[int]:
    """Which input frame shows at each output frame when resampling to ``out_fps`` (nearest frame
    in time; the last frame holds if the output runs longer than the input)."""
    fps = source_fps if source_fps > 0 else float(out_fps)
    return [min(num_source - 1, int(np.floor(i * fps / out_fps + 1e-6))) for i in range(num_out)]
