"""Pikascenes and collection-to-video: compose the ingredient images into one moving scene.

How the ingredients are used:

* The **plate** (background) is the most scene-like image: the one whose border is busiest (a
  product shot on a plain backdrop has a uniform border). Precise mode takes the first scene-like
  image in the order given, creative mode the largest. When every image is an object on a plain
  backdrop, the plate is a studio sweep in the first backdrop's colour.
* Every other image must give a clean **cut-out** (``cutout``); the subjects are stood on the
  plate with contact shadows and the plate's light (Lab colour match). Precise mode lines them up
  in the order given with almost no motion; creative mode arranges them in depth by the seed and
  lets them drift, bob and sway.
* The camera moves slowly (prompt words like "zoom in" or "pan left" choose the move), nearer
  layers with more parallax than the plate.
* A single image whose subject separates cleanly becomes a 2.5D parallax shot (subject over its
  clean plate); otherwise, and whenever an ingredient cannot be cut out cleanly, the images are
  played as a **sequence of shots** with camera moves and designed transitions (``shots``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ...errors import InputError
from ..base import Clip, RunContext
from ..tasks import OutputSpec, ScenesTask
from .cutout import cut_out
from .layers import (
    Affine,
    Cutout,
    _lab,
    _rgb,
    border_uniformity,
    compose,
    contact_shadow,
    match_colour,
    prescale_layer,
    similarity,
    warp_layer_into,
)
from .placement import free_positions, subject_occupancy
from .plate import clean_plate
from .prefetch import drawn_ahead
from .shots import (
    MOVES,
    OVERSCAN,
    CameraMove,
    face_focus,
    move_from_prompt,
    plate_layer,
    render_plate,
    render_shot_sequence,
)
from .subject import find_subject

_SCENE_BORDER_STD = 9.0  # border_uniformity above this: a photo of a scene, usable as a plate
_MIN_CONFIDENCE = 0.7  # matte_confidence needed to cut a subject out of a busy photo


@dataclass
class _Actor:
    """A cut-out subject standing in the scene."""

    rgb: np.ndarray  # the cut-out, colour-matched to the plate
    alpha: np.ndarray
    placed: Affine  # layer pixels -> world pixels at rest
    base: tuple[float, float]  # world position of the feet (sway pivot, shadow)
    width: float  # world width at rest
    parallax: float
    drift: float  # world pixels travelled over the clip
    bob: float  # amplitude in world pixels
    sway: float  # degrees
    phase: float
    grounded: bool

    def __post_init__(self) -> None:
        self.rgb, self.alpha, self.placed = prescale_layer(self.rgb, self.alpha, self.placed)


def _composable(c: Cutout) -> bool:
    return 0.03 <= c.coverage <= 0.85 and c.confidence >= _MIN_CONFIDENCE


def render_scenes(task: ScenesTask, ctx: RunContext) -> Clip:
    out = task.output
    if not task.images:
        raise InputError(("body", "image_urls"), "give at least one image to build the scene from")
    creative = task.mode == "creative"
    scene_like = [border_uniformity(img) >= _SCENE_BORDER_STD for img in task.images]
    if len(task.images) == 1:
        return _single_image(task, ctx)

    candidates = [i for i, s in enumerate(scene_like) if s]
    plate_index: int | None = None
    if candidates:
        plate_index = (
            max(candidates, key=lambda i: task.images[i].shape[0] * task.images[i].shape[1])
            if creative
            else candidates[0]
        )
    others = [i for i in range(len(task.images)) if i != plate_index]
    cutouts = {}
    for i in others:
        ctx.check_cancelled()
        cutouts[i] = cut_out(task.images[i], seed=task.seed)
    bad = [i for i in others if not _composable(cutouts[i])]
    if bad:
        ctx.log(
            f"images {bad} have no subject that cuts out cleanly: playing the images as a sequence of shots"
        )
        frames = render_shot_sequence(task.images, out, task.mode, task.seed, task.prompt or "", ctx)
        return Clip(out.width, out.height, out.fps, out.num_frames, frames)

    plate_image = (
        task.images[plate_index] if plate_index is not None else _studio_backdrop(task.images[0], out)
    )
    ctx.log(
        f"composing {len(others)} subject(s) onto "
        + (f"image {plate_index} as the background" if plate_index is not None else "a studio backdrop")
    )
    focus = face_focus(plate_image) if plate_index is not None else (0.5, 0.5)
    plate, plate_placed, fit = plate_layer(plate_image, out, focus)
    occupied = None
    if plate_index is not None:
        occupied = subject_occupancy(
            plate_image, compose(plate_placed, fit), out.width, out.height, task.seed
        )
        if occupied is not None:
            ctx.log("the background has a subject of its own: ingredients are placed beside it")
    rng = np.random.default_rng(task.seed)
    # A studio sweep has no light of its own to match: the products keep their true colours.
    light_match = 0.4 if plate_index is not None else 0.0
    actors = _arrange(
        [cutouts[i] for i in others], plate, plate_placed, out, creative, rng, light_match, occupied
    )
    return _composite(plate, plate_placed, actors, _choose_move(task, rng, default="push_in"), out, ctx)


def _choose_move(task: ScenesTask, rng: np.random.Generator, default: str) -> CameraMove:
    asked = move_from_prompt(task.prompt or "")
    if asked:
        return CameraMove.named(asked, 1.0)
    if task.mode == "creative":
        return CameraMove.named(str(rng.choice(MOVES)), 1.2)
    return CameraMove.named(default, 0.6)


def _arrange(
    cutouts: list[Cutout],
    plate: np.ndarray,
    plate_placed: Affine,
    out: OutputSpec,
    creative: bool,
    rng: np.random.Generator,
    light_match: float,
    occupied: np.ndarray | None,
) -> list[_Actor]:
    """Stand the subjects on the plate; returned far to near (drawing order)."""
    n = len(cutouts)
    w, h = out.width, out.height
    base_height = {1: 0.6, 2: 0.5}.get(n, 0.44) * h
    slots = [(j + 1) / (n + 1) for j in range(n)]
    depths = [0.0] * n
    if creative:
        slots = [float(s + rng.uniform(-0.05, 0.05)) for s in rng.permutation(slots)]
        depths = [float(d) for d in rng.uniform(0.0, 0.6, n)]
    sizes, bases = [], []
    for c, depth in zip(cutouts, depths, strict=True):
        target_h = base_height * (1.0 - 0.35 * depth) * (1.2 if c.touches_bottom else 1.0)
        scale = min(target_h / c.height, 0.75 * w / n / c.width)
        sizes.append((scale, c.width * scale, c.height * scale))
        # Busts and torsos run off the bottom of the frame, as they did in their own photo.
        bases.append(h + 2.0 if c.touches_bottom else (0.9 - 0.14 * depth) * h)
    centres = free_positions(
        [(cw, ch, base) for (_, cw, ch), base in zip(sizes, bases, strict=True)], slots, occupied, w, h
    )
    if not creative:
        centres = sorted(centres)  # precise keeps the order given, left to right
    actors = []
    for c, (scale, cw, ch), base_y, cx, depth in zip(cutouts, sizes, bases, centres, depths, strict=True):
        placed = similarity(scale, 0.0, cx - cw / 2, base_y - ch)
        surroundings = _plate_region(plate, plate_placed, cx - cw, base_y - 1.4 * ch, cx + cw, base_y)
        actors.append(
            _Actor(
                rgb=match_colour(c.rgb, c.alpha, surroundings, strength=light_match),
                alpha=c.alpha,
                placed=placed,
                base=(cx, base_y),
                width=cw,
                parallax=1.35 - 0.4 * depth,
                drift=float(rng.uniform(-0.04, 0.04) * w) if creative else 0.0,
                bob=(0.008 if creative else 0.002) * h,
                sway=(1.2 if creative else 0.25) * (0.0 if c.touches_bottom else 1.0),
                phase=float(rng.uniform(0, 2 * np.pi)),
                grounded=not c.touches_bottom,
            )
        )
    return sorted(actors, key=lambda a: a.parallax)


def _plate_region(
    plate: np.ndarray, placed: Affine, x0: float, y0: float, x1: float, y1: float
) -> np.ndarray:
    """Plate pixels under a world-space box (used for colour matching)."""
    ox, oy = -placed[0, 2], -placed[1, 2]
    ph, pw = plate.shape[:2]
    a, b = int(np.clip(x0 + ox, 0, pw - 1)), int(np.clip(x1 + ox, 1, pw))
    c, d = int(np.clip(y0 + oy, 0, ph - 1)), int(np.clip(y1 + oy, 1, ph))
    region = plate[c:d, a:b]
    return region.reshape(-1, 3) if region.size >= 48 else plate.reshape(-1, 3)


def _composite(
    plate: np.ndarray,
    plate_placed: Affine,
    actors: list[_Actor],
    move: CameraMove,
    out: OutputSpec,
    ctx: RunContext,
) -> Clip:
    """The clip of the plate and actors under the camera move (frames rendered lazily)."""
    return Clip(
        out.width,
        out.height,
        out.fps,
        out.num_frames,
        _composite_frames(plate, plate_placed, actors, move, out, ctx),
    )


def _composite_frames(
    plate: np.ndarray,
    plate_placed: Affine,
    actors: list[_Actor],
    move: CameraMove,
    out: OutputSpec,
    ctx: RunContext,
) -> Iterator[np.ndarray]:
    n = out.num_frames

    def render(f: int) -> np.ndarray:
        t = f / max(1, n - 1)
        frame = render_plate(plate, plate_placed, move.view(t, out.width, out.height), out)
        for a in actors:
            view = move.view(t, out.width, out.height, a.parallax)
            wave = np.sin(2 * np.pi * f / (2.8 * out.fps) + a.phase)
            bx, by = a.base
            dx = a.drift * (t - 0.5)
            # Sway pivots about the feet, so the subject rocks instead of sliding.
            pivot = similarity(1.0, 0.0, bx, by)
            rock = compose(pivot, compose(similarity(1.0, a.sway * wave), similarity(1.0, 0.0, -bx, -by)))
            lift = similarity(1.0, 0.0, dx, -abs(a.bob * wave) if a.grounded else a.bob * wave)
            m = compose(view, compose(lift, compose(rock, a.placed)))
            if a.grounded:
                sx, sy = view[0, 0] * (bx + dx) + view[0, 2], view[1, 1] * by + view[1, 2]
                contact_shadow(frame, sx, sy, a.width * view[0, 0], strength=0.5)
            warp_layer_into(frame, a.rgb, a.alpha, m)
        return frame

    # Drawn ahead on two threads while the encoder takes the previous ones (a frame is a pure
    # function of its index).
    yield from drawn_ahead(render, n, ctx.progress)


def _single_image(task: ScenesTask, ctx: RunContext) -> Clip:
    out = task.output
    image = task.images[0]
    subject = find_subject(image, seed=task.seed)
    c = cut_out(image, seed=task.seed, subject=subject)
    if not _composable(c):
        ctx.log("one image without a cleanly separable subject: a single shot with a camera move")
        frames = render_shot_sequence([image], out, task.mode, task.seed, task.prompt or "", ctx)
        return Clip(out.width, out.height, out.fps, out.num_frames, frames)
    ctx.log("one image: subject lifted over its clean plate for a parallax shot")
    background = clean_plate(image, subject.mask, seed=task.seed)
    focus = face_focus(image)
    if not subject.faces:
        cx, cy = subject.centroid
        focus = (cx / image.shape[1], cy / image.shape[0])
    plate, plate_placed, fit = plate_layer(background, out, focus)
    # The subject sits exactly where it was in the cover-fitted photo.
    scale = fit[0, 0]
    crop = similarity(1.0, 0.0, float(c.origin[0]), float(c.origin[1]))
    placed = compose(plate_placed, compose(fit, crop))
    rng = np.random.default_rng(task.seed)
    creative = task.mode == "creative"
    actor = _Actor(
        rgb=c.rgb,
        alpha=c.alpha,
        placed=placed,
        base=(0.0, 0.0),
        width=c.width * scale,
        parallax=1.5 if creative else 1.3,
        drift=0.0,
        bob=0.0,
        sway=0.0,
        phase=0.0,
        grounded=False,
    )
    return _composite(plate, plate_placed, [actor], _choose_move(task, rng, default="push_in"), out, ctx)


def _studio_backdrop(first: np.ndarray, out: OutputSpec) -> np.ndarray:
    """A seamless studio sweep in the first photo's backdrop colour: lit wall above, floor below,
    soft vignette. The plate for ingredients that are all objects on plain backdrops."""
    w, h = round(out.width * OVERSCAN), round(out.height * OVERSCAN)
    border = np.concatenate([first[:4].reshape(-1, 3), first[-4:].reshape(-1, 3)])
    lab = _lab(np.median(border, axis=0).reshape(1, 1, 3).astype(np.uint8))[0, 0]
    ys = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    xs = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :]
    horizon = 0.62
    # Wall brightest behind the subjects' heads, floor darker towards the camera.
    wall = 1.0 - 0.25 * np.abs(ys - 0.45)
    floor = 0.92 - 0.28 * (ys - horizon)
    mix = 1.0 / (1.0 + np.exp(-(ys - horizon) * 30.0))
    light = (wall * (1 - mix) + floor * mix) * (1.0 - 0.18 * xs**2)
    canvas = np.empty((h, w, 3), np.float32)
    canvas[..., 0] = np.clip(min(max(lab[0], 35.0), 88.0) * light, 0, 100)
    canvas[..., 1] = lab[1] * 0.8
    canvas[..., 2] = lab[2] * 0.8
    return _rgb(canvas)
