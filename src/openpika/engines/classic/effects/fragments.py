"""Effects that break the subject apart: Explode (Voronoi shards), Crumble (chunks that fall and
pile up) and Dissolve (fine particles that drift away).

Shards are Voronoi cells of random seeds inside the subject's mask (labels from one distance
transform). Their trajectories are simulated once for the whole clip, vectorised over shards;
each frame then warps every flying shard's small RGBA sprite with one affine (rotation, position
and, for fast shards, a stretch along the velocity that stands in for motion blur).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..subject import Box
from .scene import Renderer, Scene, apply_shade, blend_into, padded_box, phase, smooth


@dataclass
class Shards:
    region: Box  # where the labels live, in frame pixels
    labels: np.ndarray  # int32 region-sized, 0 = not subject, k = shard k (1-based)
    sprites: list[np.ndarray]  # RGBA uint8 crops, one per shard
    offsets: np.ndarray  # (N, 2) top-left of each sprite in frame pixels
    centres: np.ndarray  # (N, 2) centre of mass in frame pixels
    areas: np.ndarray  # (N,)


def make_shards(scene: Scene, count: int, salt: int) -> Shards:
    region = padded_box(scene.bbox, 0.0, 0.0, 0.0, scene.width, scene.height)
    alpha = scene.alpha[region.y : region.y + region.h, region.x : region.x + region.w]
    inside = np.argwhere(alpha > 0.5)
    rng = scene.rng(salt)
    picks = inside[rng.choice(len(inside), size=min(count, len(inside)), replace=False)]
    seeds = np.ones(alpha.shape, np.uint8)
    seeds[picks[:, 0], picks[:, 1]] = 0
    _, nearest = cv2.distanceTransformWithLabels(seeds, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
    labels = np.where(alpha > 0.02, nearest, 0).astype(np.int32)
    rgba = np.dstack(
        [
            scene.foreground[region.y : region.y + region.h, region.x : region.x + region.w],
            np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8),
        ]
    )
    sprites: list[np.ndarray] = []
    offsets, centres, areas = [], [], []
    for k in range(1, int(labels.max()) + 1):
        ys, xs = np.nonzero(labels == k)
        if len(xs) < 4:
            continue
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        sprite = rgba[y0:y1, x0:x1].copy()
        sprite[..., 3][labels[y0:y1, x0:x1] != k] = 0
        sprites.append(sprite)
        offsets.append((region.x + x0, region.y + y0))
        centres.append((region.x + xs.mean(), region.y + ys.mean()))
        areas.append(len(xs))
        labels[labels == k] = len(sprites)
    labels[labels > len(sprites)] = 0
    return Shards(
        region, labels, sprites, np.array(offsets, np.float32), np.array(centres, np.float32), np.array(areas)
    )


def simulate(
    start: np.ndarray,
    velocity: np.ndarray,
    spin: np.ndarray,
    release: np.ndarray,
    times: np.ndarray,
    gravity: float,
    ground: np.ndarray | None,
    friction: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Positions (T, N, 2) and angles (T, N) of N bodies at each time, with bounces on ``ground``
    (per-body resting height) when given. Bodies stay at ``start`` until their release time."""
    n = len(start)
    pos = start.astype(np.float64).copy()
    vel = velocity.astype(np.float64).copy()
    omega = spin.astype(np.float64).copy()
    angle = np.zeros(n)
    out_pos = np.empty((len(times), n, 2), np.float32)
    out_ang = np.empty((len(times), n), np.float32)
    previous = 0.0
    for i, now in enumerate(times):
        dt = now - previous
        previous = now
        active = release <= now
        step = np.where(active, np.minimum(dt, now - release), 0.0)
        vel[:, 1] += gravity * step
        pos += vel * step[:, None]
        angle += omega * step
        if ground is not None:
            hit = active & (pos[:, 1] >= ground)
            pos[hit, 1] = ground[hit]
            vel[hit, 1] *= -0.25
            vel[hit, 0] *= friction
            omega[hit] *= friction
            # Settled pieces stop jittering.
            slow = hit & (np.abs(vel[:, 1]) < 40.0)
            vel[slow] = 0.0
            omega[slow] = 0.0
        out_pos[i] = pos
        out_ang[i] = angle
    return out_pos, out_ang


def draw_sprites(
    frame: np.ndarray,
    shards: Shards,
    which: np.ndarray,
    pos: np.ndarray,
    angle: np.ndarray,
    velocity: np.ndarray | None = None,
    blur_scale: float = 0.0,
) -> None:
    """Draw shards ``which`` centred at ``pos`` (N, 2) rotated by ``angle`` (radians)."""
    for k in which:
        sprite = shards.sprites[k]
        h, w = sprite.shape[:2]
        local = shards.centres[k] - shards.offsets[k]
        c, s = float(np.cos(angle[k])), float(np.sin(angle[k]))
        linear = np.array([[c, -s], [s, c]], np.float64)
        if velocity is not None and blur_scale > 0.0:
            # Stretch along the direction of travel: a cheap, convincing motion blur.
            v = velocity[k].astype(np.float64)
            speed = float(np.hypot(*v))
            stretch = 1.0 + min(2.0, speed * blur_scale / max(8.0, float(max(h, w))))
            if stretch > 1.05:
                d = v / speed
                linear = (np.eye(2) + (stretch - 1.0) * np.outer(d, d)) @ linear
        extent = np.abs(linear) @ np.array([w, h], np.float64)
        size = (int(extent[0]) + 3, int(extent[1]) + 3)
        centre_out = np.array([size[0] / 2.0, size[1] / 2.0])
        shift = centre_out - linear @ local
        matrix = np.hstack([linear, shift[:, None]])
        patch = cv2.warpAffine(sprite, matrix, size, flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0, 0))
        x0 = round(float(pos[k, 0]) - centre_out[0])
        y0 = round(float(pos[k, 1]) - centre_out[1])
        blend_into(frame, patch[:, :, :3], patch[:, :, 3].astype(np.float32) * (1.0 / 255.0), x0, y0)


def remaining_layer(frame: np.ndarray, scene: Scene, shards: Shards, intact: np.ndarray) -> None:
    """Draw the shards that have not left yet (``intact``: bool per shard) in place."""
    r = shards.region
    keep = np.concatenate([[False], intact])[shards.labels]
    alpha = scene.alpha[r.y : r.y + r.h, r.x : r.x + r.w] * keep
    blend_into(frame, scene.foreground[r.y : r.y + r.h, r.x : r.x + r.w], alpha.astype(np.float32), r.x, r.y)


def explode(scene: Scene) -> Renderer:
    from .burst import flash
    from .motion import SubjectSprite

    fps = 24.0
    seconds = 5.0
    shards = make_shards(scene, 90, salt=23)
    n = len(shards.sprites)
    rng = scene.rng(29)
    cx, cy = scene.subject.centroid
    diag = float(np.hypot(scene.width, scene.height))
    boom = 0.3 / scene.controls.speed
    offsets = shards.centres - np.array([cx, cy], np.float32)
    dist = np.hypot(offsets[:, 0], offsets[:, 1]) + 1e-3
    outward = offsets / dist[:, None]
    speed = diag * rng.uniform(0.25, 0.75, n) * scene.controls.intensity
    velocity = outward * speed[:, None] + rng.normal(0, 0.12 * diag, (n, 2))
    velocity[:, 1] -= 0.3 * diag  # blasts throw things up before gravity takes over
    if scene.controls.direction is not None:
        velocity += np.array(scene.controls.direction, np.float32) * 0.9 * diag
    release = boom * seconds + 0.04 * dist / dist.max()
    times = np.arange(int(seconds * fps) + 1) / fps
    pos, ang = simulate(shards.centres, velocity, rng.uniform(-9, 9, n), release, times, 0.9 * diag, None)
    order = np.argsort(-shards.areas)
    whole = SubjectSprite(scene)
    debris = scene.controls.allows("debris")
    sparks = rng.normal(0, 1, (220, 2)) * 0.6 * diag if debris else np.zeros((0, 2))

    def render(t: float) -> np.ndarray:
        u = scene.clock(t)
        now = t * seconds
        i = min(len(times) - 1, round(now * fps))
        frame = scene.plate.copy()
        flying = release <= now
        if not flying.any():
            # Anticipation: the subject swells and trembles before it goes.
            swell = smooth(phase(u, 0.12, boom)) * 0.05
            shake = 2.5 * scene.scale * swell / 0.05
            jitter = scene.rng(int(now * 1000)).normal(0, shake, 2) if swell else np.zeros(2)
            m: np.ndarray = cv2.getRotationMatrix2D((cx, cy), 0.0, 1.0 + swell)
            m[:, 2] += jitter
            whole.draw(frame, m)
            return frame
        remaining_layer(frame, scene, shards, ~flying)
        since = now - boom * seconds
        vel_now = velocity + np.array([0.0, 0.9 * diag]) * max(0.0, since)
        blur = 1.0 / fps if scene.controls.allows("blur") else 0.0
        draw_sprites(frame, shards, order[flying[order]], pos[i], ang[i], vel_now, blur)
        if scene.controls.allows("flash"):
            flash(frame, (cx, cy), 0.5 * max(scene.bbox.w, scene.bbox.h), since, sparks)
        return frame

    return render


def crumble(scene: Scene) -> Renderer:
    fps = 24.0
    seconds = 5.0
    shards = make_shards(scene, 140, salt=31)
    n = len(shards.sprites)
    rng = scene.rng(37)
    box = scene.bbox
    ground = scene.ground_y
    # Cracks first, then it comes down from the top, the lower pieces last.
    height = (shards.centres[:, 1] - box.y) / max(1, box.h)
    start = (0.3 + 0.45 * height + rng.uniform(0, 0.12, n)) / scene.controls.speed * seconds
    velocity = np.stack([rng.normal(0, 0.12, n) * box.w, rng.uniform(-0.05, 0.05, n) * box.h], 1)
    # Each piece comes to rest on the pile: lower pieces land first and the pile grows under later ones.
    land_order = np.argsort(start)
    bins = 48
    pile = np.zeros(bins)
    rest = np.empty(n)
    spread = 1.0 + 0.25 * scene.controls.intensity
    cx = scene.subject.centroid[0]
    target_x = cx + (shards.centres[:, 0] - cx) * spread + rng.normal(0, 0.05 * box.w, n)
    x_lo, x_hi = box.x - 0.4 * box.w, box.x + 1.4 * box.w
    for k in land_order:
        b = int(np.clip((target_x[k] - x_lo) / (x_hi - x_lo) * bins, 0, bins - 1))
        size = float(np.sqrt(shards.areas[k]))
        rest[k] = ground - pile[b] - 0.35 * size
        footprint = slice(max(0, b - 1), min(bins, b + 2))
        pile[footprint] += 0.45 * shards.areas[k] / max(1.0, (x_hi - x_lo) / bins * 3)
    fall_time = np.sqrt(np.maximum(1.0, 2.0 * (rest - shards.centres[:, 1])) / (2.5 * box.h))
    velocity[:, 0] = (target_x - shards.centres[:, 0]) / np.maximum(fall_time, 0.2)
    times = np.arange(int(seconds * fps) + 1) / fps
    pos, ang = simulate(shards.centres, velocity, rng.uniform(-4, 4, n), start, times, 2.5 * box.h, rest, 0.3)
    cracks = cv2.Canny((shards.labels * 37 % 251).astype(np.uint8), 1, 1) > 0

    def render(t: float) -> np.ndarray:
        now = t * seconds
        i = min(len(times) - 1, round(now * fps))
        frame = scene.plate.copy()
        falling = start <= now
        remaining_layer(frame, scene, shards, ~falling)
        # Cracks open along the shard borders before anything falls.
        crack = smooth(phase(now, start.min() - 0.9, start.min()))
        if crack > 0:
            r = shards.region
            roi = frame[r.y : r.y + r.h, r.x : r.x + r.w]
            intact = np.concatenate([[False], ~falling])[shards.labels]
            shade = 1.0 - 0.75 * crack * (
                cracks & intact & (scene.alpha[r.y : r.y + r.h, r.x : r.x + r.w] > 0.5)
            )
            roi[...] = apply_shade(roi, shade.astype(np.float32))
        order = np.argsort(-pos[i, :, 1])[::-1]
        draw_sprites(frame, shards, order[falling[order]], pos[i], ang[i])
        return frame

    return render


def dissolve(scene: Scene) -> Renderer:
    from .burst import dissolve_renderer

    return dissolve_renderer(scene)
