"""Light and particles: an explosion's flash and sparks, sparkle stars, and Dissolve's dust.

All particles are drawn vectorised: positions for every particle at once, then one fancy-indexed
blend (dust) or one ``cv2.polylines`` call (sparks), never a Python loop per particle.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .scene import Renderer, Scene, blend_into, phase, smooth


def _additive_glow(
    frame: np.ndarray, centre: tuple[float, float], radius: float, colour: np.ndarray, gain: float
) -> None:
    h, w = frame.shape[:2]
    cx, cy = centre
    x0, x1 = int(max(0, cx - 2 * radius)), int(min(w, cx + 2 * radius))
    y0, y1 = int(max(0, cy - 2 * radius)), int(min(h, cy + 2 * radius))
    if x1 <= x0 or y1 <= y0 or gain <= 0.01:
        return
    ys, xs = np.ogrid[y0:y1, x0:x1]
    falloff = np.exp(-(((xs - cx) ** 2 + (ys - cy) ** 2) / (radius * radius))).astype(np.float32) * gain
    add = (falloff[..., None] * colour[None, None, :]).astype(np.float32)
    roi = frame[y0:y1, x0:x1]
    roi[...] = np.clip(roi.astype(np.float32) + add, 0, 255).astype(np.uint8)


def flash(
    frame: np.ndarray, centre: tuple[float, float], size: float, since: float, sparks: np.ndarray
) -> None:
    """An explosion's flash (white core, orange halo, fading over ~0.6 s) and its sparks."""
    if since < 0.0:
        return
    if since < 1.1:
        fade = (1.0 - since / 1.1) ** 1.5
        _additive_glow(
            frame, centre, size * (0.6 + 0.9 * since), np.array([255, 120, 30], np.float32), 1.5 * fade
        )
        _additive_glow(
            frame, centre, size * 0.4 * (1 + since), np.array([255, 250, 220], np.float32), 1.8 * fade**2
        )
    if len(sparks) and since < 1.6:
        head = np.array(centre) + sparks * since + np.array([0.0, 300.0]) * since * since
        tail = (
            np.array(centre)
            + sparks * max(0.0, since - 0.04)
            + np.array([0.0, 300.0]) * max(0.0, since - 0.04) ** 2
        )
        lines = np.stack([head, tail], 1).astype(np.int32)
        heat = 1.0 - since / 1.6
        colour = (255, int(140 + 110 * heat), int(60 * heat))
        cv2.polylines(frame, list(lines), False, colour, 2, cv2.LINE_AA)


def sparkles(frame: np.ndarray, points: np.ndarray, sizes: np.ndarray, brightness: np.ndarray) -> None:
    """Four-pointed twinkling stars with a soft glow (points (N, 2), sizes and brightness (N,))."""
    for (x, y), size, level in zip(points, sizes, brightness, strict=True):
        if level <= 0.05 or size < 1.0:
            continue
        gold = (255, int(235 + 20 * level), int(150 + 100 * level))
        arm = int(size * level)
        centre = (int(x), int(y))
        cv2.line(frame, (centre[0] - arm, centre[1]), (centre[0] + arm, centre[1]), gold, 2, cv2.LINE_AA)
        cv2.line(frame, (centre[0], centre[1] - arm), (centre[0], centre[1] + arm), gold, 2, cv2.LINE_AA)
        d = int(arm * 0.45)
        cv2.line(
            frame,
            (centre[0] - d, centre[1] - d),
            (centre[0] + d, centre[1] + d),
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )
        cv2.line(
            frame,
            (centre[0] - d, centre[1] + d),
            (centre[0] + d, centre[1] - d),
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )
        cv2.circle(frame, centre, max(1, arm // 5), (255, 255, 255), -1, cv2.LINE_AA)


def dissolve_renderer(scene: Scene) -> Renderer:
    """The subject breaks into fine dust, patch by patch, and the dust drifts away on a breeze."""
    box = scene.bbox
    rng = scene.rng(41)
    step = max(2, round(2 * scene.scale))
    ys, xs = np.nonzero(scene.alpha[::step, ::step] > 0.5)
    ys, xs = ys * step, xs * step
    colours = scene.foreground[ys, xs].astype(np.float32)
    # When each bit lets go: smooth noise (patches) plus a sweep along the wind.
    wind = np.array(scene.controls.direction or (0.8, -0.6), np.float32)
    wind /= float(np.linalg.norm(wind))
    coarse = rng.uniform(0, 1, (6, 6)).astype(np.float32)
    noise = cv2.resize(coarse, (scene.width, scene.height), interpolation=cv2.INTER_CUBIC)
    gy, gx = np.mgrid[0 : scene.height, 0 : scene.width].astype(np.float32)
    along = ((gx - box.x) * -wind[0] + (gy - box.y) * -wind[1]) / max(box.w, box.h)
    along = (along - along.min()) / max(1e-3, float(np.ptp(along)))
    release_map = (0.18 + 0.5 * (0.55 * along + 0.45 * np.clip(noise, 0, 1))).astype(np.float32)
    release = release_map[ys, xs]
    reach = 0.7 * float(np.hypot(scene.width, scene.height)) * scene.controls.intensity
    drift = wind[None, :] * reach * rng.uniform(0.5, 1.3, (len(xs), 1)).astype(np.float32)
    drift += rng.normal(0, 0.12 * reach, (len(xs), 2)).astype(np.float32)
    phase_off = rng.uniform(0, 2 * math.pi, len(xs)).astype(np.float32)
    life = rng.uniform(0.25, 0.5, len(xs)).astype(np.float32)
    r = box
    alpha_box = scene.alpha[r.y : r.y + r.h, r.x : r.x + r.w]
    release_box = release_map[r.y : r.y + r.h, r.x : r.x + r.w]
    image_box = scene.foreground[r.y : r.y + r.h, r.x : r.x + r.w]
    h, w = scene.height, scene.width

    def render(t: float) -> np.ndarray:
        u = scene.clock(t)
        frame = scene.plate.copy()
        # What is still solid, with a thin glowing rim where it is coming apart.
        hold = np.clip((release_box - u) / 0.03, 0.0, 1.0)
        solid = (alpha_box * hold).astype(np.float32)
        rim = ((hold > 0.0) & (hold < 1.0)) & (alpha_box > 0.5)
        image = image_box
        if rim.any():
            image = image_box.copy()
            image[rim] = np.minimum(255, image[rim].astype(np.int16) + np.array([90, 70, 40])).astype(
                np.uint8
            )
        blend_into(frame, image, solid, r.x, r.y)
        age = u - release
        live = (age > 0.0) & (age < life)
        if not live.any():
            return frame
        a = age[live] / life[live]
        ease = a * a * 0.6 + a * 0.4
        px = xs[live] + drift[live, 0] * ease + 6.0 * scene.scale * np.sin(8.0 * a + phase_off[live])
        py = ys[live] + drift[live, 1] * ease + 6.0 * scene.scale * np.cos(7.0 * a + phase_off[live])
        ix, iy = px.astype(np.int32), py.astype(np.int32)
        inside = (ix >= 0) & (iy >= 0) & (ix < w - 1) & (iy < h - 1)
        ix, iy = ix[inside], iy[inside]
        fade = (1.0 - a[inside])[:, None] ** 1.5
        colour = np.minimum(255.0, colours[live][inside] * (1.0 + 0.4 * a[inside, None]))
        size = 2 if step >= 2 else 1
        for dy in range(size):
            for dx in range(size):
                if (dx + dy) and a.size and dx + dy > 1:
                    continue  # a small plus-shaped grain
                yy, xx = iy + dy, ix + dx
                base = frame[yy, xx].astype(np.float32)
                frame[yy, xx] = (base * (1.0 - fade) + colour * fade).astype(np.uint8)
        return frame

    return render


def glow_pulse(frame: np.ndarray, centre: tuple[float, float], radius: float, level: float) -> None:
    """A warm soft glow (used by Ta-da's reveal)."""
    _additive_glow(frame, centre, radius, np.array([255, 230, 170], np.float32), level)


def ring(frame: np.ndarray, centre: tuple[float, float], radius: float, level: float) -> None:
    """An expanding shock ring (cartoon 'pop')."""
    if level <= 0.02:
        return
    colour = tuple(int(255 * level + 0.5) for _ in range(3))
    cv2.circle(frame, (int(centre[0]), int(centre[1])), int(radius), colour, 4, cv2.LINE_AA)


__all__ = ["dissolve_renderer", "flash", "glow_pulse", "phase", "ring", "smooth", "sparkles"]
