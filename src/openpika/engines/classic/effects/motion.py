"""Rigid moves of the whole subject: Levitate (rises, hovers and bobs over a shrinking contact
shadow) and Ta-da (a magician's cloth drops over it and is whisked away in a burst of sparkles,
and the subject bounces with the reveal)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..subject import Box
from .burst import glow_pulse, sparkles
from .scene import (
    Renderer,
    Scene,
    anticipation,
    apply_shade,
    blend_into,
    contact_shadow,
    damped_wave,
    ease_out_back,
    padded_box,
    phase,
    smooth,
)


class SubjectSprite:
    """The subject's RGBA cut out of its (padded) box, drawn with any affine transform."""

    def __init__(
        self,
        scene: Scene,
        rgb: np.ndarray | None = None,
        alpha: np.ndarray | None = None,
        box: Box | None = None,
    ) -> None:
        self.scene = scene
        self.box = padded_box(box or scene.bbox, 0.02, 0.02, 0.02, scene.width, scene.height)
        b = self.box
        rgb = scene.foreground if rgb is None else rgb
        alpha = scene.alpha if alpha is None else alpha
        self.rgba = np.dstack(
            [
                rgb[b.y : b.y + b.h, b.x : b.x + b.w],
                np.clip(alpha[b.y : b.y + b.h, b.x : b.x + b.w] * 255 + 0.5, 0, 255).astype(np.uint8),
            ]
        )

    def draw(self, frame: np.ndarray, transform: np.ndarray, rgba: np.ndarray | None = None) -> None:
        """``transform``: 2x3 affine from original frame coordinates to new frame coordinates;
        ``rgba``: this frame's own version of the sprite's pixels (the sprite is shared by frames
        drawn on several threads, so a renderer must not change ``self.rgba``)."""
        b = self.box
        corners = np.array(
            [[b.x, b.y, 1], [b.x + b.w, b.y, 1], [b.x, b.y + b.h, 1], [b.x + b.w, b.y + b.h, 1]], np.float64
        )
        moved = corners @ transform.T
        h, w = frame.shape[:2]
        x0, y0 = max(0, int(moved[:, 0].min()) - 1), max(0, int(moved[:, 1].min()) - 1)
        x1, y1 = min(w, int(moved[:, 0].max()) + 2), min(h, int(moved[:, 1].max()) + 2)
        if x1 <= x0 or y1 <= y0:
            return
        to_patch = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64)
        from_sprite = np.array([[1, 0, b.x], [0, 1, b.y], [0, 0, 1]], np.float64)
        full = to_patch @ np.vstack([transform, [0, 0, 1]]) @ from_sprite
        patch = cv2.warpAffine(
            self.rgba if rgba is None else rgba,
            full[:2],
            (x1 - x0, y1 - y0),
            flags=cv2.INTER_LINEAR,
            borderValue=(0, 0, 0, 0),
        )
        blend_into(frame, patch[:, :, :3], patch[:, :, 3].astype(np.float32) * (1.0 / 255.0), x0, y0)


def scale_about(
    cx: float, cy: float, sx: float, sy: float, angle_deg: float = 0.0, dx: float = 0.0, dy: float = 0.0
) -> np.ndarray:
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    linear = np.array([[c, -s], [s, c]]) @ np.diag([sx, sy])
    shift = np.array([cx + dx, cy + dy]) - linear @ np.array([cx, cy])
    return np.hstack([linear, shift[:, None]])


def levitate(scene: Scene) -> Renderer:
    box = scene.bbox
    sprite = SubjectSprite(scene)
    # The frame may cut the subject off at the bottom; lifted, that cut would show as a hard
    # straight edge, so the bottom fades out over a band that grows with the lift.
    cut_at_bottom = sprite.box.y + sprite.box.h >= scene.height - 1
    band = max(2, int(0.1 * box.h))
    bottom_alpha = sprite.rgba[-band:, :, 3].astype(np.float32)
    cx, _cy = scene.subject.centroid
    base_x = cx
    height = 0.16 * min(scene.height, box.h * 1.2) * scene.controls.intensity
    direction = scene.controls.direction or (0.0, -1.0)
    if direction[1] > 0:
        direction = (direction[0], -0.3)  # it still has to leave the ground
    norm = math.hypot(*direction)
    dx_unit, dy_unit = direction[0] / norm, direction[1] / norm
    bob = 1.0 if scene.controls.allows("wobble") else 0.0
    shadow = scene.controls.allows("shadow")

    def render(t: float) -> np.ndarray:
        u = scene.clock(t)
        dip = anticipation(u, 0.08, 0.2)  # crouches before it lifts
        rise = smooth(phase(u, 0.2, 0.62))
        rise = rise + 0.08 * damped_wave(phase(u, 0.62, 1.0), 1.0, 3.0) if rise >= 1.0 else rise
        hover = bob * 0.06 * math.sin(2 * math.pi * 1.1 * max(0.0, u - 0.55)) * smooth(phase(u, 0.5, 0.7))
        lift = height * (rise + hover)
        squash = 1.0 + 0.03 * dip
        tilt = bob * 2.0 * math.sin(2 * math.pi * 0.7 * u) * smooth(phase(u, 0.25, 0.6))
        frame = scene.plate.copy()
        if shadow:
            # The contact shadow stays on the ground, shrinking and fading as the subject rises.
            k = lift / max(1.0, height)
            contact_shadow(
                frame,
                base_x + dx_unit * lift,
                scene.ground_y,
                0.45 * box.w * (1 - 0.45 * k),
                0.75 * (1 - 0.6 * k) * smooth(phase(u, 0.06, 0.2)),
            )
        m = scale_about(cx, scene.ground_y, 1.0 / squash, squash, tilt, dx_unit * lift, dy_unit * lift)
        rgba = None
        if cut_at_bottom:
            fade_rows = max(1.0, min(float(band), 1.5 * lift))
            ramp = np.clip((band - 1 - np.arange(band, dtype=np.float32)) / fade_rows, 0.0, 1.0)
            rgba = sprite.rgba.copy()
            rgba[-band:, :, 3] = (bottom_alpha * ramp[:, None]).astype(np.uint8)
        sprite.draw(frame, m, rgba)
        return frame

    return render


def _cloth(scene: Scene, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, Box]:
    """A red magician's cloth draped over the subject: RGB, alpha and the box they fill."""
    box = scene.bbox
    region = padded_box(box, 0.12, 0.12, 0.02, scene.width, scene.height)
    mask = scene.subject.mask[region.y : region.y + region.h, region.x : region.x + region.w].astype(np.uint8)
    points = cv2.findNonZero(mask)
    hull: np.ndarray = np.zeros_like(mask)
    if points is not None:
        cv2.fillConvexPoly(hull, cv2.convexHull(points), 1)
    size = max(3, int(0.08 * max(box.w, box.h)))
    hull = cv2.dilate(hull, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    h, w = hull.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    bottom = np.nonzero(hull.any(axis=1))[0].max() if hull.any() else h - 1
    hem = bottom - 0.04 * box.h * (1 + np.sin(xs / max(4.0, w / 9.0) * 2 * math.pi + rng.uniform(0, 6)))
    alpha = cv2.GaussianBlur((hull > 0).astype(np.float32) * (ys <= hem), (0, 0), 1.2)
    folds = 0.5 + 0.5 * np.cos(2 * math.pi * xs / max(6.0, w / 7.0) + 0.6 * np.sin(ys / max(4.0, h / 3.0)))
    cols = np.nonzero(hull.any(axis=0))[0]
    mid = (cols.min() + cols.max()) / 2.0 if len(cols) else w / 2
    half = max(1.0, (cols.max() - cols.min()) / 2.0) if len(cols) else w / 2
    roundness = np.cos(np.clip((xs - mid) / half, -1, 1) * math.pi / 2) ** 0.5
    shade = (0.45 + 0.35 * roundness + 0.2 * folds) * (1.0 - 0.25 * (ys / h))
    base = np.full((h, w, 3), (190, 22, 38), np.uint8)
    rgb = apply_shade(base, shade.astype(np.float32))
    trim = (ys > hem - 0.02 * box.h) & (ys <= hem)
    rgb[trim] = (235, 190, 70)
    return rgb, alpha.astype(np.float32), region


def tada(scene: Scene) -> Renderer:
    box = scene.bbox
    rng = scene.rng(43)
    sprite = SubjectSprite(scene)
    cloth_rgb, cloth_alpha, region = _cloth(scene, rng)
    cloth = SubjectSprite(scene)
    cloth.box = region
    cloth.rgba = np.dstack([cloth_rgb, np.clip(cloth_alpha * 255 + 0.5, 0, 255).astype(np.uint8)])
    cx, cy = scene.subject.centroid
    ground = scene.ground_y
    use_cloth = scene.controls.allows("cloth")
    stars = 26 if scene.controls.allows("sparkle") else 0
    angles = rng.uniform(0, 2 * math.pi, stars)
    radii = rng.uniform(0.35, 0.75, stars) * max(box.w, box.h)
    star_size = rng.uniform(6, 16, stars) * scene.scale * 1.4
    twinkle = rng.uniform(0, 2 * math.pi, stars)
    side = 1.0 if rng.random() < 0.5 else -1.0

    def render(t: float) -> np.ndarray:
        u = scene.clock(t)
        frame = scene.plate.copy()
        reveal = phase(u, 0.5, 0.58)
        # The subject hides under the cloth, then bounces up with the reveal (squash and stretch).
        pop = ease_out_back(phase(u, 0.5, 0.7), 2.5) if u >= 0.5 else 0.0
        stretch = 1.0 + 0.12 * damped_wave(phase(u, 0.5, 1.0), 2.0, 4.0) * scene.controls.intensity
        jump = 0.06 * box.h * math.sin(math.pi * phase(u, 0.5, 0.68)) * scene.controls.intensity
        if u < 0.5 or not use_cloth:
            sprite.draw(frame, scale_about(cx, ground, 1.0, 1.0))
        else:
            sprite.draw(
                frame, scale_about(cx, ground, 1.0 / stretch, stretch * (0.9 + 0.1 * pop), 0.0, 0.0, -jump)
            )
        if use_cloth and u < 0.62:
            drop = ease_out_back(phase(u, 0.08, 0.28), 1.2)
            fall = (1.0 - drop) * -(box.y + box.h * 1.1)
            wiggle = 3.0 * scene.scale * math.sin(u * 60) * (phase(u, 0.32, 0.36) - phase(u, 0.44, 0.48))
            whisk = smooth(reveal)
            m = scale_about(
                cx,
                region.y,
                1.0 - 0.5 * whisk,
                1.0 - 0.3 * whisk + 0.08 * (1 - drop),
                side * 35.0 * whisk,
                wiggle + side * whisk * 0.9 * scene.width,
                fall - whisk * 0.8 * scene.height,
            )
            cloth.draw(frame, m)
        if stars and u >= 0.5:
            burst = phase(u, 0.5, 0.62)
            fade = 1.0 - phase(u, 0.8, 1.0)
            glow_pulse(frame, (cx, cy), 0.5 * max(box.w, box.h), 0.9 * (1 - phase(u, 0.5, 0.7)))
            r = radii * (0.3 + 0.7 * smooth(burst))
            points = np.stack([cx + np.cos(angles) * r, cy + np.sin(angles) * r * 0.8], 1)
            level = fade * (0.55 + 0.45 * np.sin(twinkle + u * 40.0)) * min(1.0, burst * 3)
            sparkles(frame, points, star_size, level)
        return frame

    return render
