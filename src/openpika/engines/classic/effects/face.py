"""Face effects: Eye-pop (the eyes bulge out like a cartoon's) and Decapitate (the head pops off
with a cartoon 'pop', flies in an arc, bounces and rolls; the neck shows a clean flat cap, no gore).

Faces and eyes come from the subject's cascades. With a face but no eyes found, eyes are placed
at the usual proportions of a face. With no face at all, the subject's top region stands in for
the head, and the job log says so.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..subject import Box, estimated_eyes
from .burst import ring
from .fragments import simulate
from .motion import SubjectSprite
from .scene import (
    Renderer,
    Scene,
    SubjectWarper,
    anticipation,
    damped_wave,
    ease_out_back,
    padded_box,
    phase,
    smooth,
)


def head_box(scene: Scene) -> Box:
    """The face (first found), or the top of the subject when no face is found (logged)."""
    if scene.subject.faces:
        return scene.subject.faces[0]
    box = scene.bbox
    size = int(min(box.w * 0.5, box.h * 0.4))
    cx = scene.subject.centroid[0]
    scene.ctx.log("no face found: using the top of the subject as the head", "WARN")
    return Box(int(cx - size / 2), int(box.y + 0.06 * box.h), size, size)


def round_eyes(scene: Scene) -> list[Box]:
    """Two round shapes of similar size side by side in the subject's upper part (an animal's
    eyes, which the face cascades often miss), or nothing."""
    box = scene.bbox
    # Detect at a fixed scale (short side 300) so the result does not depend on output resolution.
    k = 300.0 / min(scene.width, scene.height)
    small = cv2.resize(scene.image, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    grey = cv2.medianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), 5)
    short = min(box.w, box.h) * k
    circles = cv2.HoughCircles(
        grey,
        cv2.HOUGH_GRADIENT,
        dp=1.2,
        minDist=short * 0.15,
        param1=120,
        param2=30,
        minRadius=max(4, int(short * 0.04)),
        maxRadius=max(8, int(short * 0.2)),
    )
    if circles is None:
        return []
    found_circles: np.ndarray = np.asarray(circles, np.float64) / k
    found = [
        c
        for c in found_circles[0][:8]
        if scene.subject.mask[int(min(c[1], scene.height - 1)), int(min(c[0], scene.width - 1))]
    ]
    best: tuple[float, list[Box]] = (float("inf"), [])
    for i, a in enumerate(found):
        for b in found[i + 1 :]:
            dx, dy = abs(a[0] - b[0]), abs(a[1] - b[1])
            r = (a[2] + b[2]) / 2
            if dx < 2.5 * r or dx > 8 * r or dy > 0.35 * dx or max(a[1], b[1]) > box.y + 0.75 * box.h:
                continue
            score = abs(a[2] - b[2]) / r + dy / dx
            if score < best[0]:
                best = (score, [Box(int(c[0] - r), int(c[1] - r), int(2 * r), int(2 * r)) for c in (a, b)])
    return sorted(best[1], key=lambda e: e.x)


def eye_boxes(scene: Scene) -> list[Box]:
    if len(scene.subject.eyes) >= 2:
        return sorted(scene.subject.eyes, key=lambda e: e.x)[:2]
    if not scene.subject.faces:
        found = round_eyes(scene)
        if found:
            scene.ctx.log("no face found: using two round shapes in the subject's upper part as eyes", "WARN")
            return found
    face = head_box(scene)
    if len(scene.subject.eyes) == 1 and scene.subject.faces:
        # One eye found: the other is its mirror image across the middle of the face.
        eye = scene.subject.eyes[0]
        mirrored = Box(int(2 * face.center[0] - eye.center[0] - eye.w / 2), eye.y, eye.w, eye.h)
        return sorted([eye, mirrored], key=lambda e: e.x)
    if scene.subject.faces:
        scene.ctx.log("face found but not its eyes: placing them at the usual proportions", "INFO")
    return estimated_eyes(face)


def eye_pop(scene: Scene) -> Renderer:
    eyes = eye_boxes(scene)
    radius = max(6.0, 0.8 * max(e.w for e in eyes))
    lo_x = min(e.center[0] for e in eyes) - 2.2 * radius
    hi_x = max(e.center[0] for e in eyes) + 2.2 * radius
    lo_y = min(e.center[1] for e in eyes) - 2.2 * radius
    hi_y = max(e.center[1] for e in eyes) + 2.2 * radius
    region = padded_box(
        Box(int(lo_x), int(lo_y), int(hi_x - lo_x), int(hi_y - lo_y)), 0, 0, 0, scene.width, scene.height
    )
    warper = SubjectWarper(scene, region)
    warper.rgba = np.dstack([scene.image, np.full(scene.image.shape[:2], 255, np.uint8)])
    gx, gy = warper.grid(half=False)
    fields = []
    for e in eyes:
        ex, ey = e.center
        dx, dy = gx - ex, gy - ey
        rho = np.sqrt(dx * dx + dy * dy) / radius
        bump = np.clip(1.0 - rho * rho, 0.0, 1.0) ** 2
        shine = np.exp(
            -(((gx - (ex - 0.3 * radius)) ** 2 + (gy - (ey - 0.35 * radius)) ** 2) / (0.12 * radius * radius))
        )
        rim = np.exp(-(((rho - 1.0) / 0.12) ** 2))
        fields.append((dx, dy, bump, shine, rim))
    peak = 0.62 * min(1.25, scene.controls.intensity)
    wobble = 1.0 if scene.controls.allows("wobble") else 0.0

    def render(t: float) -> np.ndarray:
        u = scene.clock(t)
        squint = 0.15 * anticipation(u, 0.12, 0.26)  # narrows first, then POP
        pop = ease_out_back(phase(u, 0.26, 0.34), 2.2)
        second = 0.25 * math.sin(math.pi * phase(u, 0.62, 0.72))  # boing, a second throb
        k = squint + peak * (pop + second) + wobble * 0.08 * damped_wave(phase(u, 0.34, 0.62), 3.0, 4.0)
        k = min(k, 0.8)
        src_x, src_y, shade = gx.copy(), gy.copy(), np.ones_like(gx)
        for dx, dy, bump, shine, rim in fields:
            src_x -= dx * k * bump
            src_y -= dy * k * bump
            level = max(0.0, k) / max(peak, 1e-3)
            shade += 0.55 * level * shine - 0.15 * level * rim
        return warper.render(src_x, src_y, shade.astype(np.float32), background=scene.image)

    return render


def decapitate(scene: Scene) -> Renderer:
    face = head_box(scene)
    fx, fy = face.center
    # The head: everything of the subject above the chin within a band around the face (hair
    # included), its lower corners rounded so the cut follows the jaw.
    head: np.ndarray = np.zeros(scene.image.shape[:2], np.float32)
    chin = int(face.y + 1.02 * face.h)
    half = int(0.95 * face.w)
    head[: max(0, chin - face.h // 2), max(0, int(fx) - half) : int(fx) + half] = 1.0
    centre = (int(fx), int(fy - 0.1 * face.h))
    axes = (int(0.8 * face.w), int(1.1 * face.h))
    cv2.ellipse(head, centre, axes, 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    head[chin:] = 0.0
    head = cv2.GaussianBlur(head, (0, 0), 1.0)
    head_alpha = scene.alpha * head
    body_alpha = scene.alpha * (1.0 - head)
    ys, xs = np.nonzero(head > 0.01)
    head_area = Box(int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1)
    head_sprite = SubjectSprite(
        scene, alpha=head_alpha, box=padded_box(head_area, 0.05, 0.05, 0.05, scene.width, scene.height)
    )
    body = SubjectSprite(scene, alpha=body_alpha)
    rng = scene.rng(61)
    # Which way it flies: towards the side with more room (or the prompt's direction).
    side = -1.0 if fx > scene.width / 2 else 1.0
    if scene.controls.direction is not None and scene.controls.direction[0] != 0:
        side = math.copysign(1.0, scene.controls.direction[0])
    fps, seconds = 24.0, 5.0
    launch = 0.3 / scene.controls.speed * seconds
    ground = float(min(scene.height - 0.45 * face.h, scene.ground_y - 0.45 * face.h))
    rise = (fy - 0.1 * scene.height) * (0.8 + 0.3 * scene.controls.intensity)
    gravity = 2.2 * scene.height
    vy = -math.sqrt(max(1.0, 2 * gravity * max(0.2 * scene.height, rise)))
    vx = side * scene.width * rng.uniform(0.22, 0.3)
    times = np.arange(int(seconds * fps) + 1) / fps
    pos, ang = simulate(
        np.array([[fx, fy]], np.float32),
        np.array([[vx, vy]], np.float32),
        np.array([side * 7.0]),
        np.array([launch]),
        times,
        gravity,
        np.array([ground]),
        friction=0.6,
    )
    # Neck: a flat cartoon cap in a darker tone of what is just under the chin.
    neck_y = min(scene.height - 1, chin + 2)
    x0, x1 = max(0, int(fx - 0.2 * face.w)), min(scene.width, int(fx + 0.2 * face.w) + 1)
    neck_colour = scene.image[neck_y, x0:x1].reshape(-1, 3).mean(0) if x1 > x0 else np.array([200, 150, 120])
    cap_colour = tuple(int(v) for v in np.clip(neck_colour * 0.75, 0, 255))
    rim_colour = tuple(int(v) for v in np.clip(neck_colour * 1.1 + 20, 0, 255))
    cap_axes = (max(3, int(0.3 * face.w)), max(2, int(0.08 * face.h)))

    def render(t: float) -> np.ndarray:
        u = scene.clock(t)
        now = t * seconds
        frame = scene.plate.copy()
        body.draw(frame, np.array([[1, 0, 0], [0, 1, 0]], np.float64))
        i = min(len(times) - 1, round(now * fps))
        if now < launch:
            # Anticipation: the head wobbles on its neck, faster and faster.
            shake = anticipation(u, 0.1, 0.3) * 6.0 * math.sin(u * 90.0)
            m = cv2.getRotationMatrix2D((fx, float(chin)), shake, 1.0)
            head_sprite.draw(frame, m)
            return frame
        cv2.ellipse(frame, (int(fx), chin), cap_axes, 0, 0, 360, cap_colour, -1, cv2.LINE_AA)
        cv2.ellipse(frame, (int(fx), chin), cap_axes, 0, 0, 360, rim_colour, 2, cv2.LINE_AA)
        since = now - launch
        ring(frame, (fx, float(chin)), face.w * (0.3 + 2.5 * since), max(0.0, 1.0 - since / 0.35))
        if since < 0.3 and scene.controls.allows("debris"):
            for a in np.linspace(0, 2 * math.pi, 10, endpoint=False):
                r0, r1 = face.w * (0.5 + 2 * since), face.w * (0.8 + 3 * since)
                p0 = (int(fx + math.cos(a) * r0), int(chin + math.sin(a) * r0 * 0.6))
                p1 = (int(fx + math.cos(a) * r1), int(chin + math.sin(a) * r1 * 0.6))
                cv2.line(frame, p0, p1, (255, 240, 120), max(2, int(3 * scene.scale)), cv2.LINE_AA)
        px, py = pos[i, 0]
        spin = math.degrees(float(ang[i, 0]))
        m = cv2.getRotationMatrix2D((fx, fy), -spin, 1.0)
        m[:, 2] += (px - fx, py - fy)
        head_sprite.draw(frame, m)
        return frame

    return render


__all__ = ["decapitate", "eye_pop", "head_box", "smooth"]
