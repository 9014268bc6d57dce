"""Pikascenes: ingredients composed into one moving scene, or played as a sequence of shots."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from openpika.engines.base import RunContext
from openpika.engines.classic import prefetch
from openpika.engines.classic.scenes import render_scenes
from openpika.engines.tasks import OutputSpec, ScenesTask
from openpika.errors import Cancelled, InputError

OUT = OutputSpec(160, 90, 24, 24)


def _product(colour: tuple[int, int, int], shape: str) -> np.ndarray:
    """An object photographed on a plain light backdrop."""
    image = np.full((120, 100, 3), 238, np.uint8)
    if shape == "ball":
        cv2.circle(image, (50, 66), 34, colour, -1)
    else:
        cv2.rectangle(image, (28, 20), (72, 104), colour, -1)
    return image


RED_BALL = _product((210, 30, 30), "ball")
BLUE_BOX = _product((30, 60, 200), "box")


def _small(image: np.ndarray, long_side: int = 200) -> np.ndarray:
    scale = long_side / max(image.shape[:2])
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def _frames(task: ScenesTask, ctx: RunContext | None = None) -> list[np.ndarray]:
    clip = render_scenes(task, ctx or RunContext())
    assert (clip.width, clip.height, clip.fps, clip.num_frames) == (
        task.output.width,
        task.output.height,
        24,
        24,
    )
    frames = list(clip.frames)
    assert len(frames) == task.output.num_frames
    assert all(f.shape == (task.output.height, task.output.width, 3) and f.dtype == np.uint8 for f in frames)
    return frames


def _mask(frame: np.ndarray, channel: int) -> np.ndarray:
    f = frame.astype(int)
    others = [c for c in range(3) if c != channel]
    return (f[..., channel] > 120) & (f[..., channel] - f[..., others].max(axis=2) > 60)


def _x(mask: np.ndarray) -> float:
    xs = np.nonzero(mask)[1]
    assert len(xs) > 30, "ingredient not visible"
    return float(xs.mean())


def test_products_on_plain_backdrops_share_a_studio_scene_in_the_given_order() -> None:
    task = ScenesTask([RED_BALL, BLUE_BOX], "two products", "", 3, OUT, "precise", "v2.2")
    frames = _frames(task)
    for frame in (frames[0], frames[-1]):
        # Precise mode keeps the order given: first ingredient on the left.
        assert _x(_mask(frame, 0)) < _x(_mask(frame, 2))
    # The backdrop is not the white of the photos: a lit studio sweep, darker at the floor.
    top, floor = frames[0][:8].mean(), frames[0][-6:].mean()
    assert top > floor
    # The camera moves.
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 1.0


def test_object_is_placed_into_a_scene_photo() -> None:
    rocket = _small(data.rocket())
    task = ScenesTask([rocket, RED_BALL], "a red ball at the launch site", "", 1, OUT, "precise", "v2.2")
    frame = _frames(task)[12]
    red = _mask(frame, 0)
    assert 0.02 < red.mean() < 0.4
    ys = np.nonzero(red)[0]
    assert ys.mean() > OUT.height * 0.4, "the object stands in the lower part of the scene"
    # The rest is the rocket photo's blue evening sky, not a studio backdrop.
    sky = frame[:20].reshape(-1, 3).mean(0)
    assert sky[2] > sky[0] + 20


def test_ingredients_that_cannot_be_cut_out_play_as_shots_in_order() -> None:
    cat, rocket = _small(data.chelsea()), _small(data.rocket())
    task = ScenesTask([cat, rocket], "", "", 4, OUT, "creative", "v2.1")
    frames = _frames(task)

    def distance(frame: np.ndarray, image: np.ndarray) -> float:
        return float(np.abs(frame.reshape(-1, 3).mean(0) - image.reshape(-1, 3).mean(0)).sum())

    assert distance(frames[0], cat) < distance(frames[0], rocket)
    assert distance(frames[-1], rocket) < distance(frames[-1], cat)


def test_single_image_becomes_a_moving_shot() -> None:
    astronaut = _small(data.astronaut())
    frames = _frames(ScenesTask([astronaut], "", "", 0, OUT, "precise", "v2.2"))
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 2.0
    # The portrait is cropped to 16:9 around the face, not through it: the face's skin tones fill
    # the upper middle of the first frame.
    upper_middle = frames[0][10:45, 60:100].reshape(-1, 3).mean(0)
    assert upper_middle[0] > upper_middle[2] + 25


def test_determinism_and_seed() -> None:
    def run(seed: int) -> list[np.ndarray]:
        return _frames(ScenesTask([RED_BALL, BLUE_BOX], "", "", seed, OUT, "creative", "v2.1"))

    a, b, c = run(5), run(5), run(6)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert any(not np.array_equal(x, y) for x, y in zip(a, c, strict=True))


@pytest.mark.parametrize("path", ["composition", "shots"])
def test_frames_drawn_ahead_on_threads_are_the_frames_drawn_one_at_a_time(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    images = (
        [RED_BALL, BLUE_BOX] if path == "composition" else [_small(data.chelsea()), _small(data.rocket())]
    )
    task = ScenesTask(images, "", "", 2, OUT, "creative", "v2.2")
    ahead = _frames(task)
    monkeypatch.setattr(prefetch, "prefetched", lambda render, count: map(render, range(count)))
    assert all(np.array_equal(x, y) for x, y in zip(ahead, _frames(task), strict=True))


def test_cancellation_stops_rendering() -> None:
    calls = {"n": 0}

    def cancelled() -> bool:
        calls["n"] += 1
        return calls["n"] > 5

    task = ScenesTask([RED_BALL, BLUE_BOX], "", "", 0, OUT, "precise", "v2.2")
    with pytest.raises(Cancelled):
        _frames(task, RunContext(is_cancelled=cancelled))


def test_no_images_is_an_input_error() -> None:
    with pytest.raises(InputError):
        render_scenes(ScenesTask([], "", "", 0, OUT, "precise", "v2.2"), RunContext())


def test_ingredients_stand_beside_the_backgrounds_own_subject() -> None:
    # A portrait as the background: the product must not cover the person.
    portrait = _small(data.astronaut())
    frames = _frames(ScenesTask([portrait, BLUE_BOX], "", "", 0, OUT, "precise", "v2.2"))
    # (The astronaut is orange: the blue box is the only large blue thing in the frame.)
    x = _x(_mask(frames[0], 2))
    assert abs(x - OUT.width / 2) > 0.25 * OUT.width


@pytest.mark.parametrize(("prompt", "direction"), [("the camera pans left", 1), ("slow pan right", -1)])
def test_prompt_camera_words_choose_the_move(prompt: str, direction: int) -> None:
    cat = _small(data.chelsea())  # no clean cut-out: a single shot with the asked move
    frames = _frames(ScenesTask([cat], prompt, "", 0, OUT, "precise", "v2.2"))

    def grey(f: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float32)

    (dx, dy), _ = cv2.phaseCorrelate(grey(frames[0]), grey(frames[-1]))
    # Panning left slides the picture right across the frame, and the other way round.
    assert dx * direction > 0.04 * OUT.width
    assert abs(dy) < 2.0
