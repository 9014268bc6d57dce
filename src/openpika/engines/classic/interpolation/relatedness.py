"""Do two keyframes show the same scene? Decides between a morph and a designed transition.

Evidence, all from work the morph needs anyway: the ORB/RANSAC match statistics of the global
alignment, the share of pixels whose forward and backward flows agree, and how well keyframe B,
warped back along the flow, reproduces keyframe A (normalised cross-correlation of luma). Unrelated
images still get a flow field (DIS always answers), but it is inconsistent both ways and the warped
image does not explain the other one.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .flow import PairFlow, consistency_error, identity_grid

# Thresholds calibrated on shifted/zoomed/relit photos (related) and pairs of different skimage
# photos and shots across real cuts (unrelated); see tests/engines/classic/test_interpolation.py.
_GOOD_INLIERS = 40
_GOOD_INLIER_RATIO = 0.3
_CONSISTENT_PIXELS = 1.0  # forward-backward error (working pixels) that counts as consistent
_MIN_CONSISTENT_SHARE = 0.55
_MIN_WARP_NCC = 0.75


@dataclass(frozen=True)
class Relatedness:
    inliers: int
    inlier_ratio: float
    consistent_share: float  # of pixels of A whose flow round-trips within a pixel
    warp_ncc: float  # correlation of A with B warped onto A, on consistent pixels
    related: bool


def _ncc(x: np.ndarray, y: np.ndarray) -> float:
    x = x - x.mean()
    y = y - y.mean()
    den = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / den) if den > 0 else 0.0


def assess(gray_a: np.ndarray, gray_b: np.ndarray, flow: PairFlow) -> Relatedness:
    """Relatedness from two working-resolution luma images and the flow between them."""
    motion = flow.global_motion
    error = consistency_error(flow.forward, flow.backward)
    consistent = error < _CONSISTENT_PIXELS
    share = float(consistent.mean())
    h, w = gray_a.shape
    gx, gy = identity_grid(w, h)
    warped = cv2.remap(gray_b, gx + flow.forward[..., 0], gy + flow.forward[..., 1], cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    # Blur first: the question is whether structure lines up, not whether texture noise does.
    a = cv2.GaussianBlur(gray_a, (0, 0), 2.0).astype(np.float32)
    b = cv2.GaussianBlur(warped, (0, 0), 2.0).astype(np.float32)
    ncc = _ncc(a[consistent], b[consistent]) if consistent.sum() > 100 else 0.0
    by_matches = motion.inliers >= _GOOD_INLIERS and motion.inlier_ratio >= _GOOD_INLIER_RATIO
    by_flow = share >= _MIN_CONSISTENT_SHARE and ncc >= _MIN_WARP_NCC
    return Relatedness(motion.inliers, motion.inlier_ratio, share, ncc, by_matches or by_flow)
