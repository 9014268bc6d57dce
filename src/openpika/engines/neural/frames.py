"""Mapping between a request's output format and a model's native one, in both directions.

Models want sides that are multiples of 16 or 32 and 4k+1 / 8k+1 frames at their own fps; fal's
endpoints deliver an exact size at 24 fps. So a request is *normalised* onto the model (the model's
native pixel area at the request's aspect ratio, its fps, a legal frame count) and the generated
frames are *resampled* back (cover-resize and centre crop; optical-flow in-betweens in time). Pure NumPy and
OpenCV: no torch here, so the arithmetic is tested without the neural extra.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from .registry import ModelSpec


@dataclass(frozen=True)
class GenerationFormat:
    """What one pipeline call produces."""

    width: int
    height: int
    num_frames: int
    fps: float  # the effective rate: below the model's fps when the clip was capped at max_frames

    def describe(self) -> str:
        return f"{self.width}x{self.height}, {self.num_frames} frames at {self.fps:.4g} fps"


def snap_frames(count: float, step: int, maximum: int | None = None) -> int:
    """The nearest legal frame count ``step*k + 1`` (k >= 1), not above ``maximum``."""
    k = max(1, round((count - 1) / step))
    if maximum is not None:
        k = min(k, max(1, (maximum - 1) // step))
    return k * step + 1


def snap_side(value: float, multiple: int) -> int:
    return max(multiple, round(value / multiple) * multiple)


def generation_size(out_width: int, out_height: int, model: ModelSpec) -> tuple[int, int]:
    """The model's native pixel area at the output's aspect ratio, on the model's size grid."""
    area = model.native_width * model.native_height
    aspect = out_width / out_height
    height = math.sqrt(area / aspect)
    return snap_side(height * aspect, model.size_multiple), snap_side(height, model.size_multiple)


def generation_format(
    out_width: int, out_height: int, seconds: float, model: ModelSpec, *, inclusive: bool = False
) -> GenerationFormat:
    """Size and frame count for ``seconds`` of video. ``inclusive`` counts both end frames (a
    keyframe transition from frame A to frame B)."""
    width, height = generation_size(out_width, out_height, model)
    wanted = seconds * model.fps + (1 if inclusive else 0)
    frames = snap_frames(wanted, model.frame_step, model.max_frames)
    span_frames = frames - 1 if inclusive else frames
    fps = min(float(model.fps), span_frames / seconds) if seconds > 0 else float(model.fps)
    return GenerationFormat(width, height, frames, fps)


# --- space ---------------------------------------------------------------------------------------


def fit_cover(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize so the image covers width x height, then crop the centre (no distortion)."""
    src_h, src_w = image.shape[:2]
    if (src_w, src_h) == (width, height):
        return image
    scale = max(width / src_w, height / src_h)
    new_w, new_h = max(width, round(src_w * scale)), max(height, round(src_h * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    top, left = (new_h - height) // 2, (new_w - width) // 2
    return np.ascontiguousarray(resized[top : top + height, left : left + width])


# --- time ----------------------------------------------------------------------------------------


def time_positions(
    num_source: int, num_out: int, *, source_fps: float, out_fps: float, align_ends: bool = False
) -> np.ndarray:
    """Fractional source index of every output frame. ``align_ends`` pins the last output frame
    to the last source frame (keyframe segments); otherwise time runs at the true rates and is
    clamped at the end."""
    if num_out <= 1 or num_source <= 1:
        return np.zeros(num_out)
    if align_ends:
        return np.linspace(0.0, num_source - 1, num_out)
    positions = np.arange(num_out) / out_fps * source_fps
    return np.clip(positions, 0.0, num_source - 1)


def to_uint8(frames: np.ndarray) -> np.ndarray:
    """Pipeline output (floats in [0, 1]) to uint8 RGB."""
    if frames.dtype == np.uint8:
        return frames
    return np.clip(np.rint(frames.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)


# Below this size optical flow has too little to work with; plain blending is used.
MIN_FLOW_SIDE = 32


def _gray(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


class _Inbetweener:
    """Frames between two generated frames, by motion: bidirectional DIS optical flow and the linear
    flow approximation of Super SloMo (Jiang et al. 2018), so moving things travel instead of
    cross-fading (a plain blend ghosts at 16 → 24 fps). Flow is computed once per frame pair."""

    def __init__(self, frames: np.ndarray) -> None:
        self.frames = frames
        self._flows: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        height, width = frames.shape[1:3]
        self.use_flow = min(height, width) >= MIN_FLOW_SIDE
        if self.use_flow:
            self._dis = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
            self._xs, self._ys = np.meshgrid(
                np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)
            )

    def _flow(self, lo: int) -> tuple[np.ndarray, np.ndarray]:
        if lo not in self._flows:
            a, b = _gray(self.frames[lo]), _gray(self.frames[lo + 1])
            calc: Any = self._dis.calc  # OpenCV's stubs do not admit the ``None`` output argument
            self._flows[lo] = (calc(a, b, None), calc(b, a, None))
        return self._flows[lo]

    def frame(self, lo: int, weight: float) -> np.ndarray:
        a, b = self.frames[lo], self.frames[lo + 1]
        if not self.use_flow:
            blended = a.astype(np.float32) * (1 - weight) + b.astype(np.float32) * weight
            return np.clip(np.rint(blended), 0, 255).astype(np.uint8)
        f01, f10 = self._flow(lo)
        t = float(weight)
        to_a = (-(1 - t) * t * f01 + t * t * f10).astype(np.float32)
        to_b = ((1 - t) * (1 - t) * f01 - t * (1 - t) * f10).astype(np.float32)
        warped_a = cv2.remap(
            a,
            self._xs + to_a[..., 0],
            self._ys + to_a[..., 1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        warped_b = cv2.remap(
            b,
            self._xs + to_b[..., 0],
            self._ys + to_b[..., 1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        mixed = warped_a.astype(np.float32) * (1 - t) + warped_b.astype(np.float32) * t
        return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def resample_clip(
    frames: np.ndarray,
    *,
    width: int,
    height: int,
    num_out: int,
    source_fps: float,
    out_fps: float,
    align_ends: bool = False,
) -> np.ndarray:
    """(T, H, W, 3) uint8 → (num_out, height, width, 3) uint8: motion-interpolated in time, then
    cover-resized."""
    positions = time_positions(
        len(frames), num_out, source_fps=source_fps, out_fps=out_fps, align_ends=align_ends
    )
    inbetween = _Inbetweener(frames)
    out = np.empty((num_out, height, width, 3), dtype=np.uint8)
    for i, pos in enumerate(positions):
        lo = min(math.floor(pos), len(frames) - 1)
        weight = pos - lo
        if weight < 1e-3 or lo + 1 >= len(frames):
            frame = frames[lo]
        elif weight > 1 - 1e-3:
            frame = frames[lo + 1]
        else:
            frame = inbetween.frame(lo, weight)
        out[i] = fit_cover(frame, width, height)
    return out


def sample_video(frames: np.ndarray, source_fps: float, fmt: GenerationFormat) -> np.ndarray:
    """An input video brought to a generation format: nearest frame at each generated frame's time
    (clamped to the last frame), cover-resized."""
    times = np.arange(fmt.num_frames) / fmt.fps
    indices = np.clip(np.rint(times * source_fps).astype(int), 0, len(frames) - 1)
    return np.stack([fit_cover(frames[i], fmt.width, fmt.height) for i in indices])


def region_mask(fmt: GenerationFormat, box: tuple[float, float, float, float]) -> np.ndarray:
    """(T, H, W) uint8 mask, 255 inside ``box`` = (left, top, right, bottom) as fractions of the frame
    (white = regenerate, black = keep, VACE's convention)."""
    left, top, right, bottom = box
    mask = np.zeros((fmt.height, fmt.width), dtype=np.uint8)
    x0, x1 = int(left * fmt.width), max(int(left * fmt.width) + 1, round(right * fmt.width))
    y0, y1 = int(top * fmt.height), max(int(top * fmt.height) + 1, round(bottom * fmt.height))
    mask[y0:y1, x0:x1] = 255
    return np.repeat(mask[None], fmt.num_frames, axis=0)
