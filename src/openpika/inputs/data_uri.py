"""``data:`` URIs, decoded only after their encoded length passed the cap."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_to_bytes


class DataUriError(ValueError):
    """The data: URI is malformed or too long."""


def decode_data_uri(uri: str, *, max_chars: int, max_bytes: int) -> tuple[str, bytes]:
    """Return ``(media_type, payload)``.

    The length check comes first, on the text as received, so an enormous URI costs no decoding
    work at all; the decoded size is checked again because percent-encoded payloads do not shrink.
    """
    if len(uri) > max_chars:
        raise DataUriError(
            f"data: URI is {len(uri):,} characters long; the limit is {max_chars:,}. "
            "Host the file and pass an http(s) URL instead."
        )
    if not uri[:5].lower() == "data:":
        raise DataUriError("not a data: URI")
    header, sep, payload = uri[5:].partition(",")
    if not sep:
        raise DataUriError("malformed data: URI: expected data:<mime>;base64,<data>")
    params = [part.strip() for part in header.split(";")]
    media_type = params[0].lower() or "text/plain"
    is_base64 = any(p.lower() == "base64" for p in params[1:])
    if is_base64:
        # Upper bound of the decoded size, known without decoding.
        if len(payload) // 4 * 3 > max_bytes + 3:
            raise DataUriError(f"data: URI payload is larger than {max_bytes:,} bytes")
        compact = "".join(payload.split())
        try:
            data = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DataUriError("data: URI is not valid base64") from exc
    else:
        data = unquote_to_bytes(payload)
    if len(data) > max_bytes:
        raise DataUriError(f"data: URI payload is {len(data):,} bytes; the limit is {max_bytes:,}")
    return media_type, data
