"""Camera moves and shot sequences for pikascenes.

A ``CameraMove`` is a slow, eased zoom and/or pan about the frame centre, with a parallax factor so
nearer layers move more than the plate behind them. ``render_shot_sequence`` is the fallback when
ingredients cannot be composed into one picture: each image becomes a shot with its own camera
move, joined by designed transitions (a dissolve; in creative mode also a push and a zoom-through).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from ..base import RunContext
from ..tasks import OutputSpec
from .camera.easing import ease_in_out as ease
from .layers import Affine, compose, cover_fit, similarity
from .prefetch import drawn_ahead
from .subject import detect_faces

OVERSCAN = 1.16  # plates are rendered this much larger than the frame so moves never show an edge

MOVES = ("push_in", "pull_out", "pan_left", "pan_right", "rise")


@dataclass(frozen=True)
class CameraMove:
    zoom_from: float
    zoom_to: float
    pan_from: tuple[float, float]  # fraction of frame width/height the view is shifted
    pan_to: tuple[float, float]

    @staticmethod
    def named(name: str, strength: float = 1.0) -> CameraMove:
        s = strength
        if name == "push_in":
            return CameraMove(1.0, 1.0 + 0.12 * s, (0, 0), (0, 0))
        if name == "pull_out":
            return CameraMove(1.0 + 0.12 * s, 1.0, (0, 0), (0, 0))
        if name == "pan_left":
            return CameraMove(1.05, 1.05, (0.05 * s, 0), (-0.05 * s, 0))
        if name == "pan_right":
            return CameraMove(1.05, 1.05, (-0.05 * s, 0), (0.05 * s, 0))
        if name == "rise":
            return CameraMove(1.04, 1.04 + 0.04 * s, (0, 0.04 * s), (0, -0.04 * s))
        return CameraMove(1.0, 1.0, (0, 0), (0, 0))  # static

    def view(self, t: float, width: int, height: int, parallax: float = 1.0) -> Affine:
        """World (frame-at-rest) pixels -> screen pixels at time ``t`` in [0, 1], for a layer whose
        motion is ``parallax`` times the plate's (1 = plate, >1 = nearer than the plate)."""
        e = ease(t)
        zoom = self.zoom_from + (self.zoom_to - self.zoom_from) * e
        zoom = 1.0 + (zoom - 1.0) * parallax
        # A positive pan moves the view right, so the picture slides left.
        px = -(self.pan_from[0] + (self.pan_to[0] - self.pan_from[0]) * e) * width * parallax
        py = -(self.pan_from[1] + (self.pan_to[1] - self.pan_from[1]) * e) * height * parallax
        cx, cy = width / 2.0, height / 2.0
        return similarity(zoom, 0.0, cx - zoom * cx + px, cy - zoom * cy + py)


def move_from_prompt(prompt: str) -> str | None:
    """A camera move the prompt asks for in plain words, if any."""
    words = prompt.lower()
    table = (
        (r"\b(zoom(s|ing)? in|push(es|ing)? in|dolly in|closer|close-up)\b", "push_in"),
        (r"\b(zoom(s|ing)? out|pull(s|ing)? (out|back)|dolly out|wide shot|reveal)\b", "pull_out"),
        (r"\bpan(s|ning)? left\b", "pan_left"),
        (r"\bpan(s|ning)? right\b", "pan_right"),
        (r"\b(tilt(s|ing)? up|rise|rising|crane up)\b", "rise"),
        (r"\b(static|still|locked|tripod)\b", "static"),
    )
    for pattern, name in table:
        if re.search(pattern, words):
            return name
    return None


def plate_layer(
    image: np.ndarray, out: OutputSpec, focus: tuple[float, float] = (0.5, 0.5)
) -> tuple[np.ndarray, Affine, Affine]:
    """``image`` cover-fitted at overscan size (cropped around ``focus``), the affine that centres
    it on the frame, and the image-pixel -> plate-pixel affine of the fit."""
    pw, ph = round(out.width * OVERSCAN), round(out.height * OVERSCAN)
    plate, fit = cover_fit(image, pw, ph, focus)
    return plate, similarity(1.0, 0.0, (out.width - pw) / 2.0, (out.height - ph) / 2.0), fit


def face_focus(image: np.ndarray) -> tuple[float, float]:
    """Where a crop of ``image`` should centre: just below the largest face (so a portrait keeps
    its head when cropped to a wide frame), else the middle."""
    h, w = image.shape[:2]
    scale = min(1.0, 512 / max(h, w))
    small = cv2.resize(
        image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    faces, _, _ = detect_faces(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    if not faces:
        return (0.5, 0.5)
    f = faces[0]
    return ((f.x + f.w / 2) / small.shape[1], (f.y + f.h * 1.2) / small.shape[0])


def render_plate(plate: np.ndarray, placed: Affine, view: Affine, out: OutputSpec) -> np.ndarray:
    m = compose(view, placed)
    return cv2.warpAffine(
        plate, m, (out.width, out.height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )


@dataclass
class _Shot:
    plate: np.ndarray
    placed: Affine
    move: CameraMove
    start: int  # first output frame
    length: int


def render_shot_sequence(
    images: list[np.ndarray], out: OutputSpec, mode: str, seed: int, prompt: str, ctx: RunContext
) -> Iterator[np.ndarray]:
    """Each image a shot with its own camera move, joined by transitions; exactly ``num_frames``."""
    rng = np.random.default_rng(seed)
    n = len(images)
    total = out.num_frames
    overlap = 0 if n == 1 else min(int(0.6 * out.fps), total // (3 * n))
    length = (total + (n - 1) * overlap + n - 1) // n  # ceil, so the shots cover every frame
    asked = move_from_prompt(prompt)
    creative = mode == "creative"
    order = [str(m) for m in rng.permutation(MOVES)]
    shots = []
    for i, image in enumerate(images):
        name = asked or order[i % len(order)]
        plate, placed, _ = plate_layer(image, out, face_focus(image))
        move = CameraMove.named(name, strength=1.3 if creative else 0.8)
        shots.append(_Shot(plate, placed, move, i * (length - overlap), length))
    kinds = ["dissolve", "push", "zoom"] if creative else ["dissolve"]
    transitions = [kinds[int(rng.integers(len(kinds)))] for _ in range(n - 1)]
    ctx.log(f"scene as {n} shot(s): moves {[s.move for s in shots]}, transitions {transitions}")

    def shot_frame(shot: _Shot, f: int) -> np.ndarray:
        t = (f - shot.start) / max(1, shot.length - 1)
        return render_plate(shot.plate, shot.placed, shot.move.view(t, out.width, out.height), out)

    def render(f: int) -> np.ndarray:
        active = [i for i, s in enumerate(shots) if s.start <= f < s.start + s.length]
        if not active:
            active = [n - 1]
        frame = shot_frame(shots[active[0]], f)
        if len(active) > 1:
            nxt = shots[active[1]]
            mix = ease((f - nxt.start + 1) / (overlap + 1))
            frame = _transition(transitions[active[0]], frame, shot_frame(nxt, f), mix, out)
        return frame

    # Drawn ahead on two threads while the encoder takes the previous ones (a frame is a pure
    # function of its index: every random choice is made above).
    yield from drawn_ahead(render, total, ctx.progress)


def _transition(kind: str, a: np.ndarray, b: np.ndarray, mix: float, out: OutputSpec) -> np.ndarray:
    if kind == "push":
        # The new shot pushes the old one out to the left.
        shift = round(mix * out.width)
        frame = np.empty_like(a)
        frame[:, : out.width - shift] = a[:, shift:]
        frame[:, out.width - shift :] = b[:, :shift]
        return frame
    if kind == "zoom":
        # Zoom-through: the old shot rushes towards the viewer as the new one settles in from wide.
        cx, cy = out.width / 2.0, out.height / 2.0
        za, zb = 1.0 + 0.35 * mix, 1.0 + 0.2 * (1.0 - mix)
        ma = similarity(za, 0.0, cx - za * cx, cy - za * cy)
        mb = similarity(zb, 0.0, cx - zb * cx, cy - zb * cy)
        a = cv2.warpAffine(a, ma, (out.width, out.height), borderMode=cv2.BORDER_REFLECT)
        b = cv2.warpAffine(b, mb, (out.width, out.height), borderMode=cv2.BORDER_REFLECT)
    return cv2.addWeighted(a, 1.0 - mix, b, mix, 0.0)
