"""Shared pieces of every pikaffect: the prepared scene, animation curves and fast compositing.

A ``Scene`` is built once per request: the photo resized to the output, the subject's matte, the
clean background plate, and the subject's premultiplied RGBA so per-frame work is a remap or a few
affine warps of the subject's region followed by one blend onto the plate.

Timing: every effect runs on a clock ``u = min(1, t * speed)`` where ``t`` is the clip's time in
[0, 1]. Effects hold the still photo for a beat, anticipate, act, then follow through and settle,
so at default speed the action is over by about 80% of the clip and the result holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from ...base import RunContext
from ...tasks import EffectTask
from ..plate import clean_plate
from ..subject import Box, Subject, find_subject
from .controls import Controls, parse_controls

Renderer = Callable[[float], np.ndarray]  # t in [0, 1] -> RGB uint8 frame


@dataclass
class Scene:
    image: np.ndarray  # RGB uint8 at output size
    plate: np.ndarray  # the background, subject removed
    foreground: np.ndarray  # the subject's own colours, unmixed from the plate at soft edges
    subject: Subject
    controls: Controls
    seed: int
    ctx: RunContext

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def alpha(self) -> np.ndarray:
        return self.subject.alpha

    @property
    def bbox(self) -> Box:
        return self.subject.bbox

    @property
    def ground_y(self) -> float:
        """Where the subject stands: the bottom of its box."""
        return float(self.bbox.y + self.bbox.h)

    @property
    def scale(self) -> float:
        """Pixel lengths in effects are written for a 720-pixel short side and scaled by this."""
        return min(self.width, self.height) / 720.0

    def rng(self, salt: int) -> np.random.Generator:
        return np.random.default_rng([self.seed & 0xFFFFFFFF, salt])

    def clock(self, t: float) -> float:
        return min(1.0, t * self.controls.speed)


def prepare_scene(task: EffectTask, ctx: RunContext) -> Scene:
    out = task.output
    src = task.image
    interp = cv2.INTER_AREA if out.width < src.shape[1] else cv2.INTER_CUBIC
    image = cv2.resize(src, (out.width, out.height), interpolation=interp)
    subject = find_subject(image, seed=task.seed)
    plate = clean_plate(image, subject.mask, seed=task.seed)
    controls = parse_controls(task.prompt, task.negative_prompt)
    foreground = unmix_foreground(image, plate, subject.alpha)
    return Scene(
        image=image,
        plate=plate,
        foreground=foreground,
        subject=subject,
        controls=controls,
        seed=task.seed,
        ctx=ctx,
    )


def unmix_foreground(image: np.ndarray, plate: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Foreground colours F with ``alpha * F + (1 - alpha) * plate == image`` at the matte's soft edge.

    So a subject composited unmoved over the plate reproduces the photo exactly, and a moved one
    carries no fringe of the background it was photographed against.
    """
    a = alpha[..., None]
    edge = (alpha > 0.08) & (alpha < 0.98)
    out = image.copy()
    if edge.any():
        unmixed = (image.astype(np.float32) - (1.0 - a) * plate.astype(np.float32)) / np.maximum(a, 0.08)
        out[edge] = np.clip(unmixed[edge] + 0.5, 0, 255).astype(np.uint8)
    return out


# ----------------------------------------------------------------------------- curves


def phase(u: float, start: float, end: float) -> float:
    """0 before ``start``, 1 after ``end``, linear between."""
    if end <= start:
        return 1.0 if u >= end else 0.0
    return min(1.0, max(0.0, (u - start) / (end - start)))


def smooth(x: float) -> float:
    return x * x * (3.0 - 2.0 * x)


def ease_out_back(x: float, overshoot: float = 1.7) -> float:
    """Overshoots past 1 and comes back: follow-through."""
    x = min(1.0, max(0.0, x))
    return 1.0 + (overshoot + 1.0) * (x - 1.0) ** 3 + overshoot * (x - 1.0) ** 2


def ease_in(x: float) -> float:
    return x * x


def damped_wave(x: float, cycles: float = 3.0, decay: float = 4.0) -> float:
    """A wobble that starts at full amplitude when x = 0 and dies out: sin with exponential decay."""
    if x <= 0.0:
        return 0.0
    return math.exp(-decay * x) * math.sin(2.0 * math.pi * cycles * x)


def anticipation(u: float, start: float, end: float) -> float:
    """A small dip before the action (0 -> -1 -> 0 over the window)."""
    x = phase(u, start, end)
    return -math.sin(math.pi * x)


# ----------------------------------------------------------------------------- compositing


def blend_into(dst: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, x0: int, y0: int) -> None:
    """Alpha-blend ``rgb`` (uint8 hxwx3) with ``alpha`` (float32 hxw in [0, 1]) into ``dst`` at (x0, y0)."""
    h, w = alpha.shape[:2]
    dh, dw = dst.shape[:2]
    xa, ya, xb, yb = max(0, x0), max(0, y0), min(dw, x0 + w), min(dh, y0 + h)
    if xb <= xa or yb <= ya:
        return
    a = np.ascontiguousarray(alpha[ya - y0 : yb - y0, xa - x0 : xb - x0], dtype=np.float32)
    s = np.ascontiguousarray(rgb[ya - y0 : yb - y0, xa - x0 : xb - x0])
    d = dst[ya:yb, xa:xb]
    d[...] = cv2.blendLinear(s, np.ascontiguousarray(d), a, 1.0 - a)


def padded_box(box: Box, pad_x: float, pad_y_top: float, pad_y_bottom: float, width: int, height: int) -> Box:
    """``box`` grown by fractions of its own size, clipped to the frame."""
    x0 = max(0, int(box.x - pad_x * box.w))
    x1 = min(width, int(box.x + box.w * (1 + pad_x)) + 1)
    y0 = max(0, int(box.y - pad_y_top * box.h))
    y1 = min(height, int(box.y + box.h * (1 + pad_y_bottom)) + 1)
    return Box(x0, y0, x1 - x0, y1 - y0)


def upsample(field: np.ndarray, width: int, height: int) -> np.ndarray:
    """A half-resolution field (from ``SubjectWarper.grid``) at full resolution: exactly 2x, then
    cropped, so an identity map stays an identity (a resize to an odd size would stretch it)."""
    h, w = field.shape
    full = cv2.resize(field, (2 * w, 2 * h), interpolation=cv2.INTER_LINEAR)
    return full[:height, :width]


class SubjectWarper:
    """Backward-maps the subject inside a fixed region: ``render(map_x, map_y)`` composites the
    subject sampled at (map_x, map_y) over the plate. Maps may be computed at half resolution
    (``grid(half=True)``) and are upsampled here; smooth deformations lose nothing by it."""

    def __init__(self, scene: Scene, region: Box) -> None:
        self.scene = scene
        self.region = region
        rgba = np.dstack([scene.foreground, np.clip(scene.alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)])
        self.rgba = rgba

    def grid(self, half: bool = True) -> tuple[np.ndarray, np.ndarray]:
        r = self.region
        step = 2 if half else 1
        # Half-resolution samples sit between pixel pairs so that upsampling gives back exact pixels.
        offset = 0.5 if half else 0.0
        xs = np.arange(r.x, r.x + r.w, step, dtype=np.float32) + offset
        ys = np.arange(r.y, r.y + r.h, step, dtype=np.float32) + offset
        return np.meshgrid(xs, ys)

    def sample(self, map_x: np.ndarray, map_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The subject's RGB and alpha (float32) at the given source coordinates over the region."""
        r = self.region
        if map_x.shape != (r.h, r.w):
            map_x = upsample(map_x, r.w, r.h)
            map_y = upsample(map_y, r.w, r.h)
        out = cv2.remap(
            self.rgba, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        )
        return out[:, :, :3], out[:, :, 3].astype(np.float32) * (1.0 / 255.0)

    def render(
        self,
        map_x: np.ndarray,
        map_y: np.ndarray,
        shade: np.ndarray | None = None,
        background: np.ndarray | None = None,
    ) -> np.ndarray:
        rgb, alpha = self.sample(map_x, map_y)
        if shade is not None:
            r = self.region
            if shade.shape != (r.h, r.w):
                shade = upsample(shade, r.w, r.h)
            rgb = apply_shade(rgb, shade)
        frame = (background if background is not None else self.scene.plate).copy()
        blend_into(frame, rgb, alpha, self.region.x, self.region.y)
        return frame


def apply_shade(rgb: np.ndarray, shade: np.ndarray) -> np.ndarray:
    """``rgb * shade`` (shade float HxW, 1 = unchanged, up to 2) in uint8 arithmetic (fast)."""
    gain = np.clip(shade * 128.0, 0, 255).astype(np.uint8)
    return cv2.multiply(rgb, cv2.merge([gain, gain, gain]), scale=1.0 / 128.0)


def contact_shadow(frame: np.ndarray, cx: float, ground_y: float, half_width: float, strength: float) -> None:
    """A soft dark ellipse on the ground under the subject (darkens in place)."""
    if strength <= 0.01 or half_width < 2:
        return
    h, w = frame.shape[:2]
    ry = max(2.0, half_width * 0.16)
    x0, x1 = int(max(0, cx - half_width * 1.3)), int(min(w, cx + half_width * 1.3))
    y0, y1 = int(max(0, ground_y - ry * 2.5)), int(min(h, ground_y + ry * 2.5))
    if x1 <= x0 or y1 <= y0:
        return
    ys, xs = np.ogrid[y0:y1, x0:x1]
    d = ((xs - cx) / half_width) ** 2 + ((ys - ground_y) / ry) ** 2
    frame[y0:y1, x0:x1] = apply_shade(frame[y0:y1, x0:x1], 1.0 - strength * 0.55 * np.exp(-d * 1.6))
