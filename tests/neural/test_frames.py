"""Request ↔ model format arithmetic and resampling (no torch needed)."""

from __future__ import annotations

import numpy as np
import pytest

from openpika.engines.neural.frames import (
    GenerationFormat,
    fit_cover,
    generation_format,
    generation_size,
    region_mask,
    resample_clip,
    sample_video,
    snap_frames,
    time_positions,
)
from openpika.engines.neural.registry import DEFAULT_MODELS

pytestmark = pytest.mark.neural
MODELS = {m.name: m for m in DEFAULT_MODELS}


def test_frame_counts_snap_to_the_models_rule() -> None:
    assert snap_frames(120, 4) == 121 and snap_frames(81, 4) == 81 and snap_frames(10, 4) == 9
    assert snap_frames(121, 8) == 121 and snap_frames(125, 8) == 129 and snap_frames(1, 4) == 5
    assert snap_frames(241, 4, maximum=121) == 121


def test_sizes_keep_the_aspect_on_the_models_grid() -> None:
    # TI2V's 720p is 1280x704 (multiples of 32), not 1280x720.
    assert generation_size(1280, 720, MODELS["wan2.2-ti2v-5b"]) == (1280, 704)
    assert generation_size(720, 1280, MODELS["wan2.2-ti2v-5b"]) == (704, 1280)
    width, height = generation_size(1080, 1080, MODELS["wan2.1-i2v-480p"])
    assert width == height and width % 16 == 0 and abs(width * height - 832 * 480) < 0.1 * 832 * 480
    for model in MODELS.values():
        w, h = generation_size(1920, 1080, model)
        assert w % model.size_multiple == 0 and h % model.size_multiple == 0


def test_five_seconds_map_to_the_native_clip_and_ten_seconds_are_capped() -> None:
    ti2v = MODELS["wan2.2-ti2v-5b"]
    assert generation_format(1280, 720, 5.0, ti2v) == GenerationFormat(1280, 704, 121, 24.0)
    long = generation_format(1280, 720, 10.0, ti2v)
    assert long.num_frames == 121 and long.fps == pytest.approx(12.1)
    flf = MODELS["wan2.1-flf2v"]
    # A 2 s transition includes both keyframes: 2*16 + 1 frames at 16 fps.
    assert generation_format(1280, 720, 2.0, flf, inclusive=True).num_frames == 33


def test_time_positions_run_at_true_rates_or_pin_both_ends() -> None:
    assert np.allclose(time_positions(121, 5, source_fps=24, out_fps=24), [0, 1, 2, 3, 4])
    assert np.allclose(time_positions(81, 3, source_fps=16, out_fps=24)[:3], [0, 16 / 24, 32 / 24])
    pinned = time_positions(9, 25, source_fps=16, out_fps=24, align_ends=True)
    assert pinned[0] == 0 and pinned[-1] == 8


def test_resample_blends_in_time_and_covers_in_space() -> None:
    # Flat frames (and tiny ones, below MIN_FLOW_SIDE) blend linearly.
    frames = np.stack([np.full((4, 6, 3), value, np.uint8) for value in (0, 100, 200)])
    out = resample_clip(frames, width=12, height=8, num_out=5, source_fps=2, out_fps=4)
    assert out.shape == (5, 8, 12, 3)
    assert [int(f[0, 0, 0]) for f in out] == [0, 50, 100, 150, 200]


def test_fit_cover_crops_the_centre_without_distortion() -> None:
    image = np.zeros((10, 40, 3), np.uint8)
    image[:, 18:22] = 255  # a narrow centred bar: the crop keeps it in the middle, undistorted
    out = fit_cover(image, 10, 10)
    assert (
        out.shape == (10, 10, 3)
        and out[:, 3:7].min() == 255
        and out[:, :3].max() == 0
        and out[:, 7:].max() == 0
    )


def test_input_video_is_sampled_at_generation_times_and_masks_are_boxes() -> None:
    video = np.stack([np.full((20, 30, 3), i, np.uint8) for i in range(48)])  # 2 s at 24 fps
    fmt = GenerationFormat(32, 16, 9, 4.0)
    sampled = sample_video(video, 24.0, fmt)
    assert sampled.shape == (9, 16, 32, 3) and [int(f[0, 0, 0]) for f in sampled] == [
        0,
        6,
        12,
        18,
        24,
        30,
        36,
        42,
        47,
    ]
    mask = region_mask(fmt, (0.25, 0.5, 0.75, 1.0))
    assert mask.shape == (9, 16, 32) and mask[0, 8:, 8:24].min() == 255 and mask[0, :8].max() == 0


def test_in_between_frames_move_things_instead_of_cross_fading() -> None:
    """A square moving 8 px per generated frame: the frame halfway between two is the square at +4 px,
    not two half-bright squares."""

    def square_at(x: int) -> np.ndarray:
        frame = np.full((64, 96, 3), 40, np.uint8)
        frame[20:44, x : x + 24] = (230, 200, 60)
        return frame

    frames = np.stack([square_at(16), square_at(24)])
    out = resample_clip(frames, width=96, height=64, num_out=3, source_fps=2, out_fps=4)
    assert np.array_equal(out[0], frames[0]) and np.array_equal(out[2], frames[1])
    truth = square_at(20).astype(int)
    flow_error = np.abs(out[1].astype(int) - truth).mean()
    blend_error = np.abs((frames[0].astype(int) + frames[1].astype(int)) // 2 - truth).mean()
    assert flow_error < blend_error / 3
