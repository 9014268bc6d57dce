"""Untrusted images: allow-listed formats, pixel count checked from the header, orientation, alpha."""

from __future__ import annotations

import base64
import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image, features
from skimage import data

from openpika.errors import InputError
from openpika.inputs import load_image
from openpika.media.images import MediaRejected, decode_image
from openpika.settings import Settings

LOC = ("body", "image_url")


def encode(array: np.ndarray, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt, **params)
    return buffer.getvalue()


def as_uri(payload: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(payload).decode()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size but holds almost no data: the classic pixel bomb header."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF", "BMP", "AVIF"])
def test_allowed_formats_decode_to_rgb(fmt: str) -> None:
    if fmt == "AVIF" and not features.check("avif"):
        pytest.skip("this Pillow build has no AVIF support")
    source = data.chelsea()[::4, ::4]
    pixels = decode_image(encode(source, fmt), max_pixels=10**7)
    assert pixels.shape == source.shape and pixels.dtype == np.uint8
    tolerance = 40 if fmt in ("JPEG", "WEBP", "GIF", "AVIF") else 0
    assert np.abs(pixels.astype(int) - source).mean() <= tolerance


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"", "empty"),
        (b"hello, this is text", "not a supported image"),
        (encode(data.camera()[::8, ::8], "TIFF"), "not a supported image"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "not a supported image"),
        (b"%PDF-1.4\n", "not a supported image"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "corrupt"),
        (encode(data.chelsea(), "PNG")[:3000], "corrupt"),
        (b"\x89PNG\r\n\x1a\n" + encode(data.chelsea()[::8, ::8], "JPEG"), "corrupt"),
    ],
)
def test_refused_payloads(payload: bytes, why: str) -> None:
    with pytest.raises(MediaRejected, match=why):
        decode_image(payload, max_pixels=10**7)


def test_pixel_count_checked_before_decoding() -> None:
    started = time.monotonic()
    with pytest.raises(MediaRejected, match=r"3600000000 pixels.*limit|60000x60000"):
        decode_image(png_header_only(60000, 60000), max_pixels=40_000_000)
    with pytest.raises(MediaRejected, match="limit"):
        decode_image(encode(data.chelsea(), "PNG"), max_pixels=1000)
    assert time.monotonic() - started < 1.0


def test_decompression_bomb_warning_is_an_error() -> None:
    # Between Pillow's warning threshold and our (raised) own limit: the warning must not pass.
    with pytest.raises(MediaRejected, match=r"pixels|bomb"):
        decode_image(png_header_only(10000, 9000), max_pixels=200_000_000)


def test_exif_orientation_is_applied() -> None:
    source = np.zeros((40, 80, 3), dtype=np.uint8)
    source[:, :40] = (255, 0, 0)  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    pixels = decode_image(encode(source, "JPEG", exif=exif.tobytes(), quality=95), max_pixels=10**6)
    assert pixels.shape == (80, 40, 3)
    assert pixels[5, 20, 0] > 200 and pixels[75, 20, 0] < 60  # red ends up on top


def test_transparency_is_composited_on_white() -> None:
    rgba = np.zeros((10, 10, 4), dtype=np.uint8)
    rgba[:, :5] = (0, 0, 255, 255)
    pixels = decode_image(encode(rgba, "PNG"), max_pixels=10**6)
    assert pixels[0, 0].tolist() == [0, 0, 255]
    assert pixels[0, 9].tolist() == [255, 255, 255]


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    ramp = (np.arange(256, dtype=np.uint16) * 257).reshape(16, 16)
    buffer = io.BytesIO()
    Image.fromarray(ramp).save(buffer, "PNG")
    pixels = decode_image(buffer.getvalue(), max_pixels=10**6)
    assert pixels[0, 0].tolist() == [0, 0, 0] and pixels[15, 15].tolist() == [255, 255, 255]
    assert 100 < int(pixels[8, 0, 0]) < 155


def test_load_image_reports_the_field() -> None:
    settings = Settings(max_image_pixels=1000)
    with pytest.raises(InputError) as info:
        load_image(as_uri(encode(data.astronaut(), "PNG")), ("body", "image_url"), settings)
    assert info.value.loc == ("body", "image_url") and "pixels" in info.value.message
    with pytest.raises(InputError) as info:
        load_image(as_uri(b"GIF89a garbage"), ("body", "images", 2, "image_url"), Settings())
    assert info.value.to_body()["detail"][0]["loc"] == ["body", "images", 2, "image_url"]
    assert load_image(as_uri(encode(data.astronaut(), "PNG")), LOC, Settings()).shape == (512, 512, 3)
