"""Each pikaffect does what its name says, measured on real photos.

The subject in a frame is found by comparing the frame with the clean plate (which the test
rebuilds through the same deterministic ``prepare_scene``): pixels that differ from the empty
background are subject (or what the effect made of it).
"""

from __future__ import annotations

import itertools
from functools import cache

import cv2
import numpy as np
import pytest
from skimage import data

from openpika.endpoints import PIKAFFECTS
from openpika.engines.base import RunContext
from openpika.engines.classic.effects import EFFECTS, builder_for, render_effect
from openpika.engines.classic.effects.controls import parse_controls
from openpika.engines.classic.effects.face import eye_boxes
from openpika.engines.classic.effects.scene import Scene, prepare_scene
from openpika.engines.classic.effects.split import CREAM, SPONGE
from openpika.engines.tasks import EffectTask, OutputSpec
from openpika.errors import Cancelled, InputError

FRAMES = 25  # the effect clock runs over the clip's normalised time, so 25 frames sample it all


@cache
def photo(name: str) -> np.ndarray:
    image = getattr(data, name)()
    scale = 256 / min(image.shape[:2])
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def task_for(
    effect: str, name: str, prompt: str = "", negative: str = "", frames: int = FRAMES
) -> EffectTask:
    image = photo(name)
    h, w = image.shape[:2]
    return EffectTask(image, effect, prompt, negative, 5, OutputSpec(w - w % 2, h - h % 2, 24, frames))


@cache
def run(
    effect: str, name: str, prompt: str = "", negative: str = ""
) -> tuple[list[np.ndarray], Scene, list[str]]:
    logs: list[str] = []
    task = task_for(effect, name, prompt, negative)
    clip = render_effect(task, RunContext(on_log=lambda message, level: logs.append(message)))
    frames = list(clip.frames)
    assert len(frames) == clip.num_frames == FRAMES
    assert all(f.shape == (clip.height, clip.width, 3) and f.dtype == np.uint8 for f in frames)
    scene = prepare_scene(task, RunContext())
    return frames, scene, logs


def subject_in(frame: np.ndarray, scene: Scene, threshold: int = 30) -> np.ndarray:
    diff = np.abs(frame.astype(np.int16) - scene.plate.astype(np.int16)).max(axis=2) > threshold
    return cv2.morphologyEx(diff.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0


def at(frames: list[np.ndarray], t: float) -> np.ndarray:
    return frames[round(t * (len(frames) - 1))]


def extent(mask: np.ndarray) -> tuple[int, int]:
    ys, xs = np.nonzero(mask)
    return int(np.percentile(xs, 98) - np.percentile(xs, 2)), int(
        np.percentile(ys, 98) - np.percentile(ys, 2)
    )


def left_region(frame: np.ndarray, scene: Scene) -> float:
    """Fraction of the original subject's pixels that now show the background."""
    inside = scene.subject.mask
    return float((~subject_in(frame, scene))[inside].mean())


def test_every_endpoint_effect_has_a_renderer() -> None:
    assert set(EFFECTS) == set(PIKAFFECTS)


def test_starts_on_the_photo_itself() -> None:
    frames, scene, _ = run("Inflate", "coffee")
    assert np.abs(frames[0].astype(int) - scene.image.astype(int)).mean() < 2.0


def test_inflate_grows_the_subject() -> None:
    frames, scene, _ = run("Inflate", "coffee")
    assert subject_in(at(frames, 0.7), scene).sum() > 1.2 * subject_in(frames[0], scene).sum()


def test_deflate_shrinks_the_subject() -> None:
    frames, scene, _ = run("Deflate", "coffee")
    assert subject_in(frames[-1], scene).sum() < 0.75 * subject_in(frames[0], scene).sum()


@pytest.mark.parametrize("effect", ["Squish", "Crush"])
def test_squish_and_crush_lose_height_more_than_width(effect: str) -> None:
    frames, scene, _ = run(effect, "coffee")
    w0, h0 = extent(subject_in(frames[0], scene))
    w1, h1 = extent(subject_in(frames[-1], scene))
    assert h1 / h0 < 0.8 and h1 / h0 < w1 / w0 - 0.15


def test_poke_makes_a_local_dent_that_recovers() -> None:
    frames, scene, _ = run("Poke", "coffee", negative="no finger")
    pressed = np.abs(at(frames, 0.45).astype(int) - frames[0].astype(int)).max(axis=2) > 25
    ys, xs = np.nonzero(pressed)
    assert len(xs) > 0.005 * pressed.size
    # Finger-sized: the change is confined to a small part of the subject, not the whole of it.
    assert len(xs) < 0.3 * scene.subject.mask.sum()
    assert np.ptp(xs) < 0.6 * scene.bbox.w and np.ptp(ys) < 0.6 * scene.bbox.h
    assert np.abs(frames[-1].astype(int) - frames[0].astype(int)).mean() < 2.0


def test_melt_moves_mass_down() -> None:
    frames, scene, _ = run("Melt", "coffee")
    y0 = np.nonzero(subject_in(frames[0], scene))[0].mean()
    y1 = np.nonzero(subject_in(frames[-1], scene))[0].mean()
    assert y1 - y0 > 0.12 * scene.bbox.h


@pytest.mark.parametrize("effect", ["Explode", "Dissolve"])
def test_explode_and_dissolve_leave_the_original_region(effect: str) -> None:
    frames, scene, _ = run(effect, "coffee")
    assert left_region(frames[0], scene) < 0.3
    assert left_region(frames[-1], scene) > 0.9


def test_crumble_falls_down_and_piles_up() -> None:
    frames, scene, _ = run("Crumble", "coffee")
    box = scene.bbox
    upper = np.zeros_like(scene.subject.mask)
    upper[: box.y + box.h // 2] = True
    upper &= scene.subject.mask
    now = subject_in(frames[-1], scene)
    assert (~now)[upper].mean() > 0.85  # the top half is gone...
    low_band = now[box.y + int(0.8 * box.h) : box.y + box.h + 2]
    assert low_band.mean() > 0.25  # ...and the pieces lie on the ground


def test_levitate_rises_while_the_background_stays() -> None:
    frames, scene, _ = run("Levitate", "coffee")
    y0 = np.nonzero(subject_in(frames[0], scene))[0].mean()
    y1 = np.nonzero(subject_in(at(frames, 0.8), scene))[0].mean()
    assert y0 - y1 > 0.08 * scene.bbox.h
    far = cv2.dilate(scene.subject.mask.astype(np.uint8), np.ones((61, 61), np.uint8)) == 0
    assert far.sum() > 500
    assert np.abs(at(frames, 0.8).astype(int) - frames[0].astype(int))[far].mean() < 1.0


def test_tear_splits_into_two_parts() -> None:
    frames, scene, _ = run("Tear", "coffee")
    mask = subject_in(frames[-1], scene).astype(np.uint8)
    _count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    big = [a for a in stats[1:, cv2.CC_STAT_AREA] if a > 0.1 * scene.subject.mask.sum()]
    assert len(big) == 2
    _count0, _, stats0, _ = cv2.connectedComponentsWithStats(subject_in(frames[0], scene).astype(np.uint8))
    assert sum(a > 0.1 * scene.subject.mask.sum() for a in stats0[1:, cv2.CC_STAT_AREA]) == 1


def test_peel_reveals_the_background_progressively() -> None:
    frames, scene, _ = run("Peel", "coffee")
    revealed = [left_region(at(frames, t), scene) for t in (0.0, 0.3, 0.5, 0.7, 1.0)]
    assert all(b >= a - 0.02 for a, b in itertools.pairwise(revealed))
    assert revealed[0] < 0.3 and revealed[2] > revealed[0] + 0.15 and revealed[-1] > 0.85


def _best_scale(frame: np.ndarray, patch: np.ndarray, centre: tuple[float, float]) -> float:
    """The magnification of ``patch`` that best matches ``frame`` around ``centre``."""
    cx, cy = centre
    best, best_score = 1.0, -2.0
    for scale in np.arange(0.8, 2.61, 0.1):
        p = cv2.resize(patch, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        h, w = p.shape[:2]
        x0, y0 = int(cx - w / 2), int(cy - h / 2)
        window = frame[max(0, y0 - 3) : y0 + h + 3, max(0, x0 - 3) : x0 + w + 3]
        if window.shape[0] < h or window.shape[1] < w:
            continue
        score = float(cv2.matchTemplate(window, p, cv2.TM_CCOEFF_NORMED).max())
        if score > best_score:
            best, best_score = float(scale), score
    return best


def test_eye_pop_makes_the_eyes_bigger() -> None:
    frames, scene, _logs = run("Eye-pop", "astronaut")
    assert scene.subject.eyes, "the astronaut's eyes are found by the cascade"
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in (frames[0], at(frames, 0.5))]
    for eye in eye_boxes(scene):
        cx, cy = eye.center
        half = max(4, eye.w // 3)
        patch = grey[0][int(cy) - half : int(cy) + half, int(cx) - half : int(cx) + half]
        assert _best_scale(grey[0], patch, (cx, cy)) == pytest.approx(1.0, abs=0.11)
        assert _best_scale(grey[1], patch, (cx, cy)) >= 1.5


def test_decapitate_head_leaves_the_body() -> None:
    frames, scene, _ = run("Decapitate", "astronaut")
    face = scene.subject.faces[0]
    first, last = frames[0].astype(int), frames[-1].astype(int)
    head = (slice(face.y, face.y + face.h), slice(face.x, face.x + face.w))
    assert np.abs(last[head] - first[head]).mean() > 25  # the face is no longer where it was
    body = (slice(face.y + int(1.6 * face.h), scene.height), slice(face.x, face.x + face.w))
    assert np.abs(last[body] - first[body]).mean() < 6  # the body did not move
    # The face is found again somewhere else (it flew), matching the original well.
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in (frames[0], at(frames, 0.4))]
    patch = grey[0][head]
    scores = cv2.matchTemplate(grey[1], patch, cv2.TM_CCOEFF_NORMED)
    _, _, _, (bx, by) = cv2.minMaxLoc(scores)
    assert abs(bx - face.x) + abs(by - face.y) > face.w


def test_face_effects_say_when_no_face_is_found() -> None:
    _, _, logs = run("Decapitate", "coffee")
    assert any("no face found" in line for line in logs)


def test_cakeify_reveals_cake_layers() -> None:
    frames, scene, _ = run("Cake-ify", "coffee")
    sponge, cream = np.array(SPONGE), np.array(CREAM)

    def cake_coloured(frame: np.ndarray) -> np.ndarray:
        f = frame.astype(int)
        return (np.abs(f - sponge).max(axis=2) < 40) | (np.abs(f - cream).max(axis=2) < 25)

    new_cake = cake_coloured(frames[-1]) & ~cake_coloured(frames[0])
    assert new_cake.sum() > 0.03 * scene.subject.mask.sum()
    # The layers sit inside the subject's outline, where the cut opened.
    ys, xs = np.nonzero(new_cake)
    box = scene.bbox
    assert box.x < np.median(xs) < box.x + box.w and box.y < np.median(ys) < box.y + box.h


def test_tada_covers_then_reveals() -> None:
    frames, scene, _ = run("Ta-da", "coffee")
    box = scene.bbox
    roi = (slice(box.y, box.y + box.h), slice(box.x, box.x + box.w))
    covered = at(frames, 0.4)[roi].astype(int)
    red_cloth = (covered[..., 0] > 120) & (covered[..., 1] < 60) & (covered[..., 2] < 80)
    assert red_cloth.mean() > 0.4
    assert np.abs(frames[-1][roi].astype(int) - frames[0][roi].astype(int)).mean() < 6


def test_deterministic_per_seed() -> None:
    a = list(render_effect(task_for("Explode", "coffee", frames=6), RunContext()).frames)
    b = list(render_effect(task_for("Explode", "coffee", frames=6), RunContext()).frames)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def _shared_arrays(render: object) -> list[np.ndarray]:
    """The arrays a renderer closes over, directly or as attributes of what it closes over."""
    found: list[np.ndarray] = []
    for cell in getattr(render, "__closure__", None) or ():
        value = cell.cell_contents
        if isinstance(value, np.ndarray):
            found.append(value)
        elif hasattr(value, "__dict__"):
            found += [v for v in vars(value).values() if isinstance(v, np.ndarray)]
    return found


@pytest.mark.parametrize("effect", sorted(EFFECTS))
def test_frames_are_pure_functions_of_time(effect: str) -> None:
    """Frames are drawn ahead on several threads from one renderer: drawing one must change
    nothing it shares (Levitate once faded its sprite's bottom rows in place), and the clip is
    what the renderer draws one frame at a time, in any order."""
    task = task_for(effect, "astronaut", frames=9)
    render = builder_for(effect)(prepare_scene(task, RunContext()))
    shared = _shared_arrays(render)
    before = [array.copy() for array in shared]
    times = [i / 8 for i in range(8, 0, -1)]  # backwards
    alone = {t: render(t) for t in times}
    assert all(np.array_equal(a, b) for a, b in zip(shared, before, strict=True))
    clip = list(render_effect(task, RunContext()).frames)
    assert all(np.array_equal(clip[round(t * 8)], frame) for t, frame in alone.items())


def test_prompt_steers_speed_and_negative_prompt_suppresses() -> None:
    assert parse_controls("slowly melts", "").speed < 1.0 < parse_controls("melts quickly", "").speed
    assert parse_controls("explodes upward", "").direction == (0.0, -1.0)
    assert parse_controls("a gentle squish", "").intensity < 1.0
    assert parse_controls("", "no debris, no shadow").suppressed == {"debris", "shadow"}
    slow, scene, _ = run("Melt", "coffee", "slowly melts")
    normal, _, _ = run("Melt", "coffee")
    y = [np.nonzero(subject_in(at(f, 0.5), scene))[0].mean() for f in (slow, normal)]
    assert y[0] < y[1]  # at mid-clip the slow melt has sunk less


def test_progress_and_cancellation() -> None:
    seen: list[float] = []
    ctx = RunContext(on_progress=seen.append, min_progress_interval=0.0)
    list(render_effect(task_for("Squish", "coffee", frames=8), ctx).frames)
    assert seen[-1] == 1.0 and seen == sorted(seen)
    calls = {"n": 0}

    def cancelled() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    clip = render_effect(task_for("Squish", "coffee", frames=8), RunContext(is_cancelled=cancelled))
    with pytest.raises(Cancelled):
        list(clip.frames)


def test_unknown_effect_is_an_input_error() -> None:
    with pytest.raises(InputError):
        render_effect(task_for("Vaporize", "coffee"), RunContext())


def test_prompt_direction_and_negative_prompt_change_the_render() -> None:
    leftward, scene, _ = run("Dissolve", "coffee", "dissolves to the left")
    plain, _, _ = run("Dissolve", "coffee")
    outside = cv2.dilate(scene.subject.mask.astype(np.uint8), np.ones((9, 9), np.uint8)) == 0

    def dust_columns(frame: np.ndarray) -> np.ndarray:
        # Fine grains: a raw difference from the plate (no opening, which would erase them).
        grains = np.abs(frame.astype(np.int16) - scene.plate.astype(np.int16)).max(axis=2) > 20
        return np.nonzero(grains & outside)[1]

    columns = [float(np.mean(dust_columns(at(f, 0.5)))) for f in (leftward, plain)]
    assert columns[0] < scene.subject.centroid[0] < columns[1]  # the dust blew left, not right
    debris_free, _, _ = run("Explode", "coffee", "", "no debris, no flash")
    exploding, _, _ = run("Explode", "coffee")
    # Without sparks and flash, fewer pixels differ from the background just after the blast.
    changed = [subject_in(at(f, 0.34), scene).sum() for f in (debris_free, exploding)]
    assert changed[0] < changed[1]


def test_any_int64_seed_renders() -> None:
    task = task_for("Dissolve", "coffee", frames=3)
    task.seed = 2**62 + 12345
    frames = list(render_effect(task, RunContext()).frames)
    assert len(frames) == 3 and frames[-1].shape == frames[0].shape
