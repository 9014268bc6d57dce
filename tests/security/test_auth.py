"""Keys and isolation: 401 in fal's shape, one key never reaches another key's request or files,
request ids and file keys are unguessable, and nothing lists files."""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest

from openpika.jobs.model import new_request_id

from .conftest import EFFECTS, LiveApi, app_path, auth, png_data_uri

ALICE, BOB = "alice-key", "bob-key"
BODY = {"image_url": png_data_uri(), "pikaffect": "Squish"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Key"},
        {"Authorization": "Key wrong-key"},
        {"Authorization": "Bearer wrong-key"},
        {"Authorization": "Basic YWxpY2Uta2V5Og=="},
        {"Authorization": "Key alice-key-but-longer"},
        {"Authorization": "Key alice-ke"},
        {"Authorization": "alice-key"},
    ],
)
def test_missing_or_wrong_key_is_401_in_fal_shape(keyed: LiveApi, headers: dict[str, str]) -> None:
    base = f"/{app_path(EFFECTS)}/requests/{new_request_id()}"
    for method, path in [
        ("POST", f"/{EFFECTS}"),
        ("GET", base + "/status"),
        ("GET", base),
        ("PUT", base + "/cancel"),
    ]:
        response = keyed.client.request(
            method, path, json=BODY if method == "POST" else None, headers=headers
        )
        assert response.status_code == 401, (method, path, response.text)
        body = response.json()
        assert isinstance(body["detail"], str) and body["detail"]
    assert keyed.store._jobs == {}  # nothing was stored for the refused submits


def test_accepted_key_schemes(keyed: LiveApi) -> None:
    for header in (f"Key {ALICE}", f"Bearer {ALICE}", f"key   {ALICE}  "):
        assert (
            keyed.client.post(f"/{EFFECTS}", json=BODY, headers={"Authorization": header}).status_code == 200
        )


def test_another_key_cannot_read_stream_cancel_or_learn_files(keyed: LiveApi) -> None:
    request_id = keyed.submit(EFFECTS, BODY, ALICE)
    result = keyed.wait(EFFECTS, request_id, ALICE)
    assert result.status_code == 200
    video_url = result.json()["video"]["url"]

    base = f"/{app_path(EFFECTS)}/requests/{request_id}"
    for method, path in [
        ("GET", base + "/status"),
        ("GET", base + "/status?logs=1"),
        ("GET", base + "/status/stream"),
        ("GET", base),
        ("PUT", base + "/cancel"),
    ]:
        response = keyed.client.request(method, path, headers=auth(BOB))
        # Not 403: the id is not even confirmed to exist for another key.
        assert response.status_code == 404, (path, response.text)
        assert request_id not in response.text.replace(path, "")
        assert "files/" not in response.text

    # Alice's job is untouched by Bob's cancel and still answers her.
    assert keyed.client.get(base, headers=auth(ALICE)).json()["video"]["url"] == video_url
    # A correct id under another app's path is not found either (no cross-app reads).
    other = f"/fal-ai/flux/requests/{request_id}/status"
    assert keyed.client.get(other, headers=auth(ALICE)).status_code == 404


def test_file_urls_are_unguessable_and_nothing_is_listable(keyed: LiveApi) -> None:
    request_id = keyed.submit(EFFECTS, BODY, ALICE)
    url = keyed.wait(EFFECTS, request_id, ALICE).json()["video"]["url"]
    match = re.search(r"/files/([^/]+)/([^/]+)$", url)
    assert match, url
    key, name = match.groups()
    assert len(key) >= 22  # >= 128 bits of token_urlsafe
    path = f"/files/{key}/{name}"
    assert keyed.client.get(path).status_code == 200  # the URL itself is the permission, as on fal's CDN

    for probe in [
        "/files",
        "/files/",
        f"/files/{key}",
        f"/files/{key}/",
        f"/files/{key}/.meta.json",
        f"/files/{key[:-1]}/{name}",
        f"/files/{key}/..%2f..%2fjobs.db",
        "/files/..%2f..%2fetc/passwd",
        "/files/%2e%2e/%2e%2e",
        "/storage",
        "/requests",
        f"/{app_path(EFFECTS)}/requests",
    ]:
        response = keyed.client.get(probe, headers=auth(ALICE))
        assert response.status_code in (404, 405), (probe, response.status_code)
        assert key not in response.text or probe.startswith(f"/files/{key}")


def test_request_ids_are_unguessable() -> None:
    ids = [new_request_id() for _ in range(4000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", i) for i in ids)
    # Every hex position is uniformly random (no counter, no timestamp prefix): each digit's
    # frequency per position stays near 1/16. Bound: 5 sigma of a binomial(4000, 1/16).
    hexes = [i.replace("-", "") for i in ids]
    expected = len(ids) / 16
    sigma = math.sqrt(len(ids) * (1 / 16) * (15 / 16))
    for position in range(32):
        counts = Counter(h[position] for h in hexes)
        assert len(counts) == 16, position
        assert max(abs(c - expected) for c in counts.values()) < 5 * sigma, position


def test_ids_of_consecutive_submits_share_no_prefix(keyed: LiveApi) -> None:
    ids = [keyed.submit(EFFECTS, BODY, ALICE) for _ in range(6)]
    prefixes = {i[:6] for i in ids}
    assert len(prefixes) == len(ids)
