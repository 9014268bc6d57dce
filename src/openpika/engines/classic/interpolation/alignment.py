"""Global alignment between two keyframes: a homography from ORB matches, fitted with RANSAC.

Large camera motion (a pan, a zoom) is beyond the reach of patch-based flow. Estimating it first as
one homography and computing flow only on the residual keeps the flow's displacements small. The
match statistics double as evidence of whether the keyframes show the same scene at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

_MAX_FEATURES = 1500
_RATIO_TEST = 0.8
_MIN_INLIERS = 12
_MAX_EXTRA_LAYERS = 2
_MIN_LAYER_INLIERS = 25
_MIN_LAYER_SHIFT = 16.0  # pixels at working resolution: what DIS alone would miss


@dataclass(frozen=True)
class GlobalMotion:
    """Homography mapping points of image A to image B (``None`` when no reliable fit exists).

    ``layers`` holds further motions found among the matches the homography does not explain
    (a moved object over a still background), as 3x3 matrices A -> B; the dominant one first.
    """

    homography: np.ndarray | None
    matches: int  # matches that pass the ratio test
    inliers: int  # of which consistent with the homography
    features: int  # keypoints found in the poorer image
    layers: tuple[np.ndarray, ...] = ()

    @property
    def inlier_ratio(self) -> float:
        return self.inliers / self.matches if self.matches else 0.0


def estimate_global_motion(gray_a: np.ndarray, gray_b: np.ndarray) -> GlobalMotion:
    """Homography A -> B from ORB matches (ratio test, then RANSAC), at the given resolution."""
    # The two images' features on two threads (OpenCV releases the GIL; one detector each): the
    # same keypoints and descriptors in about 60 % of the time on two cores.
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(_features, gray_b)
        kp_a, desc_a = _features(gray_a)
        kp_b, desc_b = future.result()
    features = min(len(kp_a), len(kp_b))
    if desc_a is None or desc_b is None or features < _MIN_INLIERS:
        return GlobalMotion(None, 0, 0, features)
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(desc_a, desc_b, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < _RATIO_TEST * p[1].distance]
    if len(good) < _MIN_INLIERS:
        return GlobalMotion(None, len(good), 0, features)
    pts_a = np.array([kp_a[m.queryIdx].pt for m in good], dtype=np.float32)
    pts_b = np.array([kp_b[m.trainIdx].pt for m in good], dtype=np.float32)
    threshold = 0.01 * max(gray_a.shape)
    # A fixed seed keeps RANSAC (and so the whole render) deterministic.
    cv2.setRNGSeed(0)
    homography, mask = cv2.findHomography(
        pts_a, pts_b, cv2.RANSAC, threshold, maxIters=2000, confidence=0.995
    )
    inliers = int(mask.sum()) if mask is not None else 0
    if homography is None or inliers < _MIN_INLIERS or not _plausible(homography, gray_a.shape):
        return GlobalMotion(None, len(good), inliers, features)
    layers = [homography]
    rest = ~mask.ravel().astype(bool)
    for _ in range(_MAX_EXTRA_LAYERS):
        # A further motion: a similarity transform (an object moved, turned, scaled) on what is left.
        if rest.sum() < _MIN_LAYER_INLIERS:
            break
        affine, layer_mask = cv2.estimateAffinePartial2D(
            pts_a[rest], pts_b[rest], method=cv2.RANSAC, ransacReprojThreshold=threshold, maxIters=2000
        )
        if affine is None or layer_mask is None or int(layer_mask.sum()) < _MIN_LAYER_INLIERS:
            break
        idx = np.flatnonzero(rest)
        layer = np.vstack([affine, [0.0, 0.0, 1.0]])
        # Only a motion far from the dominant one is worth a layer: DIS finds small ones itself.
        if (
            _relative_displacement(layer, homography, pts_a[idx[layer_mask.ravel().astype(bool)]])
            >= _MIN_LAYER_SHIFT
        ):
            layers.append(layer)
        rest[idx[layer_mask.ravel().astype(bool)]] = False
    return GlobalMotion(homography, len(good), inliers, features, tuple(layers))


def _features(gray: np.ndarray) -> tuple[Sequence[cv2.KeyPoint], np.ndarray | None]:
    orb = cv2.ORB.create(nfeatures=_MAX_FEATURES, fastThreshold=10)
    keypoints, descriptors = orb.detectAndCompute(gray, None)
    return keypoints, descriptors


def _plausible(homography: np.ndarray, shape: tuple[int, ...]) -> bool:
    """Reject degenerate fits: a camera move keeps the frame's area within a sane range, unflipped."""
    h, w = shape[:2]
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32).reshape(-1, 1, 2)
    moved = cv2.perspectiveTransform(corners, homography).reshape(-1, 2)
    area = cv2.contourArea(moved.astype(np.float32))
    edge_x, edge_y = moved[1] - moved[0], moved[3] - moved[0]
    signed = float(edge_x[0] * edge_y[1] - edge_x[1] * edge_y[0])
    return signed > 0 and 0.25 < area / (w * h) < 4.0


def homography_displacement(homography: np.ndarray, shape: tuple[int, ...]) -> float:
    """Mean displacement in pixels the homography gives the frame's corners and centre."""
    h, w = shape[:2]
    pts = np.array([[0, 0], [w, 0], [w, h], [0, h], [w / 2, h / 2]], dtype=np.float32).reshape(-1, 1, 2)
    moved = cv2.perspectiveTransform(pts, homography)
    return float(np.linalg.norm((moved - pts).reshape(-1, 2), axis=1).mean())


def _relative_displacement(layer: np.ndarray, dominant: np.ndarray, points: np.ndarray) -> float:
    """Median distance between where ``layer`` and ``dominant`` send the given points."""
    pts = points.reshape(-1, 1, 2).astype(np.float32)
    moved = cv2.perspectiveTransform(pts, layer) - cv2.perspectiveTransform(pts, dominant)
    return float(np.median(np.linalg.norm(moved.reshape(-1, 2), axis=1)))
