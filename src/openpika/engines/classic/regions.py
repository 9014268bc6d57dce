"""Find the region a swap names, in plain words and without learned weights, and follow it.

Understood words (combine freely): colours ("the red car", "the blue and white sign"), positions
("left", "right", "top", "bottom", "center"; with a colour they narrow the search, alone they name
that part of the frame), "sky", "background", "face"/"head", and the main subject ("person",
"man", "woman", "subject", "foreground", "animal", ...). Anything else is refused with a message that
says what to write instead.

Following: the region is found on the first frame, then carried to each next frame by the motion of
the corners inside it (the whole frame's motion for sky and background), and colour and sky regions
are re-cut on every frame around where the motion says they went, so their outline keeps up with
the object's changing shape. Masks are smoothed over time so edges do not crawl. The per-frame
pixel masks (colour classes, positions, sky, faces) are in ``region_masks``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from ...errors import InputError
from .cutout import matte_confidence
from .layers import Affine, compose, fill_holes
from .placement import has_word
from .recolour import COLOUR_PATTERN
from .region_masks import colour_mask, face_mask, main_components, position_mask, sky_mask
from .subject import find_subject
from .tracking import identity, step_motion, to_full_units, work_scale, work_size

_SUBJECT_WORDS = (
    "person",
    "people",
    "man",
    "woman",
    "boy",
    "girl",
    "child",
    "kid",
    "subject",
    "main subject",
    "foreground",
    "object",
    "animal",
    "cat",
    "dog",
    "character",
    "body",
    "figure",
)
_POSITIONS = ("left", "right", "top", "bottom", "upper", "lower", "center", "centre", "middle")
_MIN_AREA = 0.002  # of the frame
_MIN_SUBJECT_CONFIDENCE = 0.6  # cutout.matte_confidence: a subject's outline must follow real edges


@dataclass
class RegionQuery:
    kind: str  # "colour" | "sky" | "background" | "face" | "subject" | "position"
    colours: list[str]
    positions: list[str]


def parse_region(text: str) -> RegionQuery | None:
    words = text.lower()
    colours = sorted(set(COLOUR_PATTERN.findall(words)))
    positions = [p for p in _POSITIONS if has_word(words, p)]
    if has_word(words, "sky", "clouds"):
        kind = "sky"
    elif has_word(words, "background", "backdrop", "surroundings", "scenery"):
        kind = "background"
    elif has_word(words, "face", "head"):
        kind = "face"
    elif colours:
        kind = "colour"
    elif has_word(words, *_SUBJECT_WORDS):
        kind = "subject"
    elif positions:
        kind = "position"
    else:
        return None
    return RegionQuery(kind, colours, positions)


def _not_found(text: str, why: str) -> InputError:
    return InputError(
        ("body", "modify_region"),
        f"could not locate {text!r} in the video ({why}); name a colour ('the red car'), a position "
        "('the left side', 'the top'), 'sky', 'background', 'face' or 'person'",
    )


def locate(query: RegionQuery, text: str, small: np.ndarray, full: np.ndarray, seed: int = 0) -> np.ndarray:
    """Boolean mask (work resolution) of the region on the first frame; raises when not found."""
    shape = small.shape[:2]
    where = position_mask(shape, query.positions) if query.positions else np.ones(shape, bool)
    if query.kind == "colour":
        mask = main_components(colour_mask(small, query.colours) & where)
    elif query.kind == "sky":
        mask = sky_mask(small) & where
    elif query.kind == "face":
        mask = face_mask(full, shape, where)
    elif query.kind in ("subject", "background"):
        alpha = find_subject(small, seed=seed).alpha
        # The matte always returns something; only trust it when its outline follows real edges.
        if matte_confidence(small, alpha) < _MIN_SUBJECT_CONFIDENCE:
            raise _not_found(text, "no main subject that stands out clearly from its surroundings")
        subject = alpha >= 0.5
        mask = subject if query.kind == "subject" else ~subject
        mask &= where
    else:
        mask = where
    area = float(mask.mean())
    if area < _MIN_AREA:
        why = {
            "colour": f"no {' or '.join(query.colours)} area large enough",
            "sky": "no smooth bright or blue area touching the top of the frame",
            "face": "no face detected",
        }.get(query.kind, "the region is empty")
        raise _not_found(text, why)
    if area > 0.97 and query.kind != "position":
        raise _not_found(text, "it would cover the whole frame")
    return mask


@dataclass
class RegionTrack:
    description: str
    box: tuple[int, int, int, int]  # frame-0 bounding box (x, y, w, h), input-video pixels
    motion: list[Affine]  # per input frame: frame-0 positions -> frame-t positions, input pixels
    masks: list[np.ndarray]  # per input frame: float32 work-resolution masks in [0, 1]
    feather: float  # blur sigma in work pixels
    scale: float  # work pixels per input pixel
    # Work-resolution copies of the frames, kept for colour-keyed regions (sky, colours), whose
    # edges are re-keyed at full resolution: lattices, branches and outlines stay crisp.
    keyed_frames: list[np.ndarray] | None = None
    key_reach: int = 3  # work pixels past the tracked outline where the key may still take pixels
    key_colours: list[str] | None = None  # colour regions are keyed by their colour class itself

    def alpha(self, index: int, width: int, height: int) -> np.ndarray | None:
        """Soft float32 alpha at (height, width) for input frame ``index``; None when empty."""
        m = self.masks[index]
        if float(m.max()) < 0.05:
            return None
        soft = cv2.GaussianBlur(m, (0, 0), self.feather)
        return cv2.resize(soft, (width, height), interpolation=cv2.INTER_LINEAR)

    def reach(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) in frame-0 input pixels covering everywhere the region goes over the clip,
        brought back through its motion: a fill texture this big never runs out under the region."""
        xs: list[float] = []
        ys: list[float] = []
        for m, mask in zip(self.motion, self.masks, strict=True):
            x, y, w, h = cv2.boundingRect((mask > 0.5).astype(np.uint8))
            if w == 0 or h == 0:
                continue
            back = cv2.invertAffineTransform(m)
            corners = np.array([[x, y], [x + w, y], [x, y + h], [x + w, y + h]], np.float64) / self.scale
            mapped = corners @ back[:, :2].T + back[:, 2]
            xs.extend(mapped[:, 0])
            ys.extend(mapped[:, 1])
        bx, by, bw, bh = self.box
        if not xs:
            return float(bx), float(by), float(bx + bw), float(by + bh)
        return min(xs), min(ys), max(xs), max(ys)

    def alpha_for(self, index: int, frame: np.ndarray, solid: bool = True) -> np.ndarray | None:
        """The alpha for ``frame`` (input frame ``index`` at output size). For keyed regions, each
        full-resolution pixel near the tracked outline is judged by its colour: for colour regions,
        whether it is in the named colour class; for the sky, its RGB distance to the local sky
        colour (a soft key: under 20 levels in, over 44 out). ``solid`` also fills the tracked
        interior (an image fill must cover all of it; a recolour only changes that colour, so a
        logo on a red tank stays as it is)."""
        h, w = frame.shape[:2]
        soft = self.alpha(index, w, h)
        if soft is None or self.keyed_frames is None:
            return soft
        inside = (self.masks[index] > 0.5).astype(np.uint8)
        cross = np.ones((3, 3), np.uint8)
        core = cv2.erode(inside, cross, iterations=2).astype(np.float32)
        # Sky reaches into lattices and foliage; a coloured object's edge is only a few pixels wide.
        band = cv2.dilate(inside, cross, iterations=self.key_reach).astype(np.float32)
        small = self.keyed_frames[index].astype(np.float32)
        k = (max(5, inside.shape[1] // 25) | 1,) * 2
        weight = cv2.blur(inside.astype(np.float32), k)
        local = cv2.blur(small * inside[..., None], k) / np.maximum(weight, 1e-3)[..., None]
        local8 = np.clip(local + 0.5, 0, 255).astype(np.uint8)

        def full(a: np.ndarray) -> np.ndarray:
            return cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)

        core_full = full(cv2.GaussianBlur(core, (0, 0), self.feather))
        band_full = full(band)
        x, y, bw, bh = cv2.boundingRect((band_full > 0.01).astype(np.uint8))
        alpha = core_full if solid or not self.key_colours else np.zeros_like(core_full)
        if bw and bh:
            roi = (slice(y, y + bh), slice(x, x + bw))
            if self.key_colours:
                in_class = colour_mask(frame[roi], self.key_colours).astype(np.float32)
                key = cv2.GaussianBlur(in_class, (0, 0), 0.8) * band_full[roi]
            else:
                diff = cv2.absdiff(frame[roi], full(local8)[roi]).astype(np.float32)
                distance = cv2.magnitude(cv2.magnitude(diff[..., 0], diff[..., 1]), diff[..., 2])
                key = np.clip((44.0 - distance) / 24.0, 0.0, 1.0) * band_full[roi]
            alpha[roi] = np.maximum(alpha[roi], key)
        # Outline pixels mix the region's colour with its neighbour's; a one-pixel grey dilation
        # takes them in, or a recolour leaves a thin rim of the old colour.
        return np.asarray(cv2.dilate(alpha, np.ones((3, 3), np.uint8)), np.float32)


def locate_and_track(
    text: str, frames: np.ndarray, seed: int = 0, on_step: Callable[[int], None] | None = None
) -> RegionTrack:
    query = parse_region(text)
    if query is None:
        raise _not_found(text, "no colour, position or known region word in it")
    h, w = frames.shape[1:3]
    scale = work_scale(h, w)
    size = work_size(h, w)
    small = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in small]
    mask = locate(query, text, small[0], frames[0], seed=seed)
    model = _ColourModel.of(small[0], mask) if query.kind == "colour" else None
    # Sky and background move with the camera; objects (and faces) by their own corners.
    own_motion = query.kind in ("colour", "face", "subject")
    screen_fixed = query.kind == "position"
    smooth = mask.astype(np.float32)
    masks, motion = [smooth], [identity()]
    cumulative = identity()
    grow = np.ones((9, 9), np.uint8)
    for t in range(1, len(frames)):
        step = None
        if not screen_fixed:
            if own_motion:
                step = step_motion(
                    gray[t - 1], gray[t], mask=cv2.dilate((smooth > 0.5).astype(np.uint8) * 255, grow)
                )
            if step is None:
                step = step_motion(gray[t - 1], gray[t])
        if step is None:
            step = identity()
        cumulative = compose(step, cumulative)
        carried = np.asarray(cv2.warpAffine(smooth, step, size, flags=cv2.INTER_LINEAR), np.float32)
        # Pixels the camera just brought into view: the region may continue there.
        revealed = cv2.warpAffine(np.ones(size[::-1], np.uint8), step, size, flags=cv2.INTER_NEAREST) == 0
        if query.kind == "background":
            carried = np.maximum(carried, revealed.astype(np.float32))
        recut = _recut(query, small[t], carried, revealed, grow, model)
        smooth = (0.65 * recut + 0.35 * carried if recut is not None else carried).astype(np.float32)
        masks.append(smooth)
        motion.append(to_full_units(cumulative, scale))
        if on_step is not None:
            on_step(t)
    ys, xs = np.nonzero(mask)
    box = (
        int(xs.min() / scale),
        int(ys.min() / scale),
        int((np.ptp(xs) + 1) / scale),
        int((np.ptp(ys) + 1) / scale),
    )
    description = f"{query.kind} region covering {mask.mean():.0%} of the first frame"
    motion = [to_full_units(identity(), scale), *motion[1:]]
    keyed = small if query.kind in ("sky", "colour") else None
    return RegionTrack(
        description,
        box,
        motion,
        masks,
        feather=max(1.0, size[0] / 300.0),
        scale=scale,
        keyed_frames=keyed,
        key_reach=8 if query.kind == "sky" else 3,
        key_colours=query.colours if query.kind == "colour" else None,
    )


@dataclass(frozen=True)
class _ColourModel:
    """The region's own colours on the first frame (Lab mean and spread), so a re-cut does not
    creep into a neighbour of the same colour family (orange hair next to skin)."""

    mean: np.ndarray
    spread: np.ndarray

    @staticmethod
    def of(small: np.ndarray, mask: np.ndarray) -> _ColourModel:
        lab = _lab_small(small)[mask]
        return _ColourModel(lab.mean(0), np.maximum(lab.std(0), (4.0, 3.0, 3.0)))

    def close(self, small: np.ndarray, z: float = 3.0) -> np.ndarray:
        return np.asarray((np.abs(_lab_small(small) - self.mean) / self.spread).max(axis=2) < z)


def _lab_small(small: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.cvtColor(small.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab))


def _recut(
    query: RegionQuery,
    small: np.ndarray,
    carried: np.ndarray,
    revealed: np.ndarray,
    grow: np.ndarray,
    model: _ColourModel | None,
) -> np.ndarray | None:
    """Re-segment colour and sky regions near where motion carried them (or where the camera just
    revealed new ground next to them); None keeps the carried mask."""
    if query.kind not in ("colour", "sky"):
        return None
    solid = (carried > 0.5).astype(np.uint8)
    near = cv2.dilate(solid, grow) > 0
    near |= cv2.dilate(revealed.astype(np.uint8), grow) > 0
    found = colour_mask(small, query.colours) if query.kind == "colour" else sky_mask(small)
    if model is not None:
        found &= model.close(small)
    found = fill_holes(found & near) if query.kind == "colour" else found & near
    carried_area = max(1.0, float(solid.sum()))
    if found.sum() < 0.25 * carried_area:
        return None  # occluded or lost: trust the motion for now
    if found.sum() > 1.2 * carried_area + float(revealed.sum()):
        # Growing faster than the camera reveals: creeping into a neighbour. Stay close.
        found &= cv2.dilate(solid, np.ones((3, 3), np.uint8)) > 0
    return found.astype(np.float32)
