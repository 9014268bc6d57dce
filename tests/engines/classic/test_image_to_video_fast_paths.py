"""The speed paths of classic image-to-video draw the same pictures as the plain ones: turbo's
direct I420 render, the parallax tier's occlusion culling, and ``encode_mp4`` taking I420 frames."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from skimage import data

from openpika.engines.base import RunContext
from openpika.engines.classic import atmosphere, image_to_video, layer_render
from openpika.engines.tasks import ImageToVideoTask, OutputSpec
from openpika.media.encode import EncodeError, encode_mp4


def _task(prompt: str, *, turbo: bool, size: tuple[int, int] = (360, 240)) -> ImageToVideoTask:
    image = data.coffee()
    return ImageToVideoTask(
        image, prompt, "", 3, OutputSpec(size[0], size[1], 24, 12), "v2" if turbo else "v2.2", turbo
    )


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b) ** 2).mean())
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


@pytest.mark.parametrize("prompt", ["slow dolly in", "camera rolls clockwise", "pan left"])
def test_turbo_renders_i420_that_matches_the_rgb_path(prompt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Both paths see the same even-sized working image, so only the colour path differs.
    working = image_to_video._working_image
    monkeypatch.setattr(
        image_to_video,
        "_working_image",
        lambda im, plan, task: (lambda r: r[: r.shape[0] // 2 * 2, : r.shape[1] // 2 * 2])(
            working(im, plan, task)
        ),
    )
    task = _task(prompt, turbo=True)
    clip = image_to_video.render_image_to_video(task, RunContext())
    assert clip.pixel_format == "yuv420p"
    direct = list(clip.frames)
    assert all(f.shape == (360, 360) and f.dtype == np.uint8 for f in direct)

    monkeypatch.setattr(atmosphere.Atmosphere, "active", property(lambda self: True))
    rgb_clip = image_to_video.render_image_to_video(task, RunContext())
    assert rgb_clip.pixel_format == "rgb24"
    via_rgb = [cv2.cvtColor(f, cv2.COLOR_RGB2YUV_I420) for f in rgb_clip.frames]
    assert len(direct) == len(via_rgb) == 12
    for mine, reference in zip(direct, via_rgb, strict=True):
        assert _psnr(mine[:240], reference[:240]) > 45  # luma
        assert _psnr(mine[240:], reference[240:]) > 40  # chroma
    assert np.abs(direct[0].astype(int) - direct[-1]).mean() > 1  # the camera moved


def test_turbo_with_particles_stays_rgb() -> None:
    clip = image_to_video.render_image_to_video(
        _task("slow dolly in, snow falling", turbo=True), RunContext()
    )
    assert clip.pixel_format == "rgb24"
    assert next(iter(clip.frames)).shape == (240, 360, 3)


def test_occlusion_culling_changes_no_pixel_that_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    holes_seen: list[int] = []
    warp_around = layer_render._warp_around

    def spy(image: np.ndarray, hom: np.ndarray, size: tuple[int, int], holes: list) -> np.ndarray:
        holes_seen.append(len(holes))
        return warp_around(image, hom, size, holes)

    monkeypatch.setattr(layer_render, "_warp_around", spy)
    task = _task("slow dolly in", turbo=False, size=(480, 320))
    culled = list(image_to_video.render_image_to_video(task, RunContext()).frames)
    assert max(holes_seen) > 0  # the cup hides part of the background
    monkeypatch.setattr(layer_render, "MIN_CULL_WIDTH", 10**6)
    plain = list(image_to_video.render_image_to_video(task, RunContext()).frames)
    for a, b in zip(culled, plain, strict=True):
        diff = np.abs(a.astype(int) - b)
        # Sub-rectangle warps round a few edge pixels differently (OpenCV's 1/32 px grid); an
        # undrawn hole would differ by tens of levels over whole bands.
        assert diff.mean() < 0.15 and (diff > 3).mean() < 5e-4


def test_encode_takes_i420_frames(tmp_path: Path) -> None:
    rgb = cv2.resize(data.astronaut(), (128, 96), interpolation=cv2.INTER_AREA)
    frames = [cv2.cvtColor(np.roll(rgb, 4 * i, axis=1), cv2.COLOR_RGB2YUV_I420) for i in range(6)]
    path = tmp_path / "i420.mp4"
    assert encode_mp4(iter(frames), path, width=128, height=96, preset="ultrafast", crf=10) == 6
    with av.open(str(path)) as container:
        decoded = [f.to_ndarray(format="yuv420p") for f in container.decode(video=0)]
    assert len(decoded) == 6
    assert all(_psnr(d, f) > 35 for d, f in zip(decoded, frames, strict=True))


def test_encode_rejects_frames_of_neither_shape(tmp_path: Path) -> None:
    with pytest.raises(EncodeError, match="I420"):
        encode_mp4([np.zeros((96, 128), np.uint8)], tmp_path / "bad.mp4", width=128, height=96)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "perspective",
    # A frontal plane; a floor or a wall seen at the slight angles of a dolly or a tilt (as the
    # renderer meets them, scaled to this 480 px frame); a steep one, drawn with the exact map.
    [(0.0, 0.0), (0.0, 2e-5), (1e-5, 0.0), (5e-6, 1e-5), (0.0, 2e-4)],
    ids=["affine", "tilted", "turned", "both", "steep"],
)
def test_tiled_warps_follow_the_perspective_map(perspective: tuple[float, float]) -> None:
    width, height = 480, 320
    hom = np.array([[1.04, 0.02, -9.0], [-0.01, 1.03, -6.0], [*perspective, 1.0]])
    tiles = layer_render._tiles(hom, width, height)
    # The tiles cover the output exactly once.
    cover = np.zeros((height, width), np.int32)
    for x0, y0, x1, y1, _ in tiles:
        cover[y0:y1, x0:x1] += 1
    assert (cover == 1).all()
    # Each tile's map stays within the tolerance of the exact output -> source map.
    inverse = np.linalg.inv(hom)
    rng = np.random.default_rng(0)
    for x0, y0, x1, y1, tile in tiles:
        tile_map = np.asarray(tile)
        pts = np.column_stack([rng.uniform(x0, x1, 200), rng.uniform(y0, y1, 200), np.ones(200)])
        exact = pts @ inverse.T
        exact = exact[:, :2] / exact[:, 2:]
        approx = pts @ tile_map.T
        approx = approx[:, :2] / approx[:, 2:] if len(tile_map) == 3 else approx
        assert np.abs(exact - approx).max() <= layer_render.AFFINE_TOLERANCE + 1e-9
    # And the drawn picture matches warpPerspective's.
    image = cv2.resize(data.astronaut(), (520, 360), interpolation=cv2.INTER_AREA)
    tiled = layer_render._warp(image, hom, (width, height), cv2.BORDER_REFLECT101)
    exact_image = cv2.warpPerspective(
        image, hom, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101
    )
    assert _psnr(tiled, exact_image) > 45
    affine_tiles = all(len(tile[4]) == 2 for tile in tiles)
    assert affine_tiles == (perspective != (0.0, 2e-4))
    assert (len(tiles) == 1) == (perspective in ((0.0, 0.0), (0.0, 2e-4)))


def test_batched_homographies_match_one_at_a_time() -> None:
    # Shot fitting evaluates thousands of plane homographies at once; each must be the one a frame
    # is drawn with.
    from openpika.engines.classic.camera import parse_prompt
    from openpika.engines.classic.camera.trajectory import Trajectory, plane_homographies, plane_homography
    from openpika.engines.classic.parallax import output_framing

    framing = output_framing(900, 600, 480, 320, 1.2)
    for prompt in ("orbit left while tilting up", "dolly zoom", "truck right then zoom in, handheld"):
        trajectory = Trajectory(parse_prompt(prompt, "", 3), 5.0, pivot=(0.1, -0.05, 1.3), seed=3)
        poses = [trajectory.pose(t) for t in np.linspace(0.0, 5.0, 9)]
        for normal in (np.array([0.0, 0.0, 1.0]), np.array([0.0, 3e-4, 0.3])):
            batched = plane_homographies(poses, normal, framing.k_src, framing.k_out)
            single = np.array([plane_homography(p, normal, framing.k_src, framing.k_out) for p in poses])
            assert np.allclose(batched, single, rtol=1e-9, atol=1e-9)
            assert np.abs(batched - batched[0]).max() > 1e-3  # the camera moved


def test_decontamination_matches_box_filter_reference() -> None:
    # The soft edge of a red disc photographed over blue takes the disc's colour, as the plain
    # box-filter formulation (mean solid colour in the smallest window holding some) gives it.
    from openpika.engines.classic.parallax import DECONTAMINATION_WINDOWS, _decontaminate

    h, w = 200, 260
    alpha = np.zeros((h, w), np.float32)
    cv2.circle(alpha, (120, 100), 60, 1.0, -1, cv2.LINE_AA)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 4.0)
    rng = np.random.default_rng(2)
    red = np.clip(np.array([200.0, 40, 30]) + rng.normal(0, 12, (h, w, 3)), 0, 255)
    blue = np.array([30.0, 60, 210])
    rgb = (red * alpha[..., None] + blue * (1 - alpha[..., None])).astype(np.uint8)

    solid = (alpha >= 0.92).astype(np.float32)
    reference = rgb.astype(np.float32)
    pending = (alpha >= 0.5 / 255) & (alpha < 0.92)
    for size in DECONTAMINATION_WINDOWS:
        weight = cv2.blur(solid, (size, size))
        take = pending & (weight > 0.02)
        mean = cv2.blur(rgb.astype(np.float32) * solid[..., None], (size, size))
        reference[take] = mean[take] / weight[take][:, None]
        pending &= ~take
    reference = np.clip(reference, 0, 255).astype(np.uint8)

    out = _decontaminate(rgb, alpha)
    assert np.abs(out.astype(int) - reference).max() <= 1
    edge = (alpha > 0.1) & (alpha < 0.6)
    # Purple (red mixed with the old blue background) before, red after.
    assert rgb[edge][:, 2].mean() > 100 and out[edge][:, 2].mean() < 60
    untouched = (alpha < 0.5 / 255) | (alpha >= 0.92)
    assert np.array_equal(out[untouched], rgb[untouched])
