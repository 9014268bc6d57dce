"""Classic image-to-video: output format, determinism, parallax (dolly is not zoom), cancel, life."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from openpika.engines.base import RunContext
from openpika.engines.classic import depth, image_to_video
from openpika.engines.classic.image_to_video import render_image_to_video
from openpika.engines.classic.subject import Box, Subject
from openpika.engines.tasks import ImageToVideoTask, OutputSpec
from openpika.errors import Cancelled
from openpika.media.encode import encode_mp4
from openpika.media.geometry import size_for_image
from openpika.media.probe import probe_video
from openpika.settings import get_settings


def _task(
    image: np.ndarray,
    prompt: str,
    *,
    size: tuple[int, int] = (320, 240),
    seconds: int = 1,
    turbo: bool = False,
    seed: int = 5,
    negative: str = "",
) -> ImageToVideoTask:
    return ImageToVideoTask(
        image,
        prompt,
        negative,
        seed,
        OutputSpec(size[0], size[1], 24, 24 * seconds),
        "v2" if turbo else "v2.2",
        turbo,
    )


def _frames(task: ImageToVideoTask, ctx: RunContext | None = None) -> list[np.ndarray]:
    return list(render_image_to_video(task, ctx or RunContext()).frames)


def _scene() -> tuple[np.ndarray, tuple[int, int], tuple[int, int]]:
    """A red disc (the subject, with a yellow dot at its centre) in front of a textured green wall
    carrying two blue dots far from it. Returns the image and the two background dots."""
    rng = np.random.default_rng(0)
    noise = cv2.GaussianBlur(rng.uniform(0, 1, (320, 480)).astype(np.float32), (0, 0), 3)
    noise = (noise - noise.min()) / (noise.max() - noise.min())
    image = np.zeros((320, 480, 3), np.uint8)
    image[..., 0] = (60 + 40 * noise).astype(np.uint8)
    image[..., 1] = (120 + 60 * noise).astype(np.uint8)
    image[..., 2] = (70 + 30 * noise).astype(np.uint8)
    dots = ((70, 70), (410, 70))
    for dot in dots:
        cv2.circle(image, dot, 7, (20, 40, 250), -1, cv2.LINE_AA)
    cv2.circle(image, (240, 175), 70, (220, 30, 30), -1, cv2.LINE_AA)
    cv2.circle(image, (240, 175), 6, (250, 240, 20), -1, cv2.LINE_AA)
    return image, dots[0], dots[1]


@pytest.fixture
def known_subject(monkeypatch: pytest.MonkeyPatch) -> None:
    """The synthetic scene's subject matte is known exactly: use it, so these tests measure the
    camera and the layering rather than the segmenter."""

    def find_subject(image: np.ndarray, seed: int = 0) -> Subject:
        alpha = np.zeros(image.shape[:2], np.float32)
        cv2.circle(alpha, (240, 175), 70, 1.0, -1, cv2.LINE_AA)
        return Subject(alpha=alpha, bbox=Box(170, 105, 141, 141))

    monkeypatch.setattr(depth, "find_subject", find_subject)
    monkeypatch.setattr(image_to_video, "find_subject", find_subject)


def _blob_centres(
    frame: np.ndarray, colour: tuple[int, int, int], tol: int = 60
) -> list[tuple[float, float, float]]:
    """(x, y, area) of each connected region close to ``colour``."""
    mask = (np.abs(frame.astype(int) - np.array(colour)).max(axis=2) < tol).astype(np.uint8)
    count, _, stats, centroids = cv2.connectedComponentsWithStats(mask)
    return [
        (float(centroids[i][0]), float(centroids[i][1]), float(stats[i][cv2.CC_STAT_AREA]))
        for i in range(1, count)
    ]


def _measure(frame: np.ndarray) -> tuple[float, float]:
    """(subject size, background spread): the red disc's width and the two blue dots' distance."""
    red = max(_blob_centres(frame, (220, 30, 30)), key=lambda b: b[2])
    blues = sorted(_blob_centres(frame, (20, 40, 250)), key=lambda b: -b[2])[:2]
    assert len(blues) == 2, "both background dots stay in frame"
    return 2.0 * np.sqrt(red[2] / np.pi), abs(blues[0][0] - blues[1][0])


def test_output_probe_720p_turbo(tmp_path: Path) -> None:
    image = data.coffee()  # 600x400
    width, height = size_for_image(image.shape[1], image.shape[0], "720p")
    task = _task(image, "slow dolly in", size=(width, height), seconds=1, turbo=True)
    clip = render_image_to_video(task, RunContext())
    assert (clip.width, clip.height, clip.fps, clip.num_frames) == (1080, 720, 24, 24)
    assert clip.encoder_preset == get_settings().x264_preset_turbo
    path = tmp_path / "out.mp4"
    written = encode_mp4(
        clip.frames,
        path,
        width=clip.width,
        height=clip.height,
        fps=clip.fps,
        preset=clip.encoder_preset or "veryfast",
        expected_frames=clip.num_frames,
    )
    info = probe_video(path)
    assert written == 24
    assert (info.codec, info.pix_fmt, info.width, info.height) == ("h264", "yuv420p", 1080, 720)
    assert info.fps == pytest.approx(24.0)
    assert info.num_frames == 24
    assert info.duration == pytest.approx(1.0, abs=0.05)
    assert info.faststart


def test_parallax_tier_frames_have_the_output_shape_and_two_seconds() -> None:
    image = data.astronaut()
    frames = _frames(_task(image, "orbit left", size=(240, 240), seconds=2))
    assert len(frames) == 48
    assert all(f.shape == (240, 240, 3) and f.dtype == np.uint8 for f in frames)
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 2  # the camera moved


def test_deterministic_per_seed() -> None:
    image = data.chelsea()
    prompt = "handheld slow push in, snow falling, flickering light"
    first = _frames(_task(image, prompt, seed=11))
    second = _frames(_task(image, prompt, seed=11))
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    other = _frames(_task(image, prompt, seed=12))
    assert any(not np.array_equal(a, b) for a, b in zip(first, other, strict=True))


@pytest.mark.usefixtures("known_subject")
def test_dolly_shows_parallax_and_zoom_does_not() -> None:
    image, _, _ = _scene()
    ratios = {}
    for prompt in ("fast dolly in", "fast zoom in"):
        frames = _frames(_task(image, prompt, size=(480, 320), seconds=1))
        (size0, spread0), (size1, spread1) = _measure(frames[0]), _measure(frames[-1])
        ratios[prompt] = (size1 / size0, spread1 / spread0)
    dolly_subject, dolly_background = ratios["fast dolly in"]
    zoom_subject, zoom_background = ratios["fast zoom in"]
    # A zoom magnifies everything alike.
    assert zoom_subject > 1.08
    assert zoom_subject == pytest.approx(zoom_background, abs=0.02)
    # Moving the camera in magnifies the near subject more than the far wall (by ~0.035 here,
    # where the zoom's two magnifications differ by ~0.002; the disc's measured width moves by
    # ~0.0002 with the warp's rounding, so the bound sits below the value, not at it).
    assert dolly_subject > 1.08
    assert dolly_subject - dolly_background > 0.03


@pytest.mark.usefixtures("known_subject")
def test_truck_moves_the_subject_more_than_the_background() -> None:
    image, _, _ = _scene()
    frames = _frames(_task(image, "truck right", size=(480, 320), seconds=1))

    def positions(frame: np.ndarray) -> tuple[float, float]:
        red = max(_blob_centres(frame, (220, 30, 30)), key=lambda b: b[2])
        blues = sorted(_blob_centres(frame, (20, 40, 250)), key=lambda b: -b[2])[:2]
        return red[0], float(np.mean([b[0] for b in blues]))

    (subject0, wall0), (subject1, wall1) = positions(frames[0]), positions(frames[-1])
    assert subject1 < subject0 and wall1 < wall0  # the camera moves right: the scene slides left
    assert abs(subject1 - subject0) > 1.5 * abs(wall1 - wall0)


@pytest.mark.usefixtures("known_subject")
def test_no_black_holes_when_the_background_is_revealed() -> None:
    image, _, _ = _scene()
    for prompt in ("fast orbit left", "fast dolly out", "truck left"):
        for frame in _frames(_task(image, prompt, size=(240, 160), seconds=1))[::6]:
            assert frame.min(axis=2).max() > 0 and frame.max(axis=2).min() > 25, prompt


def test_progress_and_cancel_stop_rendering() -> None:
    image = data.astronaut()
    seen: list[float] = []
    cancel = threading.Event()
    ctx = RunContext(on_progress=seen.append, is_cancelled=cancel.is_set, min_progress_interval=0.0)
    clip = render_image_to_video(_task(image, "dolly in", size=(240, 240), seconds=2), ctx)
    produced = 0
    with pytest.raises(Cancelled):
        for _ in clip.frames:
            produced += 1
            if produced == 10:
                cancel.set()
    assert produced == 10  # not one frame more
    assert seen == sorted(seen) and 0 < seen[-1] < 1
    assert not any(t.name == "openpika-render" and t.is_alive() for t in threading.enumerate())


def test_cancel_before_the_first_frame() -> None:
    ctx = RunContext(is_cancelled=lambda: True)
    clip = render_image_to_video(_task(data.astronaut(), "orbit right", size=(240, 240)), ctx)
    with pytest.raises(Cancelled):
        next(iter(clip.frames))


def test_progress_reaches_one() -> None:
    seen: list[float] = []
    _frames(_task(data.coffee(), "pan left", turbo=True), RunContext(on_progress=seen.append))
    assert seen[-1] == 1.0


def test_snow_adds_light_and_static_holds_still() -> None:
    image = data.coffee()
    plain = _frames(_task(image, "static shot of a coffee cup", seconds=1))
    snowy = _frames(_task(image, "static shot of a coffee cup, snow falling", seconds=1))
    assert np.array_equal(plain[0], plain[-1])  # locked off: nothing moves
    assert snowy[5].astype(int).sum() > plain[5].astype(int).sum()  # snowflakes only brighten
    assert not np.array_equal(snowy[5], snowy[6])  # and they fall


def test_a_matte_that_cuts_through_texture_is_not_used_as_a_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    image, _, _ = _scene()

    def cut_through_the_wall(image: np.ndarray, seed: int = 0) -> Subject:
        alpha = np.zeros(image.shape[:2], np.float32)
        alpha[20:150, 300:460] = 1.0  # a block of the green wall: no edge follows its outline
        return Subject(alpha=alpha, bbox=Box(300, 20, 160, 130))

    monkeypatch.setattr(depth, "find_subject", cut_through_the_wall)
    assert depth.estimate_depth(image).subject is None


def test_the_cat_whose_matte_cuts_through_its_fur_moves_as_one_plane() -> None:
    # GrabCut takes only the light part of chelsea's face: its outline runs through fur of the same
    # colours (median step 30-35 Lab), so as a layer it would show a seam across the face once the
    # camera orbits. A real outline (the astronaut in her suit) is used.
    cat = depth.estimate_depth(data.chelsea(), seed=1)
    assert cat.subject is None and cat.cues["outline_support"] > 0.85
    assert 25 < cat.cues["outline_contrast"] < depth.MIN_OUTLINE_CONTRAST
    assert depth.estimate_depth(data.astronaut(), seed=1).subject is not None


def _cloudy_scene() -> np.ndarray:
    """Soft white clouds on a blue sky over a grass field."""
    rng = np.random.default_rng(1)
    h, w = 200, 300
    noise = np.sum(
        [
            cv2.resize(
                rng.uniform(0, 1, (h // s + 2, w // s + 2)).astype(np.float32),
                (w, h),
                interpolation=cv2.INTER_CUBIC,
            )
            for s in (48, 24, 12)
        ],
        axis=0,
    )
    noise = (noise - noise.min()) / (noise.max() - noise.min())
    clouds = np.clip((noise - 0.4) * 2, 0, 1)[..., None]
    image = np.array([70, 130, 220]) * (1 - clouds) + np.array([245, 245, 250]) * clouds
    grass = cv2.resize(data.grass(), (w, h // 2)).astype(np.float32)[..., None] * np.array([0.5, 0.8, 0.4])
    image[h // 2 :] = grass
    return image.astype(np.uint8)


def test_clouds_drift_in_the_sky_only() -> None:
    image = _cloudy_scene()
    frames = _frames(_task(image, "static shot, clouds drifting over the field", size=(300, 200)))
    first, last = frames[0].astype(int), frames[-1].astype(int)
    assert np.abs(first[:80] - last[:80]).mean() > 2  # the sky moved
    assert np.array_equal(first[120:], last[120:])  # the field did not
    still = _frames(_task(image, "static shot of a field under a cloudy sky", size=(300, 200)))
    assert np.array_equal(still[0], still[-1])  # not asked: nothing drifts


def test_a_rejected_subject_leaves_one_plane_and_drops_the_layer_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The plate and the subject layer start on helper threads before the depth cues are weighed;
    # when the cues reject the matte, the clip is the single tilted plane and nothing leaks.
    image, _, _ = _scene()

    def cut_through_the_wall(image: np.ndarray, seed: int = 0) -> Subject:
        alpha = np.zeros(image.shape[:2], np.float32)
        alpha[20:150, 300:460] = 1.0
        return Subject(alpha=alpha, bbox=Box(300, 20, 160, 130))

    monkeypatch.setattr(image_to_video, "find_subject", cut_through_the_wall)
    logs: list[str] = []
    task = _task(image, "slow dolly in", size=(240, 160))
    frames = _frames(task, RunContext(on_log=lambda message, level: logs.append(message)))
    assert any("depth: subject none" in line for line in logs)
    assert len(frames) == 24 and frames[0].shape == (160, 240, 3)
    assert all(np.array_equal(a, b) for a, b in zip(frames, _frames(task), strict=True))
    for thread in threading.enumerate():  # the dropped plate and subject layer finish and go
        if thread.name.startswith("openpika-layers"):
            thread.join(timeout=5.0)
            assert not thread.is_alive()
