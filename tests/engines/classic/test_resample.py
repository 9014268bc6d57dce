"""``resample.warp_affine_linear``: its separable fast path samples where ``cv2.warpAffine`` does,
is taken for scale-and-translate maps, and leaves every other map to ``warpAffine``."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest
from skimage import data

from openpika.engines.classic import resample
from openpika.engines.classic.resample import PaddedPlane, warp_affine_linear


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b) ** 2).mean())
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _plane() -> np.ndarray:
    # A real photo of fine texture (so a tenth of a pixel of misplacement shows), 512x512 grey.
    return data.grass()


_WARP_AFFINE = cv2.warpAffine  # the reference, untouched by the counting patch


def _reference(plane: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return _WARP_AFFINE(
        plane, matrix, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT101
    )


class _CountWarps:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = _WARP_AFFINE

        def counting(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(resample.cv2, "warpAffine", counting)


# Scales below and above 1 (magnify, shrink), offsets at the plane's edges and inside it; the
# last frames of a move sit right at the origin, where the padding gives the margins room.
SIXTEENTH = np.array([[0.0, 0.0, 1 / 16], [0.0, 0.0, 1 / 16]])
# The fast path cannot place a fractional offset when the scale is a whole number (dropping
# pixels moves the grid by whole pixels) or close to a simple fraction (0.6004 ~ 3/5: five
# positions): those fall back.
MAPS = [
    (1.0, 0.0, 0.0, True),
    (1.0, 3.25, 7.75, False),
    (0.8731, 12.37, 5.91, True),
    (1.1377, 0.07, 0.40, True),
    (1.2913, 20.6, 11.2, True),
    (0.6004, 101.3, 77.7, False),
    (1.4621, 1.5, 0.5, True),
]


@pytest.mark.parametrize(("scale", "tx", "ty", "fast"), MAPS)
def test_scale_and_translate_maps_sample_where_warp_affine_does(
    scale: float, tx: float, ty: float, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    plane = _plane()
    padded = PaddedPlane.of(plane)
    width, height = int((plane.shape[1] - tx - 2) / scale), int((plane.shape[0] - ty - 2) / scale)
    width, height = min(width, 400), min(height, 300)
    out = np.empty((height, width), np.uint8)
    counter = _CountWarps(monkeypatch)
    matrix = np.array([[scale, 0.0, tx], [0.0, scale, ty]])
    warp_affine_linear(padded, matrix, out)
    reference = _reference(plane, matrix, (width, height))
    # Within the tolerance (1/32 px) plus both implementations' fixed-point rounding: closer to
    # warpAffine's picture than warpAffine's own picture moved by 1/16 px.
    assert _psnr(out, reference) > _psnr(_reference(plane, matrix + SIXTEENTH, (width, height)), reference)
    assert counter.calls == (0 if fast else 1)


def test_most_frames_of_a_smooth_zoom_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    plane = _plane()
    padded = PaddedPlane.of(plane)
    out = np.empty((240, 360), np.uint8)
    counter = _CountWarps(monkeypatch)
    scales = np.linspace(1.15, 1.0, 60)
    for scale in scales:  # a centred push-in: offsets move by fractions of a pixel per frame
        tx = (plane.shape[1] - 1) / 2 - scale * (360 - 1) / 2
        ty = (plane.shape[0] - 1) / 2 - scale * (240 - 1) / 2
        matrix = np.array([[scale, 0.0, tx], [0.0, scale, ty]])
        warp_affine_linear(padded, matrix, out)
        reference = _reference(plane, matrix, (360, 240))
        assert _psnr(out, reference) > _psnr(_reference(plane, matrix + SIXTEENTH, (360, 240)), reference)
    assert counter.calls <= len(scales) // 10


@pytest.mark.parametrize(
    "matrix",
    [
        np.array([[0.99, -0.12, 40.0], [0.12, 0.99, 10.0]]),  # roll
        np.array([[1.05, 0.02, 3.0], [0.0, 1.0, 4.0]]),  # shear
    ],
)
def test_rotations_and_shears_are_left_to_warp_affine(
    matrix: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    plane = _plane()
    out = np.empty((200, 300), np.uint8)
    counter = _CountWarps(monkeypatch)
    warp_affine_linear(PaddedPlane.of(plane), matrix, out)
    assert counter.calls == 1
    np.testing.assert_array_equal(out, _reference(plane, matrix, (300, 200)))


def test_a_map_reaching_past_the_edge_mirrors_like_warp_affine() -> None:
    plane = _plane()
    matrix = np.array([[1.0, 0.0, -3.5], [0.0, 1.0, -2.25]])  # three and a half pixels outside
    out = np.empty((100, 150), np.uint8)
    warp_affine_linear(PaddedPlane.of(plane), matrix, out)
    reference = _reference(plane, matrix, (150, 100))
    assert _psnr(out, reference) > _psnr(_reference(plane, matrix + SIXTEENTH, (150, 100)), reference)


def test_a_transparent_layer_stays_transparent_past_its_edges(monkeypatch: pytest.MonkeyPatch) -> None:
    # The parallax tier's subject layer: premultiplied RGBA, nothing outside it. The map starts
    # 40 px before the layer's top and left edges and ends at its far ones.
    rgba = np.dstack([data.astronaut()[100:300, 150:350], np.full((200, 200), 255, np.uint8)])
    layer = PaddedPlane.of(rgba, border=cv2.BORDER_CONSTANT)
    matrix = np.array([[1.0731, 0.0, -40.37], [0.0, 1.0731, -40.81]])
    out = np.empty((223, 223, 4), np.uint8)
    counter = _CountWarps(monkeypatch)
    warp_affine_linear(layer, matrix, out)
    assert counter.calls == 0
    reference = _WARP_AFFINE(
        rgba,
        matrix,
        (223, 223),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
    )
    assert out[:36, :, 3].max() == 0 and out[:, :36, 3].max() == 0 and out[40:, 40:, 3].min() == 255
    assert _psnr(out, reference) > 45


def test_a_magnified_frame_keeps_its_edge_pixels(monkeypatch: pytest.MonkeyPatch) -> None:
    # A small photo magnified 2.4x to fill the frame: the first output pixels sample just before
    # the photo's first pixel, which warpAffine mirrors; the resized region must hold that
    # neighbour too instead of repeating its own first pixel.
    plane = _plane()[:300, :300]
    scale = 300 / 720
    offset = 0.5 * scale - 0.5  # pixel centres aligned, as when a frame covers the whole photo
    matrix = np.array([[scale, 0.0, offset], [0.0, scale, offset]])
    out = np.empty((720, 720), np.uint8)
    counter = _CountWarps(monkeypatch)
    warp_affine_linear(PaddedPlane.of(plane), matrix, out)
    assert counter.calls == 0
    reference = _reference(plane, matrix, (720, 720))
    edges = np.abs(out.astype(int) - reference)
    assert edges[:, :3].max() <= 4 and edges[:3, :].max() <= 4
