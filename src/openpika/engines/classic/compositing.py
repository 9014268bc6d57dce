"""Pikadditions (put an object into a video) and Pikaswaps (replace a region of a video).

Additions: the object is cut out of its photo, placed where the prompt says (``placement``), given
the scene's light (partial Lab colour transfer from the pixels around it) and a soft contact shadow,
and carried along with the background's motion (``tracking``) so it stays on the ground while the
camera pans or zooms.

Swaps: the region named by ``modify_region`` is found and followed (``regions``), then filled with
the swap image (cover-fitted to the region, moving with it, keeping the original's shading) or
recoloured as the prompt asks (``recolour``).

Both resample the input to the output's 24 fps by nearest frame in time and keep its size.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import cv2
import numpy as np

from ...errors import InputError
from ..base import Clip, RunContext
from ..tasks import AdditionTask, InputVideo, OutputSpec, SwapTask
from .cutout import cut_out
from .layers import (
    Affine,
    affine_scale,
    apply_affine,
    blend_into,
    compose,
    contact_shadow,
    cover_fit,
    grain_level,
    match_colour,
    prescale_layer,
    similarity,
    warp_layer_into,
)
from .placement import free_positions, parse_placement, subject_occupancy
from .recolour import parse_target_colour, recolour, region_lightness, shade_like
from .regions import RegionTrack, locate_and_track
from .tracking import background_motion, source_indices

_MIN_OBJECT_COVERAGE = 0.004
_MIN_OBJECT_CONFIDENCE = 0.3  # cutout.matte_confidence below which no object was really found


def _fitted_frame(video: InputVideo, index: int, out: OutputSpec) -> np.ndarray:
    frame = video.frames[index]
    if frame.shape[1] != out.width or frame.shape[0] != out.height:
        return cv2.resize(frame, (out.width, out.height), interpolation=cv2.INTER_AREA)
    return np.array(frame, copy=True)


def _to_output_units(m: Affine, sx: float, sy: float) -> Affine:
    """A transform measured in input-video pixels, re-expressed in output pixels."""
    s = np.array([[sx, 0.0, 0.0], [0.0, sy, 0.0]])
    s_inv = np.array([[1.0 / sx, 0.0, 0.0], [0.0, 1.0 / sy, 0.0]])
    return compose(s, compose(m, s_inv))


def _check_video(video: InputVideo) -> None:
    if video.num_frames < 1:
        raise InputError(("body", "video_url"), "the input video has no frames")


def render_addition(task: AdditionTask, ctx: RunContext) -> Clip:
    out = task.output
    _check_video(task.video)
    obj = cut_out(task.object_image, seed=task.seed)
    # The matte always returns a shape; an outline with no colour change along it is a guess.
    if obj.coverage < _MIN_OBJECT_COVERAGE or obj.confidence < _MIN_OBJECT_CONFIDENCE:
        raise InputError(
            ("body", "image_url"),
            "could not find an object in the image to add; use a photo where the object stands out "
            "from a plain or contrasting background",
        )
    ctx.log(f"object cut out: {obj.width}x{obj.height} px, matte covers {obj.coverage:.0%} of the photo")
    if obj.confidence < 0.7:
        ctx.log(
            "the object does not stand out clearly from its photo's background; its outline may be rough "
            "(a photo on a plain backdrop cuts out best)",
            "WARN",
        )
    place = parse_placement(task.prompt or "", task.seed)

    indices = source_indices(task.video.num_frames, task.video.fps, out.num_frames, out.fps)
    used = task.video.frames[: max(indices) + 1]
    motion = background_motion(used, on_step=lambda t: ctx.check_cancelled())
    vh, vw = used.shape[1:3]
    sx, sy = out.width / vw, out.height / vh
    motion = [_to_output_units(m, sx, sy) for m in motion]

    # Size: the prompt's fraction of the frame height, but never wider than 45% of the frame.
    scale = min(place.height * out.height / obj.height, 0.45 * out.width / obj.width)
    obj_w, obj_h = obj.width * scale, obj.height * scale
    anchor_y = place.base_y * out.height
    first = _fitted_frame(task.video, indices[0], out)
    # Step aside from the footage's own subject (a person, a motorbike) instead of covering it.
    occupied = subject_occupancy(first, similarity(1.0), out.width, out.height, task.seed)
    if occupied is not None:
        ctx.log("the footage has a main subject of its own: the object is placed beside it")
    anchor_x = free_positions(
        [(obj_w, obj_h, anchor_y)],
        [place.x],
        occupied,
        out.width,
        out.height,
        stay=2.0 if place.explicit_x else 0.6,
    )[0]
    # Cutout pixels -> frame-0 pixels: bottom centre of the object on the anchor.
    placed = similarity(scale, 0.0, anchor_x - scale * obj.width / 2, anchor_y - scale * obj.height)

    x0, x1 = int(max(0, anchor_x - obj_w)), int(min(out.width, anchor_x + obj_w))
    y0, y1 = int(max(0, anchor_y - 1.5 * obj_h)), int(min(out.height, anchor_y + 0.5 * obj_h))
    surroundings = first[y0:y1, x0:x1] if (x1 > x0 and y1 > y0) else first
    rgb = match_colour(obj.rgb, obj.alpha, surroundings, strength=0.45)
    rgb, alpha, placed = prescale_layer(rgb, obj.alpha, placed)
    ctx.log(
        f"placing the object at x={anchor_x:.0f}, base y={anchor_y:.0f}, {obj_h:.0f} px tall"
        + (", floating" if place.floating else "")
    )

    # The object gets the footage's grain, fresh every frame (static grain would read as texture).
    grain = grain_level(first)
    rng = np.random.default_rng(task.seed)
    if grain > 0.0:
        ctx.log(f"matching the footage's grain ({grain:.1f} grey levels)")
    bob_amplitude = 0.012 * out.height if place.floating else 0.0
    bob_period = 2.6 * out.fps

    def frames() -> Iterator[np.ndarray]:
        for i, src in enumerate(indices):
            frame = _fitted_frame(task.video, src, out)
            ground = motion[src]
            bob = similarity(1.0, 0.0, 0.0, bob_amplitude * float(np.sin(2 * np.pi * i / bob_period)))
            m = compose(ground, compose(bob, placed))
            if not place.floating:
                cx, cy = apply_affine(ground, anchor_x, anchor_y)
                contact_shadow(frame, cx, cy, obj_w * affine_scale(ground), strength=0.55)
            warp_layer_into(frame, rgb, alpha, m, grain=(grain, rng))
            ctx.progress((i + 1) / out.num_frames)
            yield frame

    return Clip(out.width, out.height, out.fps, out.num_frames, frames())


def render_swap(task: SwapTask, ctx: RunContext) -> Clip:
    out = task.output
    _check_video(task.video)
    indices = source_indices(task.video.num_frames, task.video.fps, out.num_frames, out.fps)
    used = task.video.frames[: max(indices) + 1]
    prompt = task.prompt or ""
    target = None
    if task.image is None:
        target = parse_target_colour(prompt)
        if target is None and re.search(r"\b(remove|erase|delete|get rid of|take out)\b", prompt.lower()):
            raise InputError(
                ("body", "prompt"),
                "removing the region needs a generative model: the classic engine cannot invent what is behind "
                "it; give image_url with what to put there, or name a colour to recolour it",
            )
        if target is None:
            raise InputError(
                ("body", "prompt"),
                f"without image_url the classic engine can only recolour the region, and the prompt {prompt!r} "
                "names no colour; say e.g. 'make it blue', or give image_url with what to put there",
            )
    track = locate_and_track(
        task.modify_region or "", used, seed=task.seed, on_step=lambda t: ctx.check_cancelled()
    )
    ctx.log(f"region {task.modify_region!r}: {track.description}")
    vh, vw = used.shape[1:3]
    sx, sy = out.width / vw, out.height / vh

    first = _fitted_frame(task.video, indices[0], out)
    first_alpha = track.alpha(indices[0], out.width, out.height)
    weight = first_alpha if first_alpha is not None else np.ones(first.shape[:2], np.float32)
    mean_luma = region_lightness(first, weight)  # first frame's: the same steer on every frame
    texture: np.ndarray | None = None
    texture_at = similarity(1.0)  # texture pixels -> frame-0 output pixels
    if task.image is not None:
        texture, texture_at = _region_texture(task.image, track, sx, sy, first)

    def frames() -> Iterator[np.ndarray]:
        for i, src in enumerate(indices):
            frame = _fitted_frame(task.video, src, out)
            alpha = track.alpha_for(src, frame, solid=texture is not None)
            box = _support(alpha) if alpha is not None else None
            if alpha is not None and box is not None:
                x0, y0, x1, y1 = box
                roi, a = frame[y0:y1, x0:x1], alpha[y0:y1, x0:x1]
                if texture is not None:
                    m = compose(_to_output_units(track.motion[src], sx, sy), texture_at)
                    m[:, 2] -= (x0, y0)
                    layer = cv2.warpAffine(
                        texture, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
                    )
                    blend_into(roi, shade_like(layer, roi, mean_luma), a)
                else:
                    assert target is not None
                    blend_into(roi, recolour(roi, target, mean_luma), a)
            ctx.progress((i + 1) / out.num_frames)
            yield frame

    return Clip(out.width, out.height, out.fps, out.num_frames, frames())


def _support(alpha: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounding box (x0, y0, x1, y1) of the visibly non-zero part of ``alpha``."""
    x, y, w, h = cv2.boundingRect((alpha > 0.004).astype(np.uint8))
    return None if w == 0 or h == 0 else (x, y, x + w, y + h)


def _region_texture(
    image: np.ndarray, track: RegionTrack, sx: float, sy: float, first: np.ndarray
) -> tuple[np.ndarray, Affine]:
    """The swap image cover-fitted to everywhere the region goes (in frame-0 output pixels), and
    the affine from texture pixels to frame-0 pixels; colour-matched to the region's light."""
    x0, y0, x1, y1 = track.reach()
    x0, y0, x1, y1 = x0 * sx, y0 * sy, x1 * sx, y1 * sy
    w, h = max(2, round(x1 - x0)), max(2, round(y1 - y0))
    texture, _ = cover_fit(image, w, h)
    fh, fw = first.shape[:2]
    weight = track.alpha(0, fw, fh)
    if weight is not None and int((weight > 0.5).sum()) >= 16:
        texture = match_colour(texture, np.ones((h, w), np.float32), first[weight > 0.5], strength=0.35)
    return texture, similarity(1.0, 0.0, x0, y0)
