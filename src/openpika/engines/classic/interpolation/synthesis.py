"""Intermediate frames between two keyframes: warp both ends to time t along the flow and blend.

For a pixel x of the frame at time t we need where it comes from in A and in B. Scaling the flow
found at x (F_t->A ~ t * F_B->A(x)) is the usual shortcut, but it reads the flow at the wrong place
when things move. Here the flow is also *reversed*: p + t * F_A->B(p) = x is solved for p by
fixed-point iteration (a few cheap remaps at working resolution), which is what forward splatting
computes, without its holes. The two estimates are fused (measured: better than either alone);
without independently moving objects, each pixel then keeps whichever of three estimates (fused,
shortcut, bidirectional projection) makes its A and B samples agree best.

Blend weights: each keyframe by its closeness in time, and a sample that falls outside its keyframe
(a region the camera only sees at the other end of a pan or zoom) gets no weight, so frame borders
do not smear. All maps are built at working resolution and resized once to full resolution, where
each frame costs two remaps and one weighted blend.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from .fields import (
    MIX_SCALE,
    bidirectional_projection,
    choice_is_safe,
    colour_gain,
    hypothesis_spread,
    length,
    mix,
    scalar,
    shifted,
)
from .flow import PairFlow, bidirectional_flow, identity_grid, layer_flow

_REVERSAL_ITERATIONS = 2
# Share of the shortcut estimate in the fused flow to time t, where the two agree within _AGREE px.
_FUSE = 0.3
_AGREE = 2.0
# Reversal residual (working pixels) under which a solution counts as converged, and at which a
# sample's blend weight halves (it is then probably occluded at that end).
_CONVERGED = 0.5
_MISS_SCALE = 1.0
_SCORE_MARGIN = 0.5
_OUTSIDE_WEIGHT = 1e-3
_EDGE_RAMP = 12.0
# Window (working pixels) over which candidate flows to time t are compared (see _select).
_SELECT_WINDOW = 7
# Neighbours (working pixels away) whose offsets each pixel tries after the choice, and by how
# many luma levels (7x7 mean) they must beat its own to replace them (see _propagate).
_PROPAGATION_STEP = 6
_PROPAGATION_MARGIN = 3.0
# Mean flow length (working pixels) below which warps add bicubic luma detail (see __init__).
_DETAIL_MAX_MOTION = 8.0
# Disagreement of the two warped samples (luma levels, Gaussian-averaged over _DISAGREEMENT_SIGMA
# working pixels) from which a blurred frame (_BLUR_SIGMA working pixels) is mixed in, fully at
# FLOOR + RANGE. Tuned on the benchmark (20 positions per k); see _uncertainty.
_DISAGREEMENT_SIGMA = 8.0
_DISAGREEMENT_FLOOR = 5.0
_DISAGREEMENT_RANGE = 30.0
_BLUR_SIGMA = 4.0
# Where A and B are more than _FAST_MOTION working pixels apart (fully at + _FAST_RANGE), the
# blurred frame is a Gaussian of _WIDE_BLUR_SIGMA instead (see _blend).
_FAST_MOTION = 12.0
_FAST_RANGE = 24.0
_WIDE_BLUR_SIGMA = 12.0
# How far the frame moves from the chosen flow to time t towards the mean of every candidate's
# frame (see fields.hypothesis_spread). 20 positions per k: 0.4 and 0.55 within 0.02 dB of each
# other.
_HYPOTHESIS_SHARE = 0.4


class _Choice(NamedTuple):
    """A pair of offsets to A and B per pixel, with the choice's cost and luma samples along it."""

    to_a: np.ndarray
    to_b: np.ndarray
    cost: np.ndarray
    sample_a: np.ndarray
    sample_b: np.ndarray


class PairInterpolator:
    """Frames between keyframes A (t=0) and B (t=1). Flow is computed once, in the constructor."""

    def __init__(self, image_a: np.ndarray, image_b: np.ndarray, flow: PairFlow | None = None) -> None:
        if image_a.shape != image_b.shape:
            raise ValueError(f"keyframes differ in size: {image_a.shape} vs {image_b.shape}")
        self.image_a = image_a
        self.image_b = image_b
        self.flow = flow if flow is not None else bidirectional_flow(image_a, image_b)
        self._w, self._h = self.flow.size
        self._grid = identity_grid(self._w, self._h)
        # The same grid as one (h, w, 2) map: remap takes it whole, one addition instead of two.
        self._grid2 = np.dstack(self._grid)
        self._layered = len(self.flow.layers) > 1  # independently moving objects
        self._choose = not self._layered and choice_is_safe(self.flow)
        layers = list(self.flow.layers) or [np.eye(3)]
        # Starting points for flow reversal: every motion layer, per direction. The first (dominant)
        # layer is what "moving against" is measured from. Stillness is not added when a layer
        # exists: a still start converges to spurious solutions in flat areas of a camera move.
        self._starts_forward = [layer_flow(m, self._w, self._h) for m in layers]
        self._starts_backward = [layer_flow(np.linalg.inv(m), self._w, self._h) for m in layers]
        self._gain = colour_gain(image_a, image_b, self.flow)
        # Bicubic detail pays at small motion (measured, 20 positions per k: +0.26, +0.11, +0.04 dB
        # at k = 1, 2, 4; -0.02, -0.06 dB at k = 8, 12) and costs a third of a frame's synthesis.
        motion = float(np.mean(length(self.flow.forward)))
        detail = motion < _DETAIL_MAX_MOTION
        self._luma_full_a = cv2.cvtColor(image_a, cv2.COLOR_RGB2GRAY) if detail else None
        self._luma_full_b = cv2.cvtColor(image_b, cv2.COLOR_RGB2GRAY) if detail else None
        self._full_h, self._full_w = image_a.shape[:2]
        self._scale = np.array([self._full_w / self._w, self._full_h / self._h], dtype=np.float32)
        # The same per-channel factors as an OpenCV scalar: cv2.multiply scales an (h, w, 2) field
        # in a quarter of the time of NumPy's broadcast (and gives the same float32 products).
        self._scale_xy = (float(self._scale[0]), float(self._scale[1]), 0.0, 0.0)
        # Working pixel centres in full-resolution coordinates: resizing sx*(x+0.5)-0.5 + sx*d(x)
        # bilinearly gives exactly X + sx*d at every full-resolution pixel X.
        half_step = (self._scale - 1.0) / 2.0
        self._base = cv2.add(
            cv2.multiply(self._grid2, self._scale_xy),  # type: ignore[call-overload]
            (float(half_step[0]), float(half_step[1]), 0.0, 0.0),
        )

    def _reverse(
        self, flow: np.ndarray, starts: list[np.ndarray], t: float, guess: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Offsets d(x) with p = x + d(x) solving p + t * flow(p) = x (flow reversal to time t),
        and each pixel's residual |p + t * flow(p) - x| (large: x is not visible from this end).

        The fixed point is sought from the shortcut estimate and, with independently moving
        objects, from each motion layer's flow too. Where several converge (x is covered by something that moved there, and by what stood
        there), the one moving most against the dominant motion wins: the independently moving
        object is taken to be in front.
        """
        offset = guess  # the first start: the shortcut estimate (the other direction's flow at x)
        if not self._layered:
            # One motion (or none): a single start, and the residual is not needed.
            for _ in range(_REVERSAL_ITERATIONS):
                offset = -t * self._sample(flow, offset)
            return offset, np.zeros(offset.shape[:2], np.float32)
        best_offset: np.ndarray | None = None
        best_residual = np.empty(0, np.float32)
        best_score = np.empty(0, np.float32)
        dominant = starts[0]
        for offset in [guess, *(-t * start for start in starts)]:
            for _ in range(_REVERSAL_ITERATIONS):
                offset = -t * self._sample(flow, offset)
            source_flow = self._sample(flow, offset)
            residual = length(offset + t * source_flow)
            score = length(source_flow - self._sample(dominant, offset))
            # Rank: converged first, then the most independent motion; unconverged by residual.
            score = np.where(residual < _CONVERGED, score, -residual)
            if best_offset is None:
                best_offset, best_residual, best_score = offset, residual, score
                continue
            better = score > best_score + _SCORE_MARGIN
            best_offset = np.where(better[..., None], offset, best_offset)
            best_residual = np.where(better, residual, best_residual)
            best_score = np.where(better, score, best_score)
        assert best_offset is not None
        return best_offset, best_residual

    def _inside(self, offset: np.ndarray) -> np.ndarray:
        gx, gy = self._grid
        x, y = gx + offset[..., 0], gy + offset[..., 1]
        # Distance to the nearest frame edge; the weight ramps up over _EDGE_RAMP pixels so the seam
        # where one keyframe's view ends is feathered, not a hard line.
        margin = np.minimum(np.minimum(x + 0.5, self._w - 0.5 - x), np.minimum(y + 0.5, self._h - 0.5 - y))
        return np.clip(margin / _EDGE_RAMP, _OUTSIDE_WEIGHT, 1.0).astype(np.float32)

    def frame_at(self, t: float) -> np.ndarray:
        """The RGB uint8 frame at time t in [0, 1]; exactly A at 0 and exactly B at 1.

        Reentrant: nothing of the interpolator changes, so frames may be drawn on several threads."""
        if t <= 0.0:
            return self.image_a.copy()
        if t >= 1.0:
            return self.image_b.copy()
        fwd, bwd = self.flow.forward, self.flow.backward
        shortcut_a, shortcut_b = t * bwd, (1.0 - t) * fwd
        to_a, miss_a = self._reverse(fwd, self._starts_forward, t, shortcut_a)
        to_b, miss_b = self._reverse(bwd, self._starts_backward, 1.0 - t, shortcut_b)
        # Fuse with the shortcut estimate where both agree (averaging two noisy estimates).
        to_a = self._fuse(to_a, shortcut_a)
        to_b = self._fuse(to_b, shortcut_b)
        choice: _Choice | None = None
        hypotheses: list[tuple[np.ndarray, np.ndarray]] = []  # luma samples along each candidate
        if self._choose:
            candidates = [(to_a, to_b), (shortcut_a, shortcut_b), bidirectional_projection(fwd, bwd, t)]
            choice = self._propagate(self._select(candidates, seen=hypotheses))
            to_a, to_b = choice.to_a, choice.to_b
        weight_a = (1.0 - t) * self._inside(to_a)
        weight_b = t * self._inside(to_b)
        if self._layered:
            # Independently moving objects: a sample whose reversal did not converge shows what the
            # object uncovers or covers at that end; the other end fills it in. (Measured on real
            # footage without such layers, this weighting costs PSNR, so it is kept to this case.)
            weight_a /= 1.0 + (miss_a / _MISS_SCALE) ** 2
            weight_b /= 1.0 + (miss_b / _MISS_SCALE) ** 2
        share_b = weight_b / (weight_a + weight_b + 1e-6)
        if choice is None:  # luma sampled along the flows to time t, as the choice would have
            samples = self._sample(self.flow.gray_a, to_a), self._sample(self.flow.gray_b, to_b)
        else:
            samples = choice.sample_a, choice.sample_b
        blur = self._uncertainty(samples, share_b)
        spread = hypothesis_spread(hypotheses, samples, share_b, _HYPOTHESIS_SHARE) if hypotheses else None
        return self._blend(t, to_a, to_b, share_b, blur, spread)

    def _uncertainty(self, samples: tuple[np.ndarray, np.ndarray], share_b: np.ndarray) -> np.ndarray | None:
        """How much of a blurred frame to mix in per pixel (working resolution; None: nowhere).

        Where the two warped keyframes disagree, the flow is wrong at one end at least (fast or
        non-rigid motion, occlusion) and the frame's detail there is a guess: a blend of two
        misplaced copies. A mildly blurred frame is then the better estimate of the true one (the
        expected error of a guess shrinks with its detail; PSNR +0.1 to +0.2 dB at k = 4 to 12 on
        the benchmark). Only where both samples are mixed: a sample that carries the pixel alone
        (near a keyframe in time, an occlusion, a view edge) is not a disagreement. ``samples``:
        the luma of A and B (uint8, working resolution) sampled along the flows to time t.
        """
        difference = cv2.absdiff(*samples).astype(np.float32)
        # Averaged at half the working resolution (a Gaussian of _DISAGREEMENT_SIGMA working
        # pixels is smooth enough to be upsampled; a fifth of the time).
        half = cv2.resize(difference, (self._w // 2, self._h // 2), interpolation=cv2.INTER_AREA)
        half = cv2.GaussianBlur(half, (0, 0), _DISAGREEMENT_SIGMA / 2)
        disagreement = cv2.resize(half, (self._w, self._h), interpolation=cv2.INTER_LINEAR)
        amount = np.clip((disagreement - _DISAGREEMENT_FLOOR) / _DISAGREEMENT_RANGE, 0.0, 1.0)
        amount *= 4.0 * share_b * (1.0 - share_b)  # 1 for an even mix, 0 for one sample alone
        return amount.astype(np.float32) if float(amount.max()) > 1e-3 else None

    def _select(
        self,
        candidates: list[tuple[np.ndarray, np.ndarray]],
        margin: float = 0.0,
        first: _Choice | None = None,
        seen: list[tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> _Choice:
        """Per pixel, the candidate pair of offsets (to A, to B) whose two samples agree best.

        Each estimate of the flow to time t fails somewhere else (reversal at flow noise, the
        shortcut at motion boundaries): where a pair is right, A and B sampled along it show the
        same thing. Compared on working-resolution luma, averaged over a small window.
        Measured on the benchmark (20 positions per k): +0.32 dB at k = 1; +0.05, -0.12, +0.03,
        +0.06 dB at k = 2, 4, 8, 12. A later candidate must beat the best so far by ``margin``
        luma levels. Returns the chosen pair, its cost (the window's mean luma difference) and its
        samples; ``first``, when known, is the first candidate's. Every candidate's samples are
        appended to ``seen``.
        """
        # Copies: the masked copies below write into them.
        best = None if first is None else _Choice(*(a.copy() for a in first))
        for index, (to_a, to_b) in enumerate(candidates):
            if index == 0 and best is not None:
                continue
            # uint8 samples: half the remap time of float32, and the window mean stays float.
            sample_a, sample_b = self._sample(self.flow.gray_a, to_a), self._sample(self.flow.gray_b, to_b)
            if seen is not None:
                seen.append((sample_a, sample_b))
            cost = cv2.boxFilter(
                cv2.absdiff(sample_a, sample_b), cv2.CV_32F, (_SELECT_WINDOW, _SELECT_WINDOW)
            )
            if best is None:
                best = _Choice(to_a.copy(), to_b.copy(), cost, sample_a.copy(), sample_b.copy())
                continue
            better = cv2.compare(cost + margin if margin else cost, best.cost, cv2.CMP_LT)
            # In place through OpenCV's masked copy: a third of the time of NumPy's np.where.
            best = _Choice(
                cv2.copyTo(to_a, better, best.to_a),
                cv2.copyTo(to_b, better, best.to_b),
                cv2.min(cost, best.cost),
                cv2.copyTo(sample_a, better, best.sample_a),
                cv2.copyTo(sample_b, better, best.sample_b),
            )
        assert best is not None
        return best

    def _propagate(self, choice: _Choice) -> _Choice:
        """Per pixel, the pair of offsets of a neighbour _PROPAGATION_STEP working pixels away
        (left, right, above or below) where its two samples agree clearly better than with the
        pixel's own (by _PROPAGATION_MARGIN luma levels over the choice's window).

        Near a motion boundary DIS smears the two motions into each other over a few pixels, and
        a pixel in that band gets a blend of both, right for neither side; a neighbour a few pixels
        away, inside the object or out in the background, has the motion of one side, and where it
        is this pixel's motion too, A and B sampled along it agree (one step of PatchMatch's
        propagation). Measured on the benchmark (20 positions per k): +0.10 / -0.01 / 0.00 / 0.00 /
        +0.01 dB at k = 1 / 2 / 4 / 8 / 12, on the edges of moving things.
        """
        step = _PROPAGATION_STEP
        to_a, to_b = choice.to_a, choice.to_b
        candidates = [(to_a, to_b)]
        for dx, dy in ((step, 0), (-step, 0), (0, step), (0, -step)):
            candidates.append((shifted(to_a, dx, dy), shifted(to_b, dx, dy)))
        return self._select(candidates, _PROPAGATION_MARGIN, choice)

    def _sample(self, image: np.ndarray, offset: np.ndarray) -> np.ndarray:
        """``image`` (working resolution) sampled at x + offset(x): bilinear, border replicated."""
        return cv2.remap(image, self._grid2 + offset, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)  # type: ignore[call-overload]

    @staticmethod
    def _fuse(reversed_offset: np.ndarray, shortcut: np.ndarray) -> np.ndarray:
        agree = (length(reversed_offset - shortcut) < _AGREE).astype(np.uint8)
        fused = cv2.addWeighted(reversed_offset, 1 - _FUSE, shortcut, _FUSE, 0.0)
        # A masked copy in OpenCV: a third of the time of np.where on (h, w, 2) arrays.
        return cv2.copyTo(fused, agree, reversed_offset.copy())

    @staticmethod
    def _warp(image: np.ndarray, luma: np.ndarray | None, full_map: np.ndarray) -> np.ndarray:
        """``image`` sampled along ``full_map``: bilinear colour, plus (given the image's ``luma``)
        the detail bicubic sampling adds to the luma (what bilinear smooths away at fractional
        positions): close to a bicubic warp of the colour image at two thirds of its cost."""
        linear = cv2.remap(image, full_map, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)  # type: ignore[call-overload]
        if luma is None:
            return linear
        cubic = cv2.remap(luma, full_map, None, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)  # type: ignore[call-overload]
        detail = cv2.subtract(cubic, cv2.cvtColor(linear, cv2.COLOR_RGB2GRAY), dtype=cv2.CV_16S)
        return cv2.add(linear, cv2.merge([detail, detail, detail]), dtype=cv2.CV_8U)

    def _to_full(self, array: np.ndarray) -> np.ndarray:
        if (self._full_w, self._full_h) == (self._w, self._h):
            return array
        return cv2.resize(array, (self._full_w, self._full_h), interpolation=cv2.INTER_LINEAR)

    def _blend(
        self,
        t: float,
        to_a: np.ndarray,
        to_b: np.ndarray,
        share_b: np.ndarray,
        blur: np.ndarray | None,
        spread: np.ndarray | None = None,
    ) -> np.ndarray:
        """Warp both keyframes at full resolution and mix them, ``share_b`` of B per pixel, add
        ``spread`` (see fields.hypothesis_spread), then mix in a blurred copy of the result by
        ``blur`` (see _uncertainty)."""
        map_a = self._to_full(cv2.add(self._base, cv2.multiply(to_a, self._scale_xy)))  # type: ignore[call-overload]
        map_b = self._to_full(cv2.add(self._base, cv2.multiply(to_b, self._scale_xy)))  # type: ignore[call-overload]
        # Bicubic sampling keeps the keyframes' fine detail that bilinear sampling smooths away at
        # fractional positions (+0.26 dB at k = 1, +0.11 dB at k = 2 on the benchmark).
        from_a = self._warp(self.image_a, self._luma_full_a, map_a)
        from_b = self._warp(self.image_b, self._luma_full_b, map_b)
        if self._gain is not None:
            # Photometric change (exposure, white balance): both samples are brought to the colour
            # of time t, so they agree where they are blended and show no seam where only one is.
            from_a = cv2.multiply(from_a, scalar(self._gain**t))  # type: ignore[call-overload]
            from_b = cv2.multiply(from_b, scalar(self._gain ** (t - 1.0)))  # type: ignore[call-overload]
        low, high = float(share_b.min()), float(share_b.max())
        if high - low < 1e-3:  # one weight everywhere (no view edge, no occlusion): a plain mix
            mixed = cv2.addWeighted(from_a, 1.0 - low, from_b, low, 0.0)
        else:
            mixed = mix(from_a, from_b, self._to_full(share_b * MIX_SCALE))
        if spread is not None:
            full = self._to_full(spread)  # quarter levels of luma, added to every channel
            mixed = cv2.addWeighted(mixed, 1.0, cv2.merge([full, full, full]), 0.25, 0.0, dtype=cv2.CV_8U)
        if blur is None:
            return mixed
        # Blurred at half the working resolution and scaled back up: the same low-pass as a
        # full-resolution Gaussian of _BLUR_SIGMA working pixels at a fraction of its cost.
        half = cv2.resize(mixed, (self._w // 2, self._h // 2), interpolation=cv2.INTER_AREA)
        blurred = cv2.GaussianBlur(half, (0, 0), _BLUR_SIGMA / 2)
        blurred = cv2.resize(blurred, (self._w, self._h), interpolation=cv2.INTER_LINEAR)
        # Where things move fast against the camera, a wider blur: the flow's errors grow with the
        # motion it had to find beyond the camera's (the homography's), and the true frame is
        # motion-blurred there too (20 positions per k: 0.00 / +0.01 / +0.07 / +0.06 / +0.07 dB
        # at k = 1 / 2 / 4 / 8 / 12). Measured against the camera, not in the frame: a camera zoom
        # moves the frame's edges far, and blurring them (the motion in the frame) put a visible
        # seam where one keyframe's view ends (the camera contact sheet).
        camera = self._sample(self._starts_forward[0], to_a)  # the camera's motion A -> B there
        motion = length(to_b - to_a - camera)
        fast = np.clip((motion - _FAST_MOTION) / _FAST_RANGE, 0.0, 1.0)
        if float(fast.max()) > 1e-3:
            # A Gaussian of _WIDE_BLUR_SIGMA working pixels, at half the working resolution.
            wide = cv2.GaussianBlur(half, (0, 0), _WIDE_BLUR_SIGMA / 2)
            wide = cv2.resize(wide, (self._w, self._h), interpolation=cv2.INTER_LINEAR)
            blurred = mix(blurred, wide, (fast * MIX_SCALE).astype(np.float32))
        # Mixed in only over the band of rows where the amount is not zero (the full-resolution
        # rows a working row's bilinear footprint reaches, with a row to spare).
        rows = np.flatnonzero(blur.max(axis=1) > 0.0)
        if rows.size == 0:
            return mixed
        scale_y = self._full_h / self._h
        top = max(0, int((rows[0] - 1) * scale_y))
        bottom = min(self._full_h, int(np.ceil((rows[-1] + 2) * scale_y)))
        amount = self._to_full(blur * MIX_SCALE)[top:bottom]
        mixed[top:bottom] = mix(mixed[top:bottom], self._to_full(blurred)[top:bottom], amount)
        return mixed
