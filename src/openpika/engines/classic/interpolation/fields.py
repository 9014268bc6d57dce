"""Flow-field and blending helpers for ``synthesis``: shifting and measuring fields, the
bidirectional projection to time t, when the per-pixel choice is safe, the colour gain between
keyframes, an unbiased per-pixel mix, and the hedge of the choice over its hypotheses."""

from __future__ import annotations

import cv2
import numpy as np

from .flow import PairFlow, consistency_error, identity_grid

# The choice is made only while the shortcut and the projection stay within this many working
# pixels of the reversal under the camera's own motion (see choice_is_safe).
SELECT_MAX_GAP = 10.0
# Weights are scaled by this for cv2.blendLinear (see mix).
MIX_SCALE = 1000.0
# Colour gains between keyframes are applied only when some channel differs by more than this.
GAIN_TOLERANCE = 0.02


def shifted(field: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """``field`` moved by (dx, dy) pixels: out(x, y) = field(x - dx, y - dy), edges replicated."""
    h, w = field.shape[:2]
    inner = field[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    return cv2.copyMakeBorder(inner, max(0, dy), max(0, -dy), max(0, dx), max(0, -dx), cv2.BORDER_REPLICATE)


def mix(first: np.ndarray, second: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``first`` and ``second`` (uint8) mixed per pixel, ``weight`` / MIX_SCALE of the second
    (``weight``: float32, 0 to MIX_SCALE).

    cv2.blendLinear divides by the sum of the weights plus 1e-5: with weights summing to 1, an
    even mix of two levels an odd number apart (x.5) lands just under the half and rounds down, a
    bias of -0.25 levels wherever the mix is even (+0.03 dB at k = 1 on the benchmark once
    removed). Weights scaled by 1000 make the 1e-5 negligible, so the result rounds to nearest.
    """
    return cv2.blendLinear(first, second, MIX_SCALE - weight, weight)


def bidirectional_projection(fwd: np.ndarray, bwd: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Flows from time t to A and to B from both flows (Super SloMo's approximation): the motion
    is assumed linear and locally smooth, so F_t->A ~ -(1-t) t F_AB + t^2 F_BA, likewise to B."""
    to_a = cv2.addWeighted(fwd, -(1.0 - t) * t, bwd, t * t, 0.0)
    to_b = cv2.addWeighted(fwd, (1.0 - t) ** 2, bwd, -t * (1.0 - t), 0.0)
    return to_a, to_b


def choice_is_safe(flow: PairFlow) -> bool:
    """Whether the per-pixel choice among flows to time t can be made without tearing.

    The shortcut and the bidirectional projection assume a locally constant motion; under a camera
    zoom or turn they are wrong by about t (1 - t) |A - I| r at a distance r from the centre (A
    the linear part of the camera's homography), and chosen patch by patch in flat or repetitive
    texture they tear the frame (seen on a 1.3x zoom between keyframes). On real footage between
    nearby frames the gap is a pixel or two and the choice pays (+0.32 dB at k = 1).
    """
    if not flow.layers:
        return True
    h = np.asarray(flow.layers[0], np.float64)
    linear = h[:2, :2] / h[2, 2] - np.eye(2)
    w, ht = flow.size
    gap = 0.25 * float(np.linalg.norm(linear, 2)) * 0.5 * float(np.hypot(w, ht))
    return gap < SELECT_MAX_GAP


def length(vectors: np.ndarray) -> np.ndarray:
    """Per-pixel length of a (h, w, 2) vector field."""
    return cv2.magnitude(np.ascontiguousarray(vectors[..., 0]), np.ascontiguousarray(vectors[..., 1]))


def scalar(gain: np.ndarray) -> tuple[float, float, float, float]:
    """A per-channel gain as the 4-tuple OpenCV reads as a scalar (one factor per channel)."""
    return (float(gain[0]), float(gain[1]), float(gain[2]), 1.0)


def colour_gain(image_a: np.ndarray, image_b: np.ndarray, flow: PairFlow) -> np.ndarray | None:
    """Per-channel gain B/A measured where the flow matches A's pixels to B's (None: no change)."""
    w, h = flow.size
    small_a, small_b = flow.small_a, flow.small_b
    if small_a is None or small_b is None:
        small_a = cv2.resize(image_a, (w, h), interpolation=cv2.INTER_AREA)
        small_b = cv2.resize(image_b, (w, h), interpolation=cv2.INTER_AREA)
    gx, gy = identity_grid(w, h)
    warped_b = cv2.remap(small_b, gx + flow.forward[..., 0], gy + flow.forward[..., 1], cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    matched = (consistency_error(flow.forward, flow.backward) < 1.0).astype(np.uint8)
    if cv2.countNonZero(matched) < 0.05 * matched.size:
        return None
    # Masked means in OpenCV: a tenth of the time of NumPy's boolean indexing at working resolution.
    mean_b = np.array(cv2.mean(warped_b, mask=matched)[:3])
    mean_a = np.array(cv2.mean(small_a, mask=matched)[:3])
    gain = np.clip(mean_b / np.maximum(mean_a, 1.0), 0.5, 2.0)
    return gain if float(np.abs(gain - 1.0).max()) > GAIN_TOLERANCE else None


def hypothesis_spread(
    hypotheses: list[tuple[np.ndarray, np.ndarray]],
    chosen: tuple[np.ndarray, np.ndarray],
    share_b: np.ndarray,
    amount: float,
) -> np.ndarray:
    """What moves the frame's luma ``amount`` of the way from the chosen pair of offsets to time t
    to the mean of the frames the candidate pairs would give (working resolution, int16 in
    quarter levels; the full-resolution frame adds it to every channel). ``hypotheses`` and
    ``chosen``: luma samples (A, B) along each candidate pair and along the chosen one;
    ``share_b``: B's share of the mix per pixel.

    The per-pixel choice is a guess too: at large motion a wrong candidate often wins by chance
    (two flat samples agree), and at small motion a right one often wins only narrowly. The
    expected error of a guess shrinks when the other plausible frames are mixed in (a
    multi-hypothesis estimate): where the candidates agree nothing changes, where they differ the
    frame takes a little of each instead of one sharp, possibly wrong, copy (20 positions per k:
    +0.06 / +0.09 / +0.08 / +0.04 / +0.04 dB at k = 1 / 2 / 4 / 8 / 12). At working resolution,
    the full-resolution frame keeps the chosen pair's finer detail; on luma alone, the choice's
    samples serve (RGB samples: within 0.01 dB, at eight more remaps a frame).
    """
    differences = []
    for side, own in enumerate(chosen):
        total = np.zeros(own.shape, np.int16)
        for samples in hypotheses:
            total = cv2.add(total, samples[side], dtype=cv2.CV_16S)
        # The sum over the hypotheses less as many copies of the chosen sample (exact in int16).
        differences.append(cv2.addWeighted(total, 1.0, own, -len(hypotheses), 0.0, dtype=cv2.CV_32F))
    difference_a, difference_b = differences
    spread = difference_a + (difference_b - difference_a) * share_b
    return np.rint(spread * (4.0 * amount / len(hypotheses))).astype(np.int16)
