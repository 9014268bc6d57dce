"""Decode an untrusted image into RGB pixels without letting it take the process down.

* Formats are allow-listed by their magic bytes *and* Pillow is told to try only those decoders,
  so a file cannot pick an exotic, less-tested plugin.
* The pixel count is read from the header and checked before any pixel is decoded.
* Pillow's decompression-bomb warning is raised as an error instead of being printed.
* EXIF orientation is applied (phones store portrait photos sideways plus a flag); transparency
  is composited on white, which is what a viewer shows for a logo on a page.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# magic prefix -> Pillow format name
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
)
ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "AVIF")
MAX_SIDE = 16384


class MediaRejected(ValueError):
    """Untrusted media was refused; the message says why and is safe to show to the caller."""


def sniff_image_format(data: bytes) -> str | None:
    """Pillow format name for an allowed image type, judged from the first bytes only."""
    for magic, name in _SIGNATURES:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in (b"avif", b"avis"):
        return "AVIF"
    return None


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale to 8 bits instead of clipping everything above 255 to white.
        wide = np.asarray(image, dtype=np.uint32)
        peak = 65535 if image.mode.startswith("I;16") else max(1, int(wide.max()))
        grey = (wide * 255 // peak).astype(np.uint8)
        return Image.fromarray(np.repeat(grey[:, :, None], 3, axis=2))
    return image.convert("RGB")


def decode_image(data: bytes, *, max_pixels: int) -> np.ndarray:
    """RGB uint8 array (H, W, 3) from the bytes of an image file, or ``MediaRejected``."""
    if not data:
        raise MediaRejected("the file is empty")
    kind = sniff_image_format(data)
    if kind is None or (kind == "AVIF" and "AVIF" not in Image.registered_extensions().values()):
        raise MediaRejected(
            "not a supported image: expected PNG, JPEG, WebP, GIF or BMP"
            + (" (AVIF is not supported by this installation)" if kind == "AVIF" else "")
        )
    # Pillow warns above MAX_IMAGE_PIXELS; refusing those ourselves makes the outcome independent
    # of the warnings filter below, which is process-wide and so only best effort across threads.
    if Image.MAX_IMAGE_PIXELS:
        max_pixels = min(max_pixels, int(Image.MAX_IMAGE_PIXELS))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[kind]) as image:
                width, height = image.size
                if width < 1 or height < 1:
                    raise MediaRejected(f"image has an invalid size {width}x{height}")
                if width * height > max_pixels or max(width, height) > MAX_SIDE:
                    raise MediaRejected(
                        f"image is {width}x{height} = {width * height:,} pixels; the limit is "
                        f"{max_pixels:,} pixels and {MAX_SIDE} per side"
                    )
                image.seek(0)  # animated GIF/WebP: the first frame
                image.load()
                upright = ImageOps.exif_transpose(image) or image
                rgb = _to_rgb(upright)
                return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
    except MediaRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaRejected(
            f"image refused: more pixels than the limit of {max_pixels:,} (decompression bomb check: {exc})"
        ) from exc
    except UnidentifiedImageError as exc:
        raise MediaRejected(f"the file is not a readable {kind} image (corrupt header)") from exc
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        raise MediaRejected(f"the {kind} image is truncated or corrupt: {exc}") from exc
