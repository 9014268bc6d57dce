"""Gaps between the OpenAPI document and what the API answers, found by the fuzzer's stricter
checks (status_code_conformance, positive_data_acceptance), kept as deterministic regressions."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from .app import FUZZ_KEY, build_fuzz_app

AUTH = {"Authorization": f"Key {FUZZ_KEY}"}
UNKNOWN = "/fal-ai/pika/requests/00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module")
def client_and_doc() -> Any:
    with TestClient(build_fuzz_app(), base_url="http://testserver") as client:
        yield client, client.get("/openapi.json").json()


def documented(doc: dict[str, Any], path: str, method: str) -> set[str]:
    return set(doc["paths"][path][method]["responses"])


@pytest.mark.parametrize(
    ("method", "suffix", "template"),
    [
        ("get", "/status", "/fal-ai/pika/requests/{request_id}/status"),
        ("get", "/status/stream", "/fal-ai/pika/requests/{request_id}/status/stream"),
        ("put", "/cancel", "/fal-ai/pika/requests/{request_id}/cancel"),
    ],
)
def test_request_routes_document_their_404_and_401(
    client_and_doc: Any, method: str, suffix: str, template: str
) -> None:
    client, doc = client_and_doc
    found = client.request(method.upper(), UNKNOWN + suffix, headers=AUTH)
    anonymous = client.request(method.upper(), UNKNOWN + suffix)
    assert (found.status_code, anonymous.status_code) == (404, 401)
    assert {"404", "401"} <= documented(doc, template, method)


def test_documented_timeout_header_values_are_accepted(client_and_doc: Any) -> None:
    client, doc = client_and_doc
    parameters = doc["paths"]["/fal-ai/pika/v2.1/text-to-video"]["post"]["parameters"]
    timeout_schema = next(p["schema"] for p in parameters if p["name"] == "X-Fal-Request-Timeout")
    response = client.post(
        "/fal-ai/pika/v2.1/text-to-video",
        json={"prompt": "a lake"},
        headers={**AUTH, "X-Fal-Request-Timeout": "0"},
    )
    # OpenAPI 3.0 says "> 0" as minimum: 0 with exclusiveMinimum: true (3.1: exclusiveMinimum: 0).
    zero_excluded = timeout_schema.get("exclusiveMinimum") == 0 or (
        timeout_schema.get("minimum") == 0 and timeout_schema.get("exclusiveMinimum") is True
    )
    assert response.status_code == 200 or zero_excluded


def test_undocumented_priority_values_are_rejected(client_and_doc: Any) -> None:
    client, _ = client_and_doc
    response = client.post(
        "/fal-ai/pika/v2.1/text-to-video",
        json={"prompt": "a lake"},
        headers={**AUTH, "X-Fal-Queue-Priority": "Q"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "x-fal-queue-priority"]


@pytest.mark.parametrize("value", ["normal", "low", "LOW"])
def test_documented_priority_values_are_accepted(client_and_doc: Any, value: str) -> None:
    client, _ = client_and_doc
    response = client.post(
        "/fal-ai/pika/v2.1/text-to-video",
        json={"prompt": "a lake"},
        headers={**AUTH, "X-Fal-Queue-Priority": value},
    )
    assert response.status_code == 200, response.text
