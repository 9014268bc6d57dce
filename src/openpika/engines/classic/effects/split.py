"""Effects that cut the subject: Tear (a jagged rip, the halves pull apart with paper-white torn
edges), Peel (it becomes a sticker whose corner lifts and curls away, revealing the background)
and Cake-ify (a knife slices it and the cut opens on layers of sponge and cream)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from .motion import SubjectSprite, scale_about
from .scene import (
    Renderer,
    Scene,
    SubjectWarper,
    anticipation,
    apply_shade,
    blend_into,
    damped_wave,
    ease_out_back,
    padded_box,
    phase,
    smooth,
    upsample,
)


def _jagged_line(
    scene: Scene, rng: np.random.Generator, top: float, bottom: float, x: float, amplitude: float
) -> np.ndarray:
    """x of a torn edge for every frame row: a slow wander plus sharp zigzags."""
    rows = np.arange(scene.height, dtype=np.float32)
    knots = np.linspace(top, bottom, 9)
    wander = np.interp(rows, knots, rng.normal(0, amplitude, 9))
    zig_knots = np.arange(top, bottom + 8, max(3.0, (bottom - top) / 45))
    zig = np.interp(rows, zig_knots, rng.uniform(-0.35, 0.35, len(zig_knots)) * amplitude)
    return (x + wander + zig).astype(np.float32)


def tear(scene: Scene) -> Renderer:
    box = scene.bbox
    rng = scene.rng(47)
    cx = scene.subject.centroid[0]
    line = _jagged_line(scene, rng, box.y, box.y + box.h, cx, 0.05 * box.w)
    xs = np.arange(scene.width, dtype=np.float32)[None, :]
    left_side = (xs < line[:, None]).astype(np.float32)
    # Torn paper shows white fibres along the rip: lighten a thin band on both sides of the line.
    band = np.clip(1.0 - np.abs(xs - line[:, None]) / (3.0 * scene.scale + 1.0), 0.0, 1.0)
    fibre = scene.foreground.copy()
    edge = band > 0
    fibre[edge] = (
        fibre[edge] * (1 - band[edge, None] * 0.85) + np.array([245, 242, 232]) * band[edge, None] * 0.85
    ).astype(np.uint8)
    left = SubjectSprite(scene, fibre, scene.alpha * left_side)
    right = SubjectSprite(scene, fibre, scene.alpha * (1.0 - left_side))
    pivot_y = scene.ground_y
    pivot_x = float(line[min(scene.height - 1, int(pivot_y) - 1)])
    spread = 1.0 * scene.controls.intensity
    whole = SubjectSprite(scene)

    def render(t: float) -> np.ndarray:
        u = scene.clock(t)
        tension = anticipation(u, 0.08, 0.24)  # pulled inwards a touch before it rips
        if u < 0.24:
            frame = scene.plate.copy()
            squeeze = 1.0 + 0.02 * tension
            whole.draw(frame, scale_about(pivot_x, pivot_y, squeeze, 1.0 / squeeze))
            return frame
        rip = smooth(phase(u, 0.24, 0.5))
        part = ease_out_back(phase(u, 0.45, 0.78), 1.1)
        angle = 10.0 * spread * rip + 4.0 * spread * part
        shift = 0.02 * box.w * tension + 0.2 * box.w * spread * part
        shift += 0.01 * box.w * damped_wave(phase(u, 0.78, 1.0), 2.0, 4.0)
        frame = scene.plate.copy()
        left.draw(frame, scale_about(pivot_x, pivot_y, 1.0, 1.0, -angle, -shift, 0.0))
        right.draw(frame, scale_about(pivot_x, pivot_y, 1.0, 1.0, angle, shift, 0.0))
        return frame

    return render


def peel(scene: Scene) -> Renderer:
    box = scene.bbox
    rng = scene.rng(53)
    region = padded_box(box, 0.6, 0.6, 0.05, scene.width, scene.height)
    # A sticker: the subject with a white die-cut border.
    border = max(2, int(5 * scene.scale))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * border + 1, 2 * border + 1))
    sticker_alpha = cv2.GaussianBlur(cv2.dilate(scene.alpha, kernel), (0, 0), 0.8)
    white = np.full_like(scene.image, 250)
    a3 = scene.alpha[..., None]
    sticker_rgb = (scene.foreground * a3 + white * (1 - a3)).astype(np.uint8)
    front = SubjectWarper(scene, region)
    front.rgba = np.dstack([sticker_rgb, np.clip(sticker_alpha * 255, 0, 255).astype(np.uint8)])
    gx, gy = front.grid()
    # Peel from the lower right corner (or the prompt's direction) towards the opposite side.
    direction = scene.controls.direction
    angle = math.atan2(0.8, 1.0) + rng.uniform(-0.2, 0.2)
    nx, ny = (
        (math.cos(angle), math.sin(angle))
        if direction is None
        else (-direction[0] or 0.3, -direction[1] or 0.3)
    )
    norm = math.hypot(nx, ny)
    nx, ny = nx / norm, ny / norm
    corners = [x * nx + y * ny for x in (box.x, box.x + box.w) for y in (box.y, box.y + box.h)]
    start, end = max(corners), min(corners)
    curl = 0.55  # foreshortening of the lifted flap: it rises off the surface as it curls
    back_colour = np.array([238, 236, 230], np.float32)
    r = region
    sticker_crop = front.rgba[r.y : r.y + r.h, r.x : r.x + r.w, :3]
    sticker_alpha_crop = sticker_alpha[r.y : r.y + r.h, r.x : r.x + r.w]
    subject_crop = scene.alpha[r.y : r.y + r.h, r.x : r.x + r.w]
    # The flap's own alpha, sampled on the half-resolution grid (it only feeds the soft shadow).
    small_alpha = sticker_alpha.astype(np.float32)
    off = max(1, int(3 * scene.scale))

    def render(t: float) -> np.ndarray:
        u = scene.clock(t)
        show_border = smooth(phase(u, 0.05, 0.2)) if scene.controls.allows("outline") else 0.0
        lift = smooth(phase(u, 0.18, 0.85))
        wiggle = 0.015 * (start - end) * anticipation(u, 0.1, 0.2)
        d = start - (start - end + 0.04 * (start - end)) * lift - wiggle
        away = smooth(phase(u, 0.8, 1.0)) * (start - end) * 1.2
        dist = gx * nx + gy * ny
        frame = scene.plate.copy()
        # The part still stuck down, unmoved: straight from the sticker, no resampling needed.
        flat_full = upsample((dist < d).astype(np.float32), r.w, r.h)
        visible = np.maximum(subject_crop, sticker_alpha_crop * show_border) * flat_full
        blend_into(frame, sticker_crop, visible.astype(np.float32), r.x, r.y)
        if lift <= 0.0:
            return frame
        # The flap: output point q shows sticker point p = q + s(1 + c) n, with s = (d - n.q) / c.
        s = np.maximum(0.0, (d - dist + away) / curl)
        src_x = gx + s * (1 + curl) * nx + away * nx
        src_y = gy + s * (1 + curl) * ny + away * ny
        valid = (dist < d + 1).astype(np.float32) * ((src_x * nx + src_y * ny) > d)
        flap_small = cv2.remap(small_alpha, src_x, src_y, cv2.INTER_LINEAR, borderValue=0) * valid
        shade = (0.7 + 0.3 * np.clip(s / max(1.0, 0.3 * (start - end)), 0, 1)).astype(np.float32)
        # A soft shadow of the flap on what lies beneath it (computed at half resolution).
        shadow = np.zeros_like(flap_small)
        shadow[off:, off:] = flap_small[:-off, :-off]
        shadow = cv2.GaussianBlur(shadow, (0, 0), 2.0 * scene.scale + 0.5)
        roi = frame[r.y : r.y + r.h, r.x : r.x + r.w]
        roi[...] = apply_shade(roi, upsample(1.0 - 0.35 * shadow, r.w, r.h))
        fa = upsample(flap_small, r.w, r.h)
        back = apply_shade(np.full((r.h, r.w, 3), back_colour.astype(np.uint8)), upsample(shade, r.w, r.h))
        blend_into(frame, back, fa, r.x, r.y)
        return frame

    return render


SPONGE = (238, 196, 122)
CREAM = (252, 246, 232)


def _cake_texture(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Cross-section of a layer cake: sponge and cream bands, jam lines, crumb speckle."""
    sponge, cream, jam, frosting = SPONGE, CREAM, (196, 28, 52), (255, 214, 228)
    bands = [
        (0.07, frosting),
        (0.2, sponge),
        (0.06, cream),
        (0.015, jam),
        (0.2, sponge),
        (0.06, cream),
        (0.015, jam),
        (0.25, sponge),
        (0.1, frosting),
    ]
    total = sum(b for b, _ in bands)
    edges = np.cumsum([0.0] + [b / total * height for b, _ in bands])
    palette = np.array([c for _, c in bands], np.float32)
    # Layer boundaries wave a little across the slice, as piped cream and baked sponge do.
    xs = np.arange(width, dtype=np.float32)[None, :]
    ys = np.arange(height, dtype=np.float32)[:, None]
    wave = 0.012 * height * np.sin(xs / max(3.0, width / 2.3) + rng.uniform(0, 6)) + rng.normal(
        0, 0.4, (1, width)
    )
    band = np.clip(
        np.searchsorted(edges, (ys + wave).ravel(), side="right").reshape(height, width) - 1,
        0,
        len(bands) - 1,
    )
    tex = palette[band]
    # The cut face is rounded: darker towards its sides.
    tex *= (0.78 + 0.22 * np.sin(np.pi * (xs + 0.5) / width))[..., None]
    crumbs = rng.normal(0, 1, (height, width)).astype(np.float32)
    crumbs = cv2.GaussianBlur(crumbs, (0, 0), 0.8) * 14.0
    is_sponge = np.isin(band, [i for i, (_, c) in enumerate(bands) if c == sponge])
    tex[is_sponge] += crumbs[is_sponge, None]
    return np.clip(tex, 0, 255).astype(np.uint8)


def _draw_knife(frame: np.ndarray, tip: tuple[float, float], length: float, width: float) -> None:
    tx, ty = tip
    blade = np.array(
        [
            [tx, ty],
            [tx + width * 0.2, ty - length],
            [tx - width, ty - length],
            [tx - width, ty - length * 0.15],
        ],
        np.int32,
    )
    cv2.fillPoly(frame, [blade], (208, 214, 222), cv2.LINE_AA)
    shine = np.array(
        [
            [tx - width * 0.15, ty - length * 0.1],
            [tx - width * 0.05, ty - length],
            [tx - width * 0.35, ty - length],
            [tx - width * 0.45, ty - length * 0.2],
        ],
        np.int32,
    )
    cv2.fillPoly(frame, [shine], (240, 244, 248), cv2.LINE_AA)
    cv2.polylines(frame, [blade], True, (120, 126, 136), 2, cv2.LINE_AA)
    handle = np.array(
        [
            [tx + width * 0.25, ty - length],
            [tx - width * 1.05, ty - length],
            [tx - width * 1.0, ty - length * 1.6],
            [tx + width * 0.2, ty - length * 1.6],
        ],
        np.int32,
    )
    cv2.fillPoly(frame, [handle], (70, 44, 30), cv2.LINE_AA)


def cakeify(scene: Scene) -> Renderer:
    box = scene.bbox
    rng = scene.rng(59)
    cut_x = scene.subject.centroid[0] + rng.uniform(-0.06, 0.06) * box.w
    xs = np.arange(scene.width, dtype=np.float32)[None, :]
    left_alpha = scene.alpha * (xs < cut_x)
    right_alpha = scene.alpha * (xs >= cut_x)
    left = SubjectSprite(scene, alpha=left_alpha)
    right = SubjectSprite(scene, alpha=right_alpha)
    column = scene.alpha[:, min(scene.width - 1, int(cut_x))] > 0.5
    rows = np.nonzero(column)[0]
    top, bottom = (int(rows.min()), int(rows.max()) + 1) if len(rows) else (box.y, box.y + box.h)
    gap_max = int(0.22 * box.w * scene.controls.intensity * 1.1) + 2
    texture = _cake_texture(bottom - top, gap_max, rng)
    profile = column[top:bottom].astype(np.float32)
    knife = scene.controls.allows("knife")

    def render(t: float) -> np.ndarray:
        u = scene.clock(t)
        frame = scene.plate.copy()
        slice_depth = smooth(phase(u, 0.22, 0.45))
        open_ = ease_out_back(phase(u, 0.55, 0.8), 1.2)
        gap = min(gap_max, int(gap_max * open_))
        tilt = 5.0 * open_
        left.draw(frame, scale_about(cut_x, float(bottom), 1.0, 1.0, -tilt * 0.3, -gap * 0.25, 0.0))
        if gap > 1:
            x0 = int(cut_x - gap * 0.25)
            section = cv2.resize(texture, (gap, texture.shape[0]), interpolation=cv2.INTER_AREA)
            shade = np.linspace(1.0, 0.7, gap, dtype=np.float32)[None, :].repeat(len(profile), 0)
            alpha = np.repeat(profile[:, None], gap, axis=1)
            blend_into(frame, apply_shade(np.ascontiguousarray(section), shade), alpha, x0, top)
        right.draw(frame, scale_about(cut_x, float(bottom), 1.0, 1.0, tilt, gap * 0.75, 0.0))
        if slice_depth > 0.0 and u < 0.55:
            # The cut line opens behind the blade.
            depth_y = top + (bottom - top) * slice_depth
            cv2.line(
                frame,
                (int(cut_x), top),
                (int(cut_x), int(depth_y)),
                (60, 40, 30),
                max(1, int(2 * scene.scale)),
                cv2.LINE_AA,
            )
        if knife and 0.08 < u < 0.6:
            descend = smooth(phase(u, 0.08, 0.22))
            withdraw = smooth(phase(u, 0.45, 0.58))
            tip_y = (top - 0.9 * box.h) * (1 - descend) + (
                top + (bottom - top) * (0.1 + 0.95 * slice_depth)
            ) * descend
            tip_y -= withdraw * (bottom - top + box.h)
            _draw_knife(frame, (cut_x, tip_y), 0.9 * box.h, 0.09 * box.w + 6)
        return frame

    return render
