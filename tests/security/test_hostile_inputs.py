"""Hostile media URLs end to end: each is refused with a 422 naming the field, the job finishes
with that error, and the worker stays up to render the next request."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from ..inputs.conftest import PUBLIC_IP, FakeDns
from ..inputs.servers import drip, redirect, serve, unbounded
from ..inputs.test_images import png_header_only
from .conftest import ADDITIONS, EFFECTS, FRAMES, SWAPS, LiveApi, png_data_uri

SSRF_VECTORS = [
    "http://127.1/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::1]/",
    "http://100.64.0.1/",
    "http://10.1/",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
]


def detail_of(response: object) -> dict[str, object]:
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    assert response.headers.get("x-fal-billable-units") == "0"  # type: ignore[attr-defined]
    items = response.json()["detail"]  # type: ignore[attr-defined]
    assert isinstance(items, list) and len(items) == 1
    return dict(items[0])


@pytest.mark.parametrize("url", SSRF_VECTORS)
def test_ssrf_vectors_are_refused_through_the_api(live: LiveApi, url: str) -> None:
    result = live.run(EFFECTS, {"image_url": url, "pikaffect": "Squish"})
    detail = detail_of(result)
    assert detail["loc"] == ["body", "image_url"]
    assert "not allowed" in str(detail["msg"]) or "http" in str(detail["msg"])


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://127.0.0.1:6379/_FLUSHALL", "ftp://x/y"])
def test_other_schemes_are_refused_at_submit(live: LiveApi, url: str) -> None:
    response = live.client.post(f"/{EFFECTS}", json={"image_url": url, "pikaffect": "Squish"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "image_url"]


def test_vectors_in_list_fields_name_the_index(live: LiveApi) -> None:
    body = {"image_urls": [png_data_uri(), "http://169.254.169.254/"], "prompt": "x"}
    assert detail_of(live.run(FRAMES, body))["loc"] == ["body", "image_urls", 1]


def test_public_name_resolving_to_loopback_and_redirect_to_private(live: LiveApi, fake_dns: FakeDns) -> None:
    fake_dns.table["mixed.example"] = [PUBLIC_IP, "127.0.0.1"]
    detail = detail_of(live.run(EFFECTS, {"image_url": "http://mixed.example/a.png", "pikaffect": "Squish"}))
    assert "non-public" in str(detail["msg"]) and "127.0.0.1" not in str(detail["msg"])
    with serve({"/r": redirect("http://10.0.0.5/admin")}) as server:
        fake_dns.table["files.example"] = [PUBLIC_IP]
        url = server.url("/r", host="files.example")
        detail = detail_of(live.run(EFFECTS, {"image_url": url, "pikaffect": "Squish"}))
    assert detail["loc"] == ["body", "image_url"] and "10.0.0.5" in str(detail["msg"])
    live.assert_worker_alive()


def test_slow_drip_and_oversized_bodies(live: LiveApi, fake_dns: FakeDns) -> None:
    routes = {"/slow": drip(0.05, 10_000), "/big": unbounded(b"\xff" * 65536, 2048)}
    with serve(routes) as server:
        fake_dns.table["files.example"] = [PUBLIC_IP]
        slow = live.run(EFFECTS, {"image_url": server.url("/slow", "files.example"), "pikaffect": "Squish"})
        assert "timed out" in str(detail_of(slow)["msg"])
        big = live.run(EFFECTS, {"image_url": server.url("/big", "files.example"), "pikaffect": "Squish"})
        assert "limit" in str(detail_of(big)["msg"])
    live.assert_worker_alive()


def _uri(payload: bytes, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(payload).decode()


def test_hostile_media_is_refused_and_the_worker_survives(live: LiveApi) -> None:
    svg = _uri(
        b'<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>', "image/svg+xml"
    )
    assert "not a supported image" in str(
        detail_of(live.run(EFFECTS, {"image_url": svg, "pikaffect": "Squish"}))["msg"]
    )

    # A 30000 x 30000 PNG header: refused from the header, never decoded.
    huge = png_header_only(30000, 30000)
    result = live.run(EFFECTS, {"image_url": _uri(huge, "image/png"), "pikaffect": "Squish"})
    assert "pixels" in str(detail_of(result)["msg"])

    playlist = _uri(b"#EXTM3U\n#EXTINF:1,\nhttp://169.254.169.254/latest\n", "video/mp4")
    for endpoint in (ADDITIONS, SWAPS):
        detail = detail_of(live.run(endpoint, {"video_url": playlist, "image_url": png_data_uri()}))
        assert detail["loc"] == ["body", "video_url"] and "not a supported video" in str(detail["msg"])

    garbage_mp4 = _uri(b"\x00\x00\x00\x18ftypmp42" + np.random.default_rng(1).bytes(20000), "video/mp4")
    detail = detail_of(live.run(ADDITIONS, {"video_url": garbage_mp4, "image_url": png_data_uri()}))
    assert detail["loc"] == ["body", "video_url"]
    live.assert_worker_alive()


def test_data_uri_over_the_cap_is_refused_by_length(tmp_path: object) -> None:
    from .conftest import live_api

    api_iter = live_api(tmp_path, max_data_uri_chars=2000)  # type: ignore[arg-type]
    api = next(api_iter)
    try:
        long_uri = "data:image/png;base64," + "A" * 5000
        detail = detail_of(api.run(EFFECTS, {"image_url": long_uri, "pikaffect": "Squish"}))
        assert detail["loc"] == ["body", "image_url"] and "5,022 characters" in str(detail["msg"])
    finally:
        api_iter.close()


@pytest.mark.parametrize(
    ("limits", "why"),
    [
        ({"memory_bytes": 32 * 1024 * 1024}, "decoder stopped"),  # the decoder dies
        ({"timeout_seconds": 0.05}, "longer than 0.05 s"),  # the decoder hangs
    ],
)
def test_a_decoder_that_dies_or_hangs_costs_one_job(
    live: LiveApi, monkeypatch: pytest.MonkeyPatch, limits: dict[str, float], why: str
) -> None:
    import dataclasses

    from openpika import inputs

    real = inputs.video_limits
    monkeypatch.setattr(
        inputs, "video_limits", lambda settings: dataclasses.replace(real(settings), **limits)
    )
    video = _uri(_tiny_mp4(), "video/mp4")
    detail = detail_of(live.run(SWAPS, {"video_url": video, "modify_region": "the cat"}))
    assert detail["loc"] == ["body", "video_url"] and why in str(detail["msg"])
    monkeypatch.undo()
    live.assert_worker_alive()
    assert live.run(SWAPS, {"video_url": video, "modify_region": "the cat"}).status_code == 200


def _tiny_mp4() -> bytes:
    import tempfile
    from pathlib import Path

    from openpika.media.encode import encode_mp4

    frames = [np.full((32, 32, 3), 10 * i, dtype=np.uint8) for i in range(6)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tiny.mp4"
        encode_mp4(frames, path, width=32, height=32, fps=24)
        return path.read_bytes()
