"""Soft-body effects done as backward warps of the subject over the clean plate.

Inflate / Deflate change volume with elastic wobble; Squish squashes with area preserved; Crush
flattens with crumpling creases; Poke dents with a fingertip and a ripple; Melt lets the mass sag
and flow into a puddle with drips. Each builds a map from output pixel to subject pixel per frame
(on a half-resolution grid, upsampled: the fields are smooth) and composites the result.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .scene import (
    Renderer,
    Scene,
    SubjectWarper,
    anticipation,
    blend_into,
    contact_shadow,
    damped_wave,
    ease_in,
    ease_out_back,
    padded_box,
    phase,
    smooth,
    upsample,
)


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Band-limited noise in [-1, 1]: random values on a coarse grid, upsampled smoothly."""
    h, w = shape
    coarse = rng.uniform(-1.0, 1.0, (max(2, cells * h // max(h, w)), max(2, cells * w // max(h, w))))
    return cv2.resize(coarse.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)


def inflate(scene: Scene) -> Renderer:
    box = scene.bbox
    region = padded_box(box, 0.4, 0.6, 0.25, scene.width, scene.height)
    warper = SubjectWarper(scene, region)
    gx, gy = warper.grid()
    cx, cy = scene.subject.centroid
    radius = 0.5 * math.hypot(box.w, box.h)
    grow = 0.2 * scene.controls.intensity
    wobble = 0.06 if scene.controls.allows("wobble") else 0.0
    lift_px = 0.04 * box.h
    # Specular highlight up and to the left of the centre: the skin of a balloon catching light.
    hx, hy = cx - 0.25 * box.w, cy - 0.28 * box.h
    highlight = np.exp(-(((gx - hx) / (0.22 * box.w)) ** 2 + ((gy - hy) / (0.18 * box.h)) ** 2)).astype(
        np.float32
    )
    # Balloons are round: directions where the outline is close to the centre are pushed out more,
    # so the silhouette tends to a circle as it inflates.
    outline = _polar_outline(scene.subject.mask, cx, cy)
    circle = float(np.percentile(outline, 85))
    theta = np.arctan2(gy - cy, gx - cx)
    bins = ((theta + math.pi) / (2 * math.pi) * len(outline)).astype(np.int32) % len(outline)
    rounding = np.clip(circle / np.maximum(outline[bins], 1.0), 1.0, 1.35).astype(np.float32) - 1.0
    # How far towards its own outline each point lies (0 centre, 1 edge): for limb darkening.
    to_edge = np.clip(np.hypot(gx - cx, gy - cy) / np.maximum(outline[bins], 1.0), 0.0, 1.0).astype(
        np.float32
    )

    def render(t: float) -> np.ndarray:
        u = scene.clock(t)
        dip = 0.04 * anticipation(u, 0.06, 0.16)
        swell = ease_out_back(smooth(phase(u, 0.16, 0.62)), 1.2)
        s = 1.0 + dip + grow * swell + wobble * damped_wave(phase(u, 0.55, 1.0), 3.0, 3.5)
        lift = lift_px * smooth(phase(u, 0.5, 0.95))
        ccx, ccy = cx, cy - lift
        dx, dy = gx - ccx, gy - ccy
        rn = np.minimum(np.sqrt(dx * dx + dy * dy) / radius, 1.3)
        # A balloon bulges most in the middle: magnification falls off towards the rim.
        factor = (1.0 + (s - 1.0) * (1.3 - 0.6 * rn * rn)) * (1.0 + 0.6 * max(0.0, swell) * rounding)
        # Stretched skin catches a broad highlight and darkens towards the silhouette: it reads as round.
        puff = max(0.0, s - 1.0) / max(grow, 1e-3)
        shade = 1.0 + 0.7 * puff * highlight - 0.3 * puff * to_edge**3
        frame = scene.plate.copy()
        if scene.controls.allows("shadow"):
            contact_shadow(
                frame, cx, scene.ground_y, 0.45 * box.w * s, 0.6 * (1.0 - lift / lift_px * 0.6) * swell
            )
        return warper.render(ccx + dx / factor, cy + dy / factor, shade, background=frame)

    return render


def _polar_outline(mask: np.ndarray, cx: float, cy: float, angles: int = 180) -> np.ndarray:
    """Distance from (cx, cy) to the mask's outer edge in each of ``angles`` directions (smoothed)."""
    h, w = mask.shape
    theta = np.linspace(-math.pi, math.pi, angles, endpoint=False)
    radii = np.arange(0, float(np.hypot(h, w)), 2.0)
    xs = np.clip((cx + np.cos(theta)[:, None] * radii[None, :]).astype(np.int32), 0, w - 1)
    ys = np.clip((cy + np.sin(theta)[:, None] * radii[None, :]).astype(np.int32), 0, h - 1)
    inside = mask[ys, xs]
    last = radii.size - 1 - np.argmax(inside[:, ::-1], axis=1)
    outline = np.where(inside.any(axis=1), radii[last], 1.0).astype(np.float32)
    # Heavily smoothed around the circle: the rounding must vary slowly with direction, or the
    # outline would come out jagged where it jumps (a head above shoulders).
    pad = angles // 6
    ring = np.concatenate([outline[-pad:], outline, outline[:pad]])
    kernel = np.hanning(2 * pad + 1)
    return np.convolve(ring, kernel / kernel.sum(), mode="same")[pad:-pad].astype(np.float32)


def _ground_squash(
    scene: Scene, warper: SubjectWarper, sx_of_height: np.ndarray, sy: float, lean: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Maps for a squash anchored on the ground: height scaled by ``sy``, width by ``sx`` per row."""
    gx, gy = warper.grid()
    cx = scene.subject.centroid[0]
    ground = scene.ground_y
    src_y = ground - (ground - gy) / max(sy, 1e-3)
    height_frac = np.clip((ground - src_y) / max(1.0, scene.bbox.h), 0.0, 1.2)
    src_x = cx + (gx - cx - lean * height_frac**2 * scene.bbox.w) / sx_of_height
    return src_x, src_y


def deflate(scene: Scene) -> Renderer:
    box = scene.bbox
    region = padded_box(box, 0.45, 0.1, 0.05, scene.width, scene.height)
    warper = SubjectWarper(scene, region)
    gx, gy = warper.grid()
    rng = scene.rng(11)
    amount = min(0.8, 0.55 * scene.controls.intensity)
    side = 1.0 if rng.random() < 0.5 else -1.0
    wrinkles = _smooth_noise(rng, gx.shape, 18)
    wobble = 1.0 if scene.controls.allows("wobble") else 0.0

    def render(t: float) -> np.ndarray:
        u = scene.clock(t)
        puff = 0.04 * -anticipation(u, 0.05, 0.16)
        collapse = smooth(phase(u, 0.16, 0.72))
        # The escaping air makes it flutter while it collapses, then it settles.
        flutter = wobble * 0.04 * math.sin(u * 70.0) * math.sin(math.pi * phase(u, 0.16, 0.72))
        sy = 1.0 + puff - amount * collapse + 0.03 * wobble * damped_wave(phase(u, 0.7, 1.0), 2.0, 4.0)
        gh = np.clip((scene.ground_y - gy) / max(1.0, box.h * sy), 0.0, 1.0)
        # The deflated skin spreads at its base and narrows at the top.
        sx = 1.0 + puff + flutter + collapse * amount * (0.35 * (1.0 - gh) - 0.45 * gh)
        src_x, src_y = _ground_squash(scene, warper, sx, sy, lean=0.12 * side * collapse)
        crease = collapse * amount
        src_x = src_x + wrinkles * 6.0 * scene.scale * crease
        shade = 1.0 - 0.25 * crease * np.abs(wrinkles) - 0.12 * crease
        return warper.render(src_x, src_y, shade.astype(np.float32))

    return render


def squish(scene: Scene) -> Renderer:
    box = scene.bbox
    region = padded_box(box, 0.55, 0.15, 0.05, scene.width, scene.height)
    warper = SubjectWarper(scene, region)
    _gx, gy = warper.grid()
    amount = min(0.6, 0.36 * scene.controls.intensity)
    wobble = 1.0 if scene.controls.allows("wobble") else 0.0

    def render(t: float) -> np.ndarray:
        u = scene.clock(t)
        stretch = 0.06 * -anticipation(u, 0.06, 0.2)  # rises a little before the squash
        squash = ease_out_back(phase(u, 0.2, 0.36), 1.0)
        jiggle = wobble * 0.08 * damped_wave(phase(u, 0.36, 1.0), 3.0, 4.5)
        sy = 1.0 + stretch - amount * squash + jiggle
        gh = np.clip((scene.ground_y - gy) / max(1.0, box.h * sy), 0.0, 1.0)
        # Area is preserved (sx * sy = 1 on average), bulging most around the middle height.
        width_gain = 1.0 / max(sy, 0.2) - 1.0
        sx = 1.0 + width_gain * (0.7 + 0.6 * np.sin(np.pi * gh))
        src_x, src_y = _ground_squash(scene, warper, sx.astype(np.float32), sy)
        frame = scene.plate.copy()
        if scene.controls.allows("shadow"):
            contact_shadow(
                frame, scene.subject.centroid[0], scene.ground_y, 0.5 * box.w * (1 + width_gain), 0.5
            )
        return warper.render(src_x, src_y, background=frame)

    return render


def crush(scene: Scene) -> Renderer:
    box = scene.bbox
    region = padded_box(box, 0.35, 0.05, 0.05, scene.width, scene.height)
    warper = SubjectWarper(scene, region)
    gx, gy = warper.grid()
    rng = scene.rng(13)
    amount = min(0.85, 0.7 * scene.controls.intensity)
    crumple_x = _smooth_noise(rng, gx.shape, 26)
    crumple_y = _smooth_noise(rng, gx.shape, 26)
    creases = np.abs(_smooth_noise(rng, gx.shape, 40))
    tremble = 1.0 if scene.controls.allows("wobble") else 0.0

    def render(t: float) -> np.ndarray:
        u = scene.clock(t)
        # Resists, trembling, then gives way all at once and crumples flat.
        resist = 0.08 * smooth(phase(u, 0.1, 0.3))
        give = ease_in(phase(u, 0.3, 0.46))
        shake = tremble * 3.0 * scene.scale * math.sin(u * 160.0) * (phase(u, 0.1, 0.3) - phase(u, 0.3, 0.35))
        sy = 1.0 - resist - (amount - resist) * give
        crumple = smooth(phase(u, 0.3, 0.55))
        gh = np.clip((scene.ground_y - gy) / max(1.0, box.h * sy), 0.0, 1.0)
        sx = 1.0 + 0.28 * amount * give * (1.0 - 0.5 * gh)
        src_x, src_y = _ground_squash(scene, warper, sx.astype(np.float32), sy)
        amp = 14.0 * scene.scale * crumple
        src_x = src_x + crumple_x * amp + shake
        src_y = src_y + crumple_y * amp / max(sy, 0.2)
        shade = 1.0 - 0.45 * crumple * (1.0 - np.clip(creases * 3.0, 0.0, 1.0)) + 0.12 * crumple * crumple_x
        return warper.render(src_x, src_y, shade.astype(np.float32))

    return render


def _draw_finger(
    frame: np.ndarray, tip: tuple[float, float], direction: tuple[float, float], width: float
) -> None:
    """A cartoon fingertip reaching in from outside the frame towards ``tip``."""
    tx, ty = tip
    dx, dy = direction
    far = (int(tx - dx * 4000), int(ty - dy * 4000))
    skin_dark, skin, nail = (176, 112, 84), (236, 176, 140), (250, 214, 204)
    thick = max(3, int(width))
    cv2.line(frame, far, (int(tx), int(ty)), skin_dark, thick + 4, cv2.LINE_AA)
    cv2.line(frame, far, (int(tx), int(ty)), skin, thick, cv2.LINE_AA)
    # A lighter stripe along the finger for roundness, and the nail near the tip.
    nx, ny = -dy, dx
    off = width * 0.18
    cv2.line(
        frame,
        far,
        (int(tx - dx * width * 0.3 + nx * off), int(ty - dy * width * 0.3 + ny * off)),
        (248, 200, 170),
        max(2, thick // 4),
        cv2.LINE_AA,
    )
    angle = math.degrees(math.atan2(dy, dx))
    centre = (int(tx - dx * width * 0.55), int(ty - dy * width * 0.55))
    cv2.ellipse(frame, centre, (int(width * 0.4), int(width * 0.3)), angle, 0, 360, nail, -1, cv2.LINE_AA)


def poke(scene: Scene) -> Renderer:
    box = scene.bbox
    region = padded_box(box, 0.1, 0.1, 0.05, scene.width, scene.height)
    warper = SubjectWarper(scene, region)
    warper.rgba = np.dstack([scene.image, np.clip(scene.alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)])
    gx, gy = warper.grid()
    rng = scene.rng(17)
    cx, cy = scene.subject.centroid
    # Poke near the middle of the subject, a little off-centre; a finger is ~1/8 of a body.
    px = cx + rng.uniform(-0.12, 0.12) * box.w
    py = cy + rng.uniform(-0.15, 0.05) * box.h
    if not scene.subject.mask[int(min(scene.height - 1, max(0, py))), int(min(scene.width - 1, max(0, px)))]:
        px, py = cx, cy
    radius = max(10.0, 0.09 * min(box.w, box.h)) * (0.8 + 0.4 * scene.controls.intensity)
    dx, dy = gx - px, gy - py
    r = np.sqrt(dx * dx + dy * dy) + 1e-3
    bowl = np.exp(-((r / radius) ** 2))
    angle = rng.uniform(-0.5, 0.5) + math.radians(-35.0)
    finger_dir = (-math.cos(angle), -math.sin(angle))  # pointing up-left, from the lower right
    depth = 0.45 * min(1.3, scene.controls.intensity)
    show_finger = scene.controls.allows("finger")

    def render(t: float) -> np.ndarray:
        u = scene.clock(t)
        approach = smooth(phase(u, 0.1, 0.3))
        press = ease_out_back(phase(u, 0.28, 0.38), 1.0) * (1.0 - smooth(phase(u, 0.52, 0.68)))
        # After release the surface springs back through the rest shape: a ripple runs outwards.
        since = max(0.0, u - 0.6)
        wave = np.zeros_like(r)
        if since > 0.0:
            front = since * 3.0 * radius * 4.0
            envelope = np.exp(-(((r - front) / (1.2 * radius)) ** 2)) * math.exp(-since * 5.0)
            wave = 0.22 * radius * envelope * np.sin(2.0 * np.pi * (r - front) / (1.1 * radius))
        pinch = depth * press * bowl
        src_x = gx + dx * pinch + dx / r * wave
        src_y = gy + dy * pinch + dy / r * wave
        shade = (
            1.0 - 0.35 * press * bowl + 0.18 * press * np.exp(-(((r - 1.3 * radius) / (0.4 * radius)) ** 2))
        )
        shade = shade + (0.5 * wave / radius if since > 0.0 else 0.0)
        # The subject stays in place, so the photo itself is the right background (no plate seam).
        frame = warper.render(src_x, src_y, shade.astype(np.float32), background=scene.image)
        if show_finger and approach > 0.0 and u < 0.6:
            retreat = smooth(phase(u, 0.48, 0.6))
            reach = (1.0 - approach) + retreat
            tip = (
                px - finger_dir[0] * reach * 2.5 * scene.width,
                py - finger_dir[1] * reach * 2.5 * scene.width,
            )
            _draw_finger(frame, tip, finger_dir, 2.2 * radius)
        return frame

    return render


def melt(scene: Scene) -> Renderer:
    box = scene.bbox
    region = padded_box(box, 0.45, 0.05, 0.12, scene.width, scene.height)
    warper = SubjectWarper(scene, region)
    # The molten surface is smoother and glossier than the solid: a blurred, brightened copy.
    liquid = SubjectWarper(scene, region)
    blurred = cv2.GaussianBlur(warper.rgba, (0, 0), 2.5 * scene.scale + 0.5)
    liquid.rgba = np.dstack([cv2.convertScaleAbs(blurred[:, :, :3], alpha=1.1, beta=6), blurred[:, :, 3]])
    gx, gy = warper.grid()
    rng = scene.rng(19)
    amount = min(0.9, 0.72 * scene.controls.intensity)
    cx = scene.subject.centroid[0]
    ground = scene.ground_y
    # Columns melt at slightly different rates, so the top sags unevenly.
    columns = (1.0 + 0.18 * _smooth_noise(rng, (1, gx.shape[1]), 8)[0]).astype(np.float32)
    # Drips: narrow tongues that run down over the bottom edge onto the ground.
    drip = np.zeros(gx.shape[1], np.float32)
    if scene.controls.allows("drips"):
        for _ in range(int(rng.integers(3, 7))):
            at = rng.uniform(box.x + 0.15 * box.w, box.x + 0.85 * box.w)
            width = rng.uniform(0.012, 0.025) * box.w
            drip = np.maximum(drip, rng.uniform(0.5, 1.0) * np.exp(-(((gx[0] - at) / width) ** 2)))
    drip_len = 0.1 * box.h
    ys_rel = gy - ground

    def render(t: float) -> np.ndarray:
        u = scene.clock(t)
        flow = smooth(phase(u, 0.1, 0.88))
        m = np.clip(amount * flow * columns, 0.0, 0.95)[None, :]
        hd = ground - gy
        # Height above ground shrinks (mass sags, the top most) and the base spreads into a puddle.
        src_h = hd / (1.0 - m) ** (1.0 + 0.6 * np.clip(hd / max(1.0, box.h), 0, 1))
        spread = 1.0 + 0.45 * amount * flow * np.exp(-np.maximum(hd, 0.0) / (0.12 * box.h))
        src_x = cx + (gx - cx) / spread
        # A drip samples from higher up, so its column of colour extends below the old bottom edge.
        reach = drip_len * smooth(phase(u, 0.3, 0.95)) * drip[None, :]
        pull = reach * np.clip(1.0 - np.abs(ys_rel) / np.maximum(reach, 1e-3), 0.0, 1.0) ** 0.5
        src_y = ground - src_h - pull
        rgb, alpha = warper.sample(src_x, src_y)
        soft_rgb, soft_a = liquid.sample(src_x, src_y)
        mix = (
            upsample(np.ascontiguousarray(np.broadcast_to(m, gx.shape), np.float32), region.w, region.h)
            * 1.05
        )
        mix = np.minimum(mix, 1.0)
        rgb = cv2.blendLinear(soft_rgb, rgb, mix, 1.0 - mix)
        alpha = cv2.blendLinear(soft_a, alpha, mix, 1.0 - mix)
        frame = scene.plate.copy()
        blend_into(frame, rgb, alpha, region.x, region.y)
        return frame

    return render
