"""The SSRF guard, attacked with the vectors from issue #3. Every server here is on 127.0.0.1."""

from __future__ import annotations

import base64
import time

import pytest

from openpika.errors import InputError
from openpika.inputs import (
    DestinationRefused,
    FetchFailed,
    check_destination,
    data_uri,
    fetch_bytes,
    post_json,
)
from openpika.settings import Settings

from .conftest import PUBLIC_IP, FakeDns
from .servers import body, chunked_forever, drip, drip_headers, redirect, serve, unbounded

LOC = ("body", "image_url")


def settings(**overrides: object) -> Settings:
    return Settings.model_validate({"fetch_timeout_seconds": 5.0, **overrides})


def refused(url: str, config: Settings, loc: tuple[str | int, ...] = LOC) -> str:
    with pytest.raises(InputError) as info:
        fetch_bytes(url, loc, config)
    assert info.value.loc == loc
    detail = info.value.to_body()["detail"][0]
    assert detail["loc"] == list(loc) and detail["type"] == "value_error"
    return info.value.message


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://127.1/", "127.0.0.1"),
        ("http://0x7f000001/", "127.0.0.1"),
        ("http://2130706433/", "127.0.0.1"),
        ("http://0177.0.0.1/", "127.0.0.1"),
        ("http://[::ffff:127.0.0.1]/", "127.0.0.1"),
        ("http://[::1]/", "::1"),
        ("http://100.64.0.1/", "100.64.0.1"),
        ("http://10.1/", "10.0.0.1"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[fd00:ec2::254]/", "fd00:ec2::254"),
        ("http://0.0.0.0:8000/", "0.0.0.0"),
        ("http://192.168.1.1/", "192.168.1.1"),
        ("http://[64:ff9b::7f00:1]/", "127.0.0.1"),
        ("http://[2002:7f00:1::]/", "127.0.0.1"),
        ("http://localhost/", "resolves to a non-public address"),
        ("http://0/", "0.0.0.0"),
        ("http://0x7f.1/", "127.0.0.1"),
        ("http://127.0.0.1./", "127.0.0.1"),
        ("http://127\u30020\u30020\u30021/", "127.0.0.1"),
        ("http://\u2460\u2461\u2466.0.0.1/", "127.0.0.1"),
        ("http://LOCALHOST/", "resolves to a non-public address"),
    ],
)
def test_private_and_obfuscated_addresses_are_refused(url: str, address: str, fake_dns: FakeDns) -> None:
    fake_dns.table["localhost"] = ["127.0.0.1"]
    message = refused(url, settings())
    assert address in message and "not allowed" in message


def test_every_resolved_address_is_checked(fake_dns: FakeDns) -> None:
    fake_dns.table["mixed.example"] = [PUBLIC_IP, "127.0.0.1"]
    message = refused("http://mixed.example/a.png", settings())
    assert "resolves to a non-public address" in message


def test_refusals_do_not_reveal_what_internal_names_resolve_to(fake_dns: FakeDns) -> None:
    fake_dns.table["db.corp.internal"] = ["10.20.30.40"]
    fake_dns.table["meta.corp.internal"] = ["169.254.169.254"]
    message = refused("http://db.corp.internal/", settings())
    assert "10.20.30.40" not in message and "non-public" in message
    message = refused("http://meta.corp.internal/", settings())
    assert "169.254" not in message and "metadata" in message


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "ftp://example.com/x",
        "dict://x:11211/",
        "/etc/passwd",
    ],
)
def test_only_http_https_and_data_schemes(url: str) -> None:
    assert "http" in refused(url, settings())


def test_credentials_in_url_refused(fake_dns: FakeDns) -> None:
    fake_dns.table["files.example"] = [PUBLIC_IP]
    assert "credentials" in refused("http://user:pw@files.example/a", settings())


def test_unresolvable_host_refused(fake_dns: FakeDns) -> None:
    assert "cannot resolve" in refused("http://nowhere.invalid/a", settings())


def test_public_host_connects_to_the_pinned_address_with_host_kept(fake_dns: FakeDns) -> None:
    with serve({"/a.png": body(b"payload")}) as server:
        # The second lookup would say loopback (DNS rebinding); there must be no second lookup.
        fake_dns.table["files.example"] = [PUBLIC_IP]
        url = server.url("/a.png", host="files.example")
        assert fetch_bytes(url, LOC, settings()) == b"payload"
    assert fake_dns.lookups == ["files.example"]
    assert server.seen[0]["host"] == f"files.example:{server.port}"


def test_international_names_and_paths_are_sent_in_ascii(fake_dns: FakeDns) -> None:
    with serve({"/b%C3%BCcher/a%20b.png": body(b"idn")}) as server:
        fake_dns.table["xn--bcher-kva.example"] = [PUBLIC_IP]
        url = f"http://b\u00fccher.example:{server.port}/b\u00fccher/a%20b.png"
        assert fetch_bytes(url, LOC, settings()) == b"idn"
    assert server.seen[0]["host"] == f"xn--bcher-kva.example:{server.port}"


def test_redirect_to_a_private_address_is_refused(fake_dns: FakeDns) -> None:
    with serve({}) as inner, serve({"/r": redirect(inner.url("/secret"))}) as outer:
        fake_dns.table["files.example"] = [PUBLIC_IP]
        message = refused(outer.url("/r", host="files.example"), settings())
    assert "127.0.0.1" in message
    assert inner.seen == []


def test_redirect_to_metadata_is_refused(fake_dns: FakeDns) -> None:
    with serve({"/r": redirect("http://169.254.169.254/latest/meta-data/")}) as server:
        fake_dns.table["files.example"] = [PUBLIC_IP]
        assert "169.254.169.254" in refused(server.url("/r", host="files.example"), settings())


def test_redirect_to_another_scheme_is_refused(fake_dns: FakeDns) -> None:
    with serve({"/r": redirect("file:///etc/passwd")}) as server:
        fake_dns.table["files.example"] = [PUBLIC_IP]
        assert "scheme" in refused(server.url("/r", host="files.example"), settings())


def test_redirects_are_followed_up_to_five(fake_dns: FakeDns) -> None:
    routes = {f"/r{i}": redirect(f"/r{i + 1}") for i in range(6)}
    routes["/r5"] = body(b"end")
    routes["/r6"] = body(b"end")
    with serve(routes) as server:
        fake_dns.table["files.example"] = [PUBLIC_IP]
        assert fetch_bytes(server.url("/r0", host="files.example"), LOC, settings()) == b"end"
        routes["/r5"] = redirect("/r6")
        assert "redirects" in refused(server.url("/r0", host="files.example"), settings())


def test_slow_drip_body_hits_the_overall_deadline(fake_dns: FakeDns) -> None:
    with serve({"/slow": drip(0.05, 400)}) as server:
        fake_dns.table["files.example"] = [PUBLIC_IP]
        started = time.monotonic()
        message = refused(server.url("/slow", host="files.example"), settings(fetch_timeout_seconds=0.6))
        elapsed = time.monotonic() - started
    assert "timed out" in message
    assert elapsed < 2.0  # each byte arrives well within a read timeout; only the deadline ends it


def test_slow_drip_headers_hit_the_overall_deadline(fake_dns: FakeDns) -> None:
    with serve({"/slow": drip_headers(0.05)}) as server:
        fake_dns.table["files.example"] = [PUBLIC_IP]
        started = time.monotonic()
        message = refused(server.url("/slow", host="files.example"), settings(fetch_timeout_seconds=0.6))
    assert "timed out" in message and time.monotonic() - started < 2.0


@pytest.mark.parametrize("handler", [unbounded(b"z" * 65536, 64), chunked_forever(b"z" * 65536, 64)])
def test_oversized_body_without_content_length_is_cut_off(fake_dns: FakeDns, handler: object) -> None:
    with serve({"/big": handler}) as server:  # type: ignore[dict-item]
        fake_dns.table["files.example"] = [PUBLIC_IP]
        message = refused(server.url("/big", host="files.example"), settings(max_input_bytes=100_000))
    assert "limit of 100,000 bytes" in message


def test_declared_oversize_is_refused_before_reading(fake_dns: FakeDns) -> None:
    with serve({"/big": body(b"z" * 200_000)}) as server:
        fake_dns.table["files.example"] = [PUBLIC_IP]
        message = refused(server.url("/big", host="files.example"), settings(max_input_bytes=100_000))
    assert "200,000 bytes" in message


def test_http_error_status_is_reported(fake_dns: FakeDns) -> None:
    with serve({}) as server:
        fake_dns.table["files.example"] = [PUBLIC_IP]
        assert "HTTP 404" in refused(server.url("/missing", host="files.example"), settings())


def test_allow_list_opens_a_private_host_by_name_or_cidr(fake_dns: FakeDns) -> None:
    with serve({"/a": body(b"lan")}) as server:
        fake_dns.table["store.lan"] = ["127.0.0.1"]
        assert "not allowed" in refused(server.url("/a", host="store.lan"), settings())
        by_name = settings(fetch_allow_private_hosts=["store.lan"])
        assert fetch_bytes(server.url("/a", host="store.lan"), LOC, by_name) == b"lan"
        by_cidr = settings(fetch_allow_private_hosts="127.0.0.0/8")
        assert fetch_bytes(server.url("/a"), LOC, by_cidr) == b"lan"


def test_metadata_stays_blocked_even_when_allow_listed(fake_dns: FakeDns) -> None:
    fake_dns.table["metadata.lan"] = ["169.254.169.254"]
    permissive = settings(fetch_allow_private_hosts=["metadata.lan", "169.254.0.0/16", "0.0.0.0/0"])
    assert "metadata" in refused("http://metadata.lan/latest", permissive)
    assert "metadata" in refused("http://169.254.169.254/latest", permissive)
    assert "metadata" in refused("http://[::ffff:169.254.169.254]/latest", permissive)


def test_data_uri_decoded(fake_dns: FakeDns) -> None:
    uri = "data:image/png;base64," + base64.b64encode(b"\x89PNG fake").decode()
    assert fetch_bytes(uri, LOC, settings()) == b"\x89PNG fake"
    assert fetch_bytes("data:text/plain,hello%20world", LOC, settings()) == b"hello world"


def test_data_uri_refused_on_length_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_decode(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("decoded a data: URI that was over the limit")

    monkeypatch.setattr(data_uri.base64, "b64decode", must_not_decode)
    uri = "data:image/png;base64," + "A" * 1000
    message = refused(uri, settings(max_data_uri_chars=500))
    assert "1,022 characters" in message and "500" in message


def test_data_uri_payload_cap_and_bad_base64() -> None:
    uri = "data:image/png;base64," + base64.b64encode(b"x" * 2000).decode()
    assert "larger than 1,000 bytes" in refused(uri, settings(max_input_bytes=1000))
    assert "base64" in refused("data:image/png;base64,@@@@", settings())
    assert "malformed" in refused("data:image/png;base64", settings())


def test_post_json_goes_through_the_guard(fake_dns: FakeDns) -> None:
    with serve({"/hook": body(b"ok"), "/moved": redirect("/hook")}) as server:
        with pytest.raises(DestinationRefused):
            post_json(server.url("/hook"), b"{}", {}, settings())
        with pytest.raises(DestinationRefused):
            check_destination("http://169.254.169.254/", settings())
        fake_dns.table["hooks.example"] = [PUBLIC_IP]
        assert (
            post_json(server.url("/hook", host="hooks.example"), b'{"a":1}', {"X-T": "1"}, settings()) == 200
        )
        # Redirects are answered, never followed, for webhooks.
        assert post_json(server.url("/moved", host="hooks.example"), b"{}", {}, settings()) == 302
    assert [s["path"] for s in server.seen if s["method"] == "POST"] == ["/hook", "/moved"]


def test_post_json_connection_failure_is_a_fetch_failure(fake_dns: FakeDns) -> None:
    from .servers import free_port

    fake_dns.table["hooks.example"] = [PUBLIC_IP]
    with pytest.raises(FetchFailed):
        post_json(f"http://hooks.example:{free_port()}/hook", b"{}", {}, settings())
