"""Pikadditions and pikaswaps on small synthetic videos (a camera panning across a real photo)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from openpika.engines.base import RunContext
from openpika.engines.classic.compositing import render_addition, render_swap
from openpika.engines.classic.placement import parse_placement
from openpika.engines.classic.tracking import source_indices
from openpika.engines.tasks import AdditionTask, InputVideo, OutputSpec, SwapTask
from openpika.errors import Cancelled, InputError

W, H = 192, 108
SRC_FPS = 20.0
PAN = 3  # source pixels the camera moves right per source frame


def pan_video(photo: np.ndarray, n: int, dx: int = PAN) -> np.ndarray:
    """A camera panning right across ``photo``: the content slides left by ``dx`` px per frame."""
    return np.stack(
        [np.ascontiguousarray(photo[20 : 20 + H, 10 + dx * t : 10 + dx * t + W]) for t in range(n)]
    )


@pytest.fixture(scope="module")
def scene() -> np.ndarray:
    # Rocket launch site: blue sky and lattice towers (plenty of corners, almost no red).
    return cv2.resize(data.rocket(), (400, 267), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def red_ball() -> np.ndarray:
    """A product shot: a red ball on a plain white backdrop."""
    image = np.full((120, 120, 3), 245, np.uint8)
    cv2.circle(image, (60, 64), 40, (210, 30, 30), -1)
    return image


def _render(clip_frames: object) -> list[np.ndarray]:
    return list(clip_frames)  # type: ignore[call-overload]


def _red(frame: np.ndarray) -> np.ndarray:
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    return (r > 120) & (r - g > 60) & (r - b > 60)


def _centroid(mask: np.ndarray) -> tuple[float, float]:
    ys, xs = np.nonzero(mask)
    assert len(xs) > 20, "object not found in the frame"
    return float(xs.mean()), float(ys.mean())


def test_addition_places_object_where_asked_and_follows_the_pan(
    scene: np.ndarray, red_ball: np.ndarray
) -> None:
    video = pan_video(scene, 20)
    out = OutputSpec(W, H, 24, 24)
    task = AdditionTask(InputVideo(video, SRC_FPS), red_ball, "a small red ball on the right", "", 1, out)
    clip = render_addition(task, RunContext())
    assert (clip.width, clip.height, clip.fps, clip.num_frames) == (W, H, 24, 24)
    frames = _render(clip.frames)
    assert len(frames) == 24 and all(f.shape == (H, W, 3) and f.dtype == np.uint8 for f in frames)
    x0, y0 = _centroid(_red(frames[0]))
    assert x0 > W / 2, "'on the right' must put the object in the right half"
    assert y0 > H / 2, "a grounded object stands in the lower part of the frame"
    # The camera pans right, so the ground (and the object on it) slides left with the content.
    last_src = source_indices(20, SRC_FPS, 24, 24)[-1]
    x1, y1 = _centroid(_red(frames[-1]))
    assert x1 - x0 == pytest.approx(-PAN * last_src, abs=3.0)
    assert abs(y1 - y0) < 2.0
    # Away from the object the video is untouched (besides resampling to 24 fps).
    untouched = frames[-1][:, :40].astype(int) - video[last_src][:, :40].astype(int)
    assert np.abs(untouched).mean() < 1.0


def test_addition_in_the_sky_floats_high(scene: np.ndarray, red_ball: np.ndarray) -> None:
    video = pan_video(scene, 6)
    task = AdditionTask(
        InputVideo(video, 24.0), red_ball, "a red balloon in the sky", "", 2, OutputSpec(W, H, 24, 6)
    )
    frames = _render(render_addition(task, RunContext()).frames)
    _, y = _centroid(_red(frames[0]))
    assert y < H / 2


def test_placement_words() -> None:
    assert parse_placement("on the right", 0).x > 0.6
    assert parse_placement("a huge dragon", 0).height > parse_placement("a tiny mouse", 0).height
    assert parse_placement("a bird flying in the sky", 0).floating
    assert not parse_placement("a dog", 0).floating
    # Without words the seed decides the side, deterministically.
    assert parse_placement("a dog", 5) == parse_placement("a dog", 5)


def test_addition_is_deterministic_and_cancellable(scene: np.ndarray, red_ball: np.ndarray) -> None:
    video = pan_video(scene, 8)
    out = OutputSpec(W, H, 24, 10)

    def run(cancel_after: int | None = None) -> list[np.ndarray]:
        calls = {"n": 0}

        def cancelled() -> bool:
            calls["n"] += 1
            return cancel_after is not None and calls["n"] > cancel_after

        task = AdditionTask(InputVideo(video, SRC_FPS), red_ball, "", "", 9, out)
        return _render(render_addition(task, RunContext(is_cancelled=cancelled)).frames)

    a, b = run(), run()
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    with pytest.raises(Cancelled):
        run(cancel_after=12)


def moving_square_video(n: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """A red square sliding right over a grey textured photo; returns frames and top-left corners."""
    base = cv2.cvtColor(cv2.resize(data.camera(), (W, H)), cv2.COLOR_GRAY2RGB)
    frames, corners = [], []
    for t in range(n):
        frame = base.copy()
        x, y = 30 + 4 * t, 30
        cv2.rectangle(frame, (x, y), (x + 40, y + 40), (200, 25, 30), -1)
        frames.append(frame)
        corners.append((x, y))
    return np.stack(frames), corners


def test_swap_recolours_the_named_region_and_follows_it() -> None:
    video, corners = moving_square_video(12)
    out = OutputSpec(W, H, 24, 12)
    task = SwapTask(InputVideo(video, 24.0), None, "the red square", "make it blue", "", 0, out)
    frames = _render(render_swap(task, RunContext()).frames)
    assert len(frames) == 12 and frames[0].shape == (H, W, 3)
    for t in (0, 11):
        x, y = corners[t]
        inside = frames[t][y + 8 : y + 32, x + 8 : x + 32].reshape(-1, 3).mean(0)
        assert inside[2] > inside[0] + 60, f"frame {t}: the square should now be blue, got {inside}"
        # The rest of the frame stays as it was.
        keep = np.ones((H, W), bool)
        keep[max(0, y - 8) : y + 48, max(0, x - 8) : x + 48] = False
        diff = np.abs(frames[t].astype(int) - video[t].astype(int))[keep]
        assert diff.mean() < 1.5


def test_swap_fills_a_position_region_with_the_image() -> None:
    video, _ = moving_square_video(4)
    grass = np.zeros((64, 64, 3), np.uint8)
    grass[..., 1] = 180
    task = SwapTask(InputVideo(video, 24.0), grass, "the right side", "", "", 0, OutputSpec(W, H, 24, 4))
    frames = _render(render_swap(task, RunContext()).frames)
    right = frames[2][:, W // 2 + 12 :].reshape(-1, 3).mean(0)
    left = np.abs(frames[2][:, : W // 2 - 12].astype(int) - video[2][:, : W // 2 - 12].astype(int))
    assert right[1] > right[0] + 40 and right[1] > right[2] + 40
    assert left.mean() < 1.0


@pytest.mark.parametrize(
    ("region", "prompt", "image", "loc"),
    [
        ("the unicorn", "make it blue", False, ("body", "modify_region")),
        ("the green car", "make it blue", False, ("body", "modify_region")),
        ("the red square", "make it look like marble", False, ("body", "prompt")),
        ("the red square", "remove it", False, ("body", "prompt")),
    ],
)
def test_swap_refuses_what_it_cannot_do(region: str, prompt: str, image: bool, loc: tuple[str, str]) -> None:
    video, _ = moving_square_video(3)
    picture = np.zeros((8, 8, 3), np.uint8) if image else None
    task = SwapTask(InputVideo(video, 24.0), picture, region, prompt, "", 0, OutputSpec(W, H, 24, 3))
    with pytest.raises(InputError) as err:
        render_swap(task, RunContext())
    assert err.value.loc == loc
    assert "colour" in err.value.message


def test_odd_sized_input_is_fitted_to_the_even_output(scene: np.ndarray, red_ball: np.ndarray) -> None:
    video = np.stack([np.ascontiguousarray(scene[:109, t : t + 193]) for t in range(5)])
    out = OutputSpec(192, 108, 24, 7)
    for clip in (
        render_addition(AdditionTask(InputVideo(video, 30.0), red_ball, "", "", 0, out), RunContext()),
        render_swap(
            SwapTask(InputVideo(video, 30.0), None, "the sky", "make it pink", "", 0, out), RunContext()
        ),
    ):
        frames = _render(clip.frames)
        assert len(frames) == 7 and all(f.shape == (108, 192, 3) for f in frames)


def test_added_object_grows_when_the_camera_zooms_in(scene: np.ndarray, red_ball: np.ndarray) -> None:
    n, zoom = 12, 1.3
    frames_in = []
    for t in range(n):
        z = 1.0 + (zoom - 1.0) * t / (n - 1)
        m = np.array([[z, 0, W / 2 - z * 200], [0, z, H / 2 - z * 133]], dtype=np.float64)
        frames_in.append(cv2.warpAffine(scene, m, (W, H), flags=cv2.INTER_LINEAR))
    task = AdditionTask(InputVideo(np.stack(frames_in), 24.0), red_ball, "", "", 0, OutputSpec(W, H, 24, n))
    frames = _render(render_addition(task, RunContext()).frames)
    growth = _red(frames[-1]).sum() / _red(frames[0]).sum()
    assert growth == pytest.approx(zoom**2, rel=0.12)


def test_person_is_refused_where_no_subject_stands_out(scene: np.ndarray) -> None:
    task = SwapTask(
        InputVideo(pan_video(scene, 3), 24.0),
        None,
        "the person",
        "make him red",
        "",
        0,
        OutputSpec(W, H, 24, 3),
    )
    with pytest.raises(InputError) as err:
        render_swap(task, RunContext())
    assert err.value.loc == ("body", "modify_region")


def test_background_swap_keeps_the_person() -> None:
    portrait = cv2.resize(data.astronaut(), (H * 2, H * 2), interpolation=cv2.INTER_AREA)
    video = np.stack([np.ascontiguousarray(portrait[:H, t : t + W]) for t in range(0, 8, 2)])
    sand = np.full((50, 50, 3), (230, 200, 120), np.uint8)
    task = SwapTask(InputVideo(video, 24.0), sand, "the background", "", "", 0, OutputSpec(W, H, 24, 4))
    frames = _render(render_swap(task, RunContext()).frames)
    changed = np.abs(frames[2].astype(int) - video[2].astype(int)).sum(axis=2) > 40
    # The astronaut's face (upper middle) is kept; the grey studio backdrop at the far left is not.
    assert changed[10:40, 90:110].mean() < 0.2
    assert changed[5:40, :12].mean() > 0.6


def test_added_object_steps_aside_from_the_footages_subject(red_ball: np.ndarray) -> None:
    # A static shot of a tall dark figure in the middle of a light wall: a blue object must not
    # be stood on top of it.
    wall = cv2.cvtColor(cv2.resize(data.grass(), (W, H)), cv2.COLOR_GRAY2RGB) // 4 + 170
    cv2.ellipse(wall, (W // 2, 70), (26, 60), 0, 0, 360, (60, 45, 40), -1)
    blue = red_ball[..., ::-1].copy()
    video = np.stack([wall] * 4)
    task = AdditionTask(InputVideo(video, 24.0), blue, "a ball", "", 0, OutputSpec(W, H, 24, 4))
    frame = _render(render_addition(task, RunContext()).frames)[0]
    f = frame.astype(int)
    ball = (f[..., 2] > 120) & (f[..., 2] - f[..., :2].max(axis=2) > 60)
    x, _ = _centroid(ball)
    assert abs(x - W / 2) > 0.2 * W


def test_recolour_changes_only_the_named_colour_inside_the_region() -> None:
    video, corners = moving_square_video(4)
    for t, (x, y) in enumerate(corners):
        cv2.rectangle(video[t], (x + 14, y + 16), (x + 26, y + 24), (250, 250, 250), -1)  # a white logo
    task = SwapTask(
        InputVideo(video, 24.0), None, "the red square", "make it green", "", 0, OutputSpec(W, H, 24, 4)
    )
    frames = _render(render_swap(task, RunContext()).frames)
    x, y = corners[3]
    logo = frames[3][y + 18 : y + 23, x + 16 : x + 25].reshape(-1, 3).mean(0)
    paint = frames[3][y + 3 : y + 10, x + 3 : x + 37].reshape(-1, 3).mean(0)
    assert logo.min() > 200, f"the logo should stay white, got {logo}"
    assert paint[1] > paint[0] + 60 and paint[1] > paint[2] + 30, f"the paint should be green, got {paint}"


def test_addition_refuses_an_image_with_no_object(scene: np.ndarray) -> None:
    blank = np.full((80, 80, 3), 128, np.uint8)
    task = AdditionTask(InputVideo(pan_video(scene, 2), 24.0), blank, "", "", 0, OutputSpec(W, H, 24, 2))
    with pytest.raises(InputError) as err:
        render_addition(task, RunContext())
    assert err.value.loc == ("body", "image_url")
