"""Property-based tests of the input parsers: whatever the bytes or spelling, the answer is a value
or the module's own refusal, and no spelling of a non-public address gets through."""

from __future__ import annotations

import ipaddress
import struct
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openpika.inputs.addresses import AddressRefused, parse_literal, resolve_checked
from openpika.inputs.data_uri import DataUriError, decode_data_uri
from openpika.media.images import MediaRejected, decode_image

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
MAGICS = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM", b"RIFF\x00\x00\x00\x00WEBP", b""]


@FAST
@given(st.sampled_from(MAGICS), st.binary(max_size=2048))
def test_arbitrary_bytes_decode_or_are_refused(magic: bytes, tail: bytes) -> None:
    try:
        pixels = decode_image(magic + tail, max_pixels=1_000_000)
    except MediaRejected:
        return
    assert pixels.ndim == 3 and pixels.shape[2] == 3 and pixels.dtype.name == "uint8"


@FAST
@given(st.integers(1, 70000), st.integers(1, 70000), st.binary(max_size=256))
def test_png_headers_of_any_size_are_checked_before_decoding(width: int, height: int, idat: bytes) -> None:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    try:
        pixels = decode_image(png, max_pixels=4096)
    except MediaRejected as exc:
        if width * height > 4096:
            assert "pixels" in str(exc)
        return
    assert width * height <= 4096 and pixels.shape == (height, width, 3)


@FAST
@given(st.text(max_size=300))
def test_arbitrary_data_uris_decode_or_are_refused(text: str) -> None:
    try:
        media_type, payload = decode_data_uri("data:" + text, max_chars=200, max_bytes=100)
    except DataUriError:
        return
    assert isinstance(media_type, str) and len(payload) <= 100


def _spellings(n: int) -> list[str]:
    """Ways the C library reads the IPv4 address ``n``."""
    a, b, c, d = n.to_bytes(4, "big")
    return [
        str(n),
        hex(n),
        f"0{oct(n)[2:]}",
        f"{a}.{(b << 16) | (c << 8) | d}",
        f"{a}.{b}.{(c << 8) | d}",
        f"{hex(a)}.{hex(b)}.{hex(c)}.{hex(d)}",
        f"0{oct(a)[2:]}.{b}.{c}.{d}",
    ]


@FAST
@given(st.integers(0, 2**32 - 1))
def test_every_spelling_of_an_ipv4_address_is_that_address(n: int) -> None:
    for spelling in _spellings(n):
        assert parse_literal(spelling) == ipaddress.IPv4Address(n), spelling


def _refused(host: str) -> bool:
    try:
        resolve_checked(host, 80, [])
    except AddressRefused:
        return True
    return False


@FAST
@given(st.integers(0, 2**32 - 1))
def test_non_public_ipv4_is_refused_in_every_spelling_and_as_mapped_ipv6(n: int) -> None:
    address = ipaddress.IPv4Address(n)
    hosts = [*_spellings(n), f"[::ffff:{address}]", f"[64:ff9b::{address}]"]
    if address.is_global and not address.is_multicast:
        assert not _refused(str(address))
    else:
        for host in hosts:
            assert _refused(host), host


@pytest.mark.parametrize("network", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"])
def test_private_networks_open_only_when_allow_listed(network: str) -> None:
    first = str(next(ipaddress.ip_network(network).hosts()))
    assert _refused(first)
    assert resolve_checked(first, 80, [network]) == ipaddress.ip_address(first)
