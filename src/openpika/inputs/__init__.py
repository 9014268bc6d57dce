"""Everything that turns a stranger's URL into bytes or pixels, safely.

Public API (used by the worker to build engine tasks and by the webhook dispatcher):

* ``fetch_bytes(url, loc, settings)`` - http(s) through the SSRF guard, or a data: URI;
* ``load_image(url, loc, settings)`` - RGB uint8 (H, W, 3);
* ``load_video(url, loc, settings)`` - ``InputVideo`` decoded in a limited child process;
* ``image_from_bytes(data, loc, settings)``, ``video_from_file(path, loc, settings)`` - the same
  safe decoders for media already in hand (files uploaded to this server);
* ``post_json(url, body, headers, settings)`` - the guarded POST for webhook delivery;
* ``check_destination(url, settings)`` - the guard's verdict on a URL without sending anything.

Every refusal of an input is an ``InputError`` whose ``loc`` is the field the caller passed, so
the API reports a 422 naming e.g. ``["body", "image_url"]``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from openpika.engines.tasks import InputVideo
from openpika.errors import InputError
from openpika.media.images import MediaRejected, decode_image
from openpika.media.video_input import VideoLimits, decode_video_file
from openpika.settings import Settings

from .data_uri import DataUriError, decode_data_uri
from .fetch import DestinationRefused, FetchError, FetchFailed, GuardConfig, check_url, get_bytes, post

__all__ = [
    "DestinationRefused",
    "FetchError",
    "FetchFailed",
    "check_destination",
    "fetch_bytes",
    "guard_config",
    "image_from_bytes",
    "load_image",
    "load_video",
    "post_json",
    "video_from_file",
]

Loc = tuple[str | int, ...]


def guard_config(settings: Settings) -> GuardConfig:
    return GuardConfig(
        allow_private_hosts=tuple(settings.fetch_allow_private_hosts),
        timeout_seconds=settings.fetch_timeout_seconds,
        max_bytes=settings.max_input_bytes,
    )


def fetch_bytes(url: str, loc: Loc, settings: Settings) -> bytes:
    """The bytes behind ``url`` (http, https or data:), or ``InputError(loc, why)``."""
    text = url.strip()
    scheme = text.split(":", 1)[0].lower() if ":" in text else ""
    try:
        if scheme == "data":
            _, data = decode_data_uri(
                text, max_chars=settings.max_data_uri_chars, max_bytes=settings.max_input_bytes
            )
            return data
        if scheme not in ("http", "https"):
            raise InputError(loc, "must be an http(s) URL or a data: URI (data:<mime>;base64,<data>)")
        return get_bytes(text, guard_config(settings))
    except DataUriError as exc:
        raise InputError(loc, str(exc)) from exc
    except FetchError as exc:
        raise InputError(loc, f"could not fetch the file: {exc.message}") from exc


def load_image(url: str, loc: Loc, settings: Settings) -> np.ndarray:
    """RGB uint8 array (H, W, 3), EXIF orientation applied, transparency composited on white."""
    return image_from_bytes(fetch_bytes(url, loc, settings), loc, settings)


def image_from_bytes(data: bytes, loc: Loc, settings: Settings) -> np.ndarray:
    """``load_image`` for bytes already in hand (e.g. a file uploaded to this server)."""
    if len(data) > settings.max_input_bytes:
        raise InputError(loc, f"the file is larger than {settings.max_input_bytes} bytes")
    try:
        return decode_image(data, max_pixels=settings.max_image_pixels)
    except MediaRejected as exc:
        raise InputError(loc, str(exc)) from exc


def video_limits(settings: Settings) -> VideoLimits:
    return VideoLimits(
        max_seconds=settings.max_video_seconds,
        max_pixels_per_frame=settings.max_video_pixels_per_frame,
    )


def load_video(url: str, loc: Loc, settings: Settings) -> InputVideo:
    """Download through the guard, then probe and decode in a limited child process."""
    data = fetch_bytes(url, loc, settings)
    with tempfile.TemporaryDirectory(prefix="openpika-video-") as tmp:
        path = Path(tmp) / "input"
        path.write_bytes(data)
        del data
        return video_from_file(path, loc, settings)


def video_from_file(path: Path, loc: Loc, settings: Settings) -> InputVideo:
    """``load_video`` for a file already on disk (e.g. uploaded to this server): the same size cap,
    probed and decoded in the same limited child process."""
    if path.stat().st_size > settings.max_input_bytes:
        raise InputError(loc, f"the file is larger than {settings.max_input_bytes} bytes")
    try:
        frames, fps = decode_video_file(path, video_limits(settings))
    except MediaRejected as exc:
        raise InputError(loc, str(exc)) from exc
    return InputVideo(frames=frames, fps=fps)


def post_json(url: str, body: bytes, headers: dict[str, str], settings: Settings) -> int:
    """POST ``body`` as JSON through the guard (no redirects followed); returns the HTTP status.

    Raises ``DestinationRefused`` when the URL may not be contacted (retrying will not help) and
    ``FetchFailed`` when the delivery itself failed (connection, timeout: worth a retry).
    """
    all_headers = {"Content-Type": "application/json", **headers}
    return post(url, body, all_headers, guard_config(settings))


def check_destination(url: str, settings: Settings) -> None:
    """Raise ``DestinationRefused`` if the guard would refuse ``url``; sends nothing."""
    check_url(url, guard_config(settings))
