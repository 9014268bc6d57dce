"""Classic pikaframes: request limits (422 with the right loc), frame layout, exact keyframes,
motion rather than dissolve, determinism, cancellation and a real encoded MP4."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from openpika.endpoints.pikaframes import PikaframesRequest
from openpika.engines.base import RunContext
from openpika.engines.classic import prefetch
from openpika.engines.classic.interpolation import PairInterpolator
from openpika.engines.classic.keyframes import fit_keyframe, render_keyframes
from openpika.engines.tasks import KeyframesTask, OutputSpec, Transition
from openpika.errors import Cancelled
from openpika.media.encode import encode_mp4
from openpika.media.probe import probe_video, read_frames

PIKAFRAMES = "fal-ai/pika/v2.2/pikaframes"
URL = "https://example.com/k{}.png"
SIZE = (320, 180)


def _photo() -> np.ndarray:
    return cv2.resize(data.astronaut(), (640, 640), interpolation=cv2.INTER_AREA)


def _view(image: np.ndarray, x: int, y: int, w: int, h: int) -> np.ndarray:
    return cv2.resize(image[y : y + h, x : x + w], SIZE, interpolation=cv2.INTER_AREA)


def _panned_pair() -> list[np.ndarray]:
    """Two views of one photo, the camera panned 48 px right and 24 px down (at output size)."""
    photo = _photo()
    return [_view(photo, 40, 100, 480, 270), _view(photo, 112, 136, 480, 270)]


def _task(keyframes: list[np.ndarray], seconds: list[int], prompts: list[str | None] | None = None,
          seed: int = 3) -> KeyframesTask:  # fmt: skip
    prompts = prompts or [None] * len(seconds)
    transitions = [Transition(s * 24, p) for s, p in zip(seconds, prompts, strict=True)]
    total = sum(t.num_frames for t in transitions) + 1
    return KeyframesTask(keyframes, transitions, "", seed, OutputSpec(SIZE[0], SIZE[1], 24, total))


def _frames(task: KeyframesTask, ctx: RunContext | None = None) -> list[np.ndarray]:
    return list(render_keyframes(task, ctx or RunContext()).frames)


# --- request limits ---------------------------------------------------------------------------------


@pytest.fixture
def api(tmp_path: Path) -> Iterator[object]:
    from tests.api.conftest import make_api

    yield from make_api(tmp_path)


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"image_urls": [URL.format(1)]}, ["body", "image_urls"]),
        ({"image_urls": [URL.format(i) for i in range(6)]}, ["body", "image_urls"]),
        (
            {"image_urls": [URL.format(1), URL.format(2)], "transitions": [{"duration": 2}, {"duration": 2}]},
            ["body", "transitions"],
        ),
        (
            {"image_urls": [URL.format(i) for i in range(4)], "transitions": [{"duration": 9}] * 3},
            ["body", "transitions"],
        ),
    ],
    ids=["one-image", "six-images", "transitions-length", "total-over-25s"],
)
def test_request_limits_are_422_with_the_right_loc(
    api: object, body: dict[str, object], loc: list[str]
) -> None:
    response = api.queue.post(f"/{PIKAFRAMES}", json=body)  # type: ignore[attr-defined]
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [loc]


def test_requests_at_the_limits_are_accepted() -> None:
    five = [URL.format(i) for i in range(5)]
    body = {"image_urls": five, "transitions": [{"duration": 7}] * 3 + [{"duration": 4}]}
    request = PikaframesRequest.model_validate(body)
    assert sum(t.duration for t in request.resolved_transitions()) == 25


# --- frame layout -----------------------------------------------------------------------------------


def test_frame_count_is_sum_of_durations_times_24_plus_one_and_keyframes_are_exact() -> None:
    photo = _photo()
    keyframes = [
        _view(photo, 40, 100, 480, 270),
        _view(photo, 90, 120, 480, 270),
        _view(photo, 60, 200, 400, 225),
    ]
    task = _task(keyframes, [1, 2])
    frames = _frames(task)
    assert len(frames) == (1 + 2) * 24 + 1 == task.output.num_frames
    assert all(f.shape == (SIZE[1], SIZE[0], 3) and f.dtype == np.uint8 for f in frames)
    for index, keyframe in zip([0, 24, 72], keyframes, strict=True):
        assert np.array_equal(frames[index], keyframe), f"keyframe at frame {index} differs"
    # Between keyframes the frames are new images, not copies of either end.
    assert not np.array_equal(frames[12], keyframes[0]) and not np.array_equal(frames[12], keyframes[1])


def test_keyframes_of_another_aspect_are_cover_cropped() -> None:
    wide = np.zeros((100, 400, 3), np.uint8)
    wide[:, 150:250] = 255  # a white centre band, 100 px wide, on black
    fitted = fit_keyframe(wide, 200, 200)
    assert fitted.shape == (200, 200, 3)
    # Scaled x2 to cover 200 px of height, centre-cropped: the band fills the width (up to the
    # resampling filter's edge at the outermost columns).
    assert fitted[:, 2:-2].min() >= 250 and fitted[:, 0].max() > 128
    tall = fit_keyframe(data.astronaut(), 320, 180)
    assert tall.shape == (180, 320, 3)


def test_mismatched_frame_count_is_refused() -> None:
    task = _task(_panned_pair(), [1])
    bad = KeyframesTask(task.keyframes, task.transitions, "", 0, OutputSpec(SIZE[0], SIZE[1], 24, 24))
    with pytest.raises(ValueError, match=r"sum\(transition frames\) \+ 1"):
        render_keyframes(bad, RunContext())


# --- motion, not dissolve ---------------------------------------------------------------------------


def test_related_keyframes_morph_along_the_motion_not_a_dissolve() -> None:
    keyframes = _panned_pair()
    frames = _frames(_task(keyframes, [1]))
    middle = frames[12].astype(np.float32)
    # The truth half way: the camera half way along its pan.
    truth = _view(_photo(), 76, 118, 480, 270).astype(np.float32)
    dissolve = 0.5 * (keyframes[0].astype(np.float32) + keyframes[1].astype(np.float32))
    inner = (slice(20, -20), slice(30, -30))  # away from borders the views do not share
    err_morph = float(np.abs(middle - truth)[inner].mean())
    err_dissolve = float(np.abs(dissolve - truth)[inner].mean())
    assert err_morph < 0.5 * err_dissolve, (err_morph, err_dissolve)


def test_velocity_is_continuous_through_an_interior_keyframe() -> None:
    """A steady pan cut into two transitions keeps moving through the middle keyframe: the image
    change per frame just before and just after it is similar, never a stall then a jump."""
    photo = _photo()
    keyframes = [_view(photo, 40 + 48 * i, 120, 400, 225) for i in range(3)]
    frames = _frames(_task(keyframes, [1, 1]))
    step = [float(np.abs(frames[i + 1].astype(np.int16) - frames[i]).mean()) for i in range(len(frames) - 1)]
    before, after = step[22], step[24]
    assert min(before, after) > 0.5 * max(before, after), (before, after)
    assert min(before, after) > 0.3 * max(step), "the pan must not stall at the interior keyframe"
    # ...and it eases in and out at the ends of the video.
    assert step[0] < 0.5 * step[12] and step[-1] < 0.5 * step[36]


def test_deterministic_per_seed() -> None:
    unrelated = [
        cv2.resize(data.astronaut(), SIZE),
        cv2.resize(data.rocket(), SIZE),
    ]
    first = _frames(_task(unrelated, [1], seed=11))
    again = _frames(_task(unrelated, [1], seed=11))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))


def test_frames_drawn_on_several_threads_are_the_frames_drawn_one_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Frames are drawn ahead on helper threads from one shared interpolator, so drawing a frame
    must change nothing of it (the colour of time t was once kept on it between steps)."""
    a, b = _panned_pair()
    b = cv2.convertScaleAbs(b, alpha=1.3)  # an exposure change: each frame's colour depends on its t
    interpolator = PairInterpolator(a, b)
    before = dict(vars(interpolator))
    times = [i / 24 for i in range(1, 24)]
    alone = [interpolator.frame_at(t) for t in times]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(interpolator.frame_at, times))
    assert all(np.array_equal(x, y) for x, y in zip(alone, together, strict=True))
    assert vars(interpolator).keys() == before.keys()
    assert all(vars(interpolator)[name] is value for name, value in before.items())
    # And a whole render drawn ahead on threads is the render drawn one frame at a time.
    task = _task([a, b, a], [1, 1])
    ahead = _frames(task)
    monkeypatch.setattr(prefetch, "prefetched", lambda render, count: map(render, range(count)))
    assert all(np.array_equal(x, y) for x, y in zip(ahead, _frames(task), strict=True))


def test_cancel_stops_rendering() -> None:
    calls = {"n": 0}

    def cancelled() -> bool:
        calls["n"] += 1
        return calls["n"] > 5

    clip = render_keyframes(
        _task(_panned_pair(), [2]), RunContext(is_cancelled=cancelled, min_progress_interval=0)
    )
    with pytest.raises(Cancelled):
        list(clip.frames)


def test_encodes_to_a_playable_mp4_with_progress(tmp_path: Path) -> None:
    progress: list[float] = []
    task = _task(_panned_pair(), [1])
    clip = render_keyframes(task, RunContext(on_progress=progress.append, min_progress_interval=0))
    path = tmp_path / "out.mp4"
    written = encode_mp4(clip.frames, path, width=clip.width, height=clip.height, fps=clip.fps,
                         expected_frames=clip.num_frames)  # fmt: skip
    assert written == 25
    info = probe_video(path)
    assert (info.width, info.height) == SIZE
    decoded = list(read_frames(path))
    assert len(decoded) == 25
    # The last keyframe survives encoding up to codec loss.
    assert float(np.abs(decoded[-1].astype(np.int16) - task.keyframes[1]).mean()) < 4.0
    assert progress[-1] == 1.0 and progress == sorted(progress)
