"""Life the prompt asks for: particles and light flicker over the frame, clouds drifting in the sky.

(The handheld shake is a camera motion, so it lives in ``camera.trajectory``.)

Clouds drift only where a sky is found: a smooth, bright region connected to the top of the photo
and lying in its upper part. The sky's texture slides sideways inside that region, sampling from a
sky plate whose colours are spread under everything that is not sky (so no tree or roof is dragged
along), and clear sky enters at the edge. No sky found: no drift, rather than a sliding wall.

Particles are light: each is a small pre-rendered sprite (a soft snowflake, a motion-blurred rain
streak, a dust mote, a four-point glint) *screened* onto its patch of the frame, so they brighten
what is under them the way real specks of light do and never paint flat white dots. Nearer
particles are bigger, softer and faster. Positions are a pure function of time and the seed, so
a clip renders identically every time. Sprites are pre-rendered at quarter-pixel offsets so slow
motes glide instead of stepping from pixel to pixel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .camera.plan import CameraPlan, Effect

_SUBPIXEL = 4  # sprite phases per pixel, per axis


@dataclass(frozen=True)
class _Kind:
    density: float  # particles per megapixel of output
    size: tuple[float, float]  # sprite radius range (px at 720p)
    velocity: tuple[float, float]  # (vx, vy) px/s at 720p, for the nearest particles
    spread: float  # random spread of the velocity, fraction
    brightness: tuple[float, float]
    sway: float  # px of sideways wobble
    twinkle: float  # 0 = steady, 1 = pops in and out


_KINDS: dict[Effect, _Kind] = {
    "snow": _Kind(260, (1.5, 5.5), (18.0, 95.0), 0.35, (0.6, 0.95), 14.0, 0.0),
    "rain": _Kind(420, (22.0, 55.0), (-120.0, 1250.0), 0.15, (0.14, 0.3), 0.0, 0.0),
    "dust": _Kind(160, (1.0, 2.8), (6.0, -4.0), 1.2, (0.35, 0.75), 10.0, 0.35),
    "sparkles": _Kind(120, (4.0, 12.0), (0.0, -6.0), 0.8, (0.75, 1.0), 3.0, 0.85),
}
_TINTS: dict[Effect, tuple[float, float, float]] = {
    "snow": (1.0, 1.0, 1.0),
    "rain": (0.85, 0.9, 1.0),
    "dust": (1.0, 0.93, 0.8),
    "sparkles": (1.0, 0.95, 0.85),
}


def _blob(radius: float, dx: float, dy: float) -> np.ndarray:
    size = math.ceil(radius * 2.5) * 2 + 1
    c = size // 2
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    r2 = (xs - c - dx) ** 2 + (ys - c - dy) ** 2
    return np.exp(-r2 / (2 * (radius * 0.55) ** 2)).astype(np.float32)


def _streak(length: float, angle: float) -> np.ndarray:
    half = math.ceil(length / 2) + 2
    canvas = np.zeros((2 * half + 1, 2 * half + 1), np.float32)
    dx, dy = math.sin(angle) * length / 2, math.cos(angle) * length / 2
    p0 = (round((half - dx) * 16), round((half - dy) * 16))
    p1 = (round((half + dx) * 16), round((half + dy) * 16))
    cv2.line(canvas, p0, p1, 1.0, 1, cv2.LINE_AA, shift=4)
    return cv2.GaussianBlur(canvas, (0, 0), 0.6) * 1.6


def _glint(radius: float, dx: float, dy: float) -> np.ndarray:
    """A four-point star: a bright core, thin rays and a faint halo, like light on a facet."""
    core = _blob(radius * 0.3, dx, dy)
    size = core.shape[0]
    big = _blob(radius * 0.8, dx, dy)
    pad = (big.shape[0] - size) // 2
    core = np.pad(core, pad)
    size = core.shape[0]
    c = size // 2
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    ax, ay = np.abs(xs - c - dx), np.abs(ys - c - dy)
    rays = np.exp(-ay / 0.7) * np.exp(-ax / (radius * 0.6)) + np.exp(-ax / 0.7) * np.exp(-ay / (radius * 0.6))
    return np.clip(core + 0.8 * rays + 0.25 * big, 0.0, 1.0).astype(np.float32)


class _Particles:
    def __init__(self, effect: Effect, width: int, height: int, fps: int, seed: int) -> None:
        kind = _KINDS[effect]
        rng = np.random.default_rng([abs(int(seed)) % (2**63), 101 + list(_KINDS).index(effect)])
        scale = min(width, height) / 720.0
        count = max(8, int(kind.density * width * height / 1e6))
        self.width, self.height, self.fps = width, height, fps
        near = rng.uniform(0.35, 1.0, count) ** 1.5  # more far particles than near ones
        self.x0 = rng.uniform(0, width, count)
        self.y0 = rng.uniform(0, height, count)
        spread = 1.0 + kind.spread * rng.uniform(-1, 1, (count, 2))
        self.vx = kind.velocity[0] * scale * near * spread[:, 0]
        self.vy = kind.velocity[1] * scale * near * spread[:, 1]
        self.sway = kind.sway * scale * near
        self.sway_f = rng.uniform(0.15, 0.5, count)
        self.phase = rng.uniform(0, 2 * math.pi, count)
        self.twinkle_f = rng.uniform(0.4, 1.4, count)
        self.twinkle = kind.twinkle
        self.brightness = rng.uniform(*kind.brightness, count) * (0.6 + 0.4 * near)
        self.tint = np.array(_TINTS[effect], np.float32)
        self.margin = kind.size[1] * scale * 3 + 8
        lo, hi = kind.size
        self.size_class = np.minimum(5, (near * 6).astype(int))
        radii = [(lo + (hi - lo) * (c + 0.5) / 6) * scale for c in range(6)]
        if effect == "rain":
            angle = math.atan2(kind.velocity[0], kind.velocity[1])
            self.sprites = [[_streak(r, angle)] for r in radii]
            self.subpixel = False
        else:
            make = _glint if effect == "sparkles" else _blob
            phases = [i / _SUBPIXEL for i in range(_SUBPIXEL)]
            self.sprites = [[make(r, dx, dy) for dy in phases for dx in phases] for r in radii]
            self.subpixel = True

    def draw(self, frame: np.ndarray, index: int) -> None:
        t = index / self.fps
        span_w, span_h = self.width + 2 * self.margin, self.height + 2 * self.margin
        xs = (
            self.x0 + self.vx * t + self.sway * np.sin(2 * math.pi * self.sway_f * t + self.phase)
        ) % span_w - self.margin
        ys = (self.y0 + self.vy * t) % span_h - self.margin
        light = self.brightness
        if self.twinkle:
            wave = 0.5 + 0.5 * np.sin(2 * math.pi * self.twinkle_f * t + self.phase)
            light = light * ((1 - self.twinkle) + self.twinkle * wave**3)
        for x, y, cls, level in zip(xs, ys, self.size_class, light, strict=True):
            if level < 0.02:
                continue
            ix, iy = math.floor(x), math.floor(y)
            if self.subpixel:
                sub = int((y - iy) * _SUBPIXEL) * _SUBPIXEL + int((x - ix) * _SUBPIXEL)
                sprite = self.sprites[cls][sub]
            else:
                sprite = self.sprites[cls][0]
            self._screen(frame, sprite, ix, iy, float(level))

    def _screen(self, frame: np.ndarray, sprite: np.ndarray, x: int, y: int, level: float) -> None:
        half = sprite.shape[0] // 2
        x0, y0, x1, y1 = x - half, y - half, x + half + 1, y + half + 1
        fx0, fy0, fx1, fy1 = max(0, x0), max(0, y0), min(self.width, x1), min(self.height, y1)
        if fx1 <= fx0 or fy1 <= fy0:
            return
        patch = frame[fy0:fy1, fx0:fx1].astype(np.float32)
        a = sprite[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0, None] * level
        # Screen blend: light adds to what is there and saturates gently instead of clipping.
        patch += (255.0 * self.tint - patch) * a
        frame[fy0:fy1, fx0:fx1] = patch.astype(np.uint8)


class _Flicker:
    """Brightness that breathes like a flame or a failing tube: smooth noise, 1.5-9 Hz."""

    def __init__(self, fps: int, seed: int) -> None:
        rng = np.random.default_rng([abs(int(seed)) % (2**63), 211])
        self.fps = fps
        self.freqs = rng.uniform(1.5, 9.0, 5)
        self.phases = rng.uniform(0, 2 * math.pi, 5)
        self.amps = rng.uniform(0.5, 1.0, 5) / np.arange(1, 6)
        self.ramp = np.arange(256, dtype=np.float32)

    def apply(self, frame: np.ndarray, index: int) -> np.ndarray:
        t = index / self.fps
        wave = float((self.amps * np.sin(2 * math.pi * self.freqs * t + self.phases)).sum() / self.amps.sum())
        gain = 1.0 + 0.09 * wave
        lut = np.clip(self.ramp * gain, 0, 255).astype(np.uint8)
        return cv2.LUT(frame, lut)


class Atmosphere:
    """Everything the plan's effects ask for; a no-op when it asks for nothing."""

    def __init__(self, plan: CameraPlan, width: int, height: int, fps: int, seed: int) -> None:
        self.particles = [
            _Particles(e, width, height, fps, seed) for e in sorted(plan.effects) if e in _KINDS
        ]
        self.flicker = _Flicker(fps, seed) if "flicker" in plan.effects else None

    @property
    def active(self) -> bool:
        """Whether ``apply`` changes frames at all (a renderer may then skip RGB entirely)."""
        return self.flicker is not None or bool(self.particles)

    def apply(self, frame: np.ndarray, index: int) -> np.ndarray:
        if self.flicker is not None:
            frame = self.flicker.apply(frame, index)
        for particles in self.particles:
            particles.draw(frame, index)
        return frame


SKY_ANALYSIS_SIDE = 256
SKY_DRIFT = 0.04  # of the image width per 5 s


def find_sky(image: np.ndarray) -> np.ndarray | None:
    """Float32 (H, W) soft mask of the sky, or None when the photo shows no clear sky."""
    h, w = image.shape[:2]
    scale = SKY_ANALYSIS_SIDE / max(h, w)
    small = cv2.resize(
        image, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    sh, sw = small.shape[:2]
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    # Sky is smooth at fine scale (clouds are soft); foliage, roofs and walls' texture are not.
    fine = cv2.blur(np.abs(cv2.Laplacian(gray, cv2.CV_32F, ksize=3)), (5, 5))
    smooth_and_bright = (fine < 14.0) & (gray > 70)
    # Sky is what the eye meets looking down each column from the top before anything else: a
    # pale facade below a roof line is not sky, however smooth. (A soft cloud's rim may be a
    # little sharper than the rest of the sky without ending the run.)
    skyish = ((fine < 30.0) & (gray > 60)).astype(np.int32)
    run_from_top = np.cumsum(1 - skyish, axis=0) <= 2
    raw = (smooth_and_bright & run_from_top).astype(np.uint8)
    closed = cv2.morphologyEx(raw, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    candidate = cv2.morphologyEx(closed, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=8)
    keep = [
        i
        for i in range(1, count)
        if stats[i, cv2.CC_STAT_TOP] == 0 and stats[i, cv2.CC_STAT_AREA] > 0.02 * sh * sw
    ]
    if not keep:
        return None
    sky = np.isin(labels, keep)
    rows = np.nonzero(sky)[0]
    if not 0.08 < sky.mean() < 0.75 or rows.mean() > 0.45 * sh:
        return None
    soft = cv2.GaussianBlur(sky.astype(np.float32), (0, 0), 1.5)
    return cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR)


def _spread(rgb: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Extend the colours of ``known`` pixels over the others (normalised box filters, nearest first)."""
    colour = rgb.astype(np.float32)
    weight_known = known.astype(np.float32)
    out = colour.copy()
    pending = ~known
    side = max(rgb.shape[:2])
    size = 9
    while pending.any() and size < 2 * side:
        weight = cv2.blur(weight_known, (size, size))
        take = pending & (weight > 0.02)
        out[take] = cv2.blur(colour * weight_known[..., None], (size, size))[take] / weight[take][:, None]
        pending &= ~take
        size *= 3
    out[pending] = colour[known].mean(axis=0) if known.any() else 128
    return np.clip(out, 0, 255).astype(np.uint8)


class SkyDrift:
    """The background layer's pixels with the clouds moved ``SKY_DRIFT`` of the width per 5 s."""

    def __init__(self, image: np.ndarray, sky: np.ndarray, fps: int, direction: int = 1) -> None:
        w = sky.shape[1]
        self.image = image
        self.fps = fps
        self.speed = direction * SKY_DRIFT * w / 5.0  # px per second
        # Only the sky's inside lends texture and moves: its rim still holds the colours of what
        # borders it (hair, roofs), which must not drift off. The weight fades out inside the
        # texture region, so at rest every moving pixel shows exactly the photo.
        hard = (sky > 0.5).astype(np.uint8)
        inner = cv2.erode(hard, np.ones((9, 9), np.uint8))
        core = cv2.erode(inner, np.ones((13, 13), np.uint8)).astype(np.float32)
        self.weight = cv2.GaussianBlur(core, (0, 0), 2.0)
        plate = _spread(image, inner > 0) if inner.any() else image
        # Clear sky (the plate heavily blurred) waits beyond the edges to drift in.
        self.pad = int(abs(self.speed) * 10.5) + 4  # enough for a 10 s clip
        padded = cv2.copyMakeBorder(plate, 0, 0, self.pad, self.pad, cv2.BORDER_REFLECT101)
        blurred = cv2.GaussianBlur(padded, (0, 0), max(4.0, self.pad / 2))
        ramp = np.ones(padded.shape[1], np.float32)
        ramp[: self.pad] = np.linspace(0, 1, self.pad)
        ramp[-self.pad :] = np.linspace(1, 0, self.pad)
        ramp_3d = ramp[None, :, None]
        self.plate = (padded * ramp_3d + blurred * (1 - ramp_3d)).astype(np.uint8)

    def layer(self, index: int) -> np.ndarray:
        h, w = self.weight.shape
        shift = self.pad - self.speed * index / self.fps
        moved = cv2.warpAffine(
            self.plate,
            np.array([[1, 0, shift], [0, 1, 0]], np.float64),
            (w, h),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REFLECT101,
        )
        return cv2.blendLinear(moved, self.image, self.weight, 1.0 - self.weight)
