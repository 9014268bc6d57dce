"""Keys and isolation, files (Range), uploads, OpenAPI, JWKS, and how listeners are told apart."""

from __future__ import annotations

import pytest

from openpika.endpoints import ENDPOINTS
from tests.api.conftest import I2V, I2V_INPUT, QUEUE, Api

ALICE = {"Authorization": "Key alice-key"}
BOB = {"Authorization": "Key bob-key"}


def test_missing_or_wrong_key_is_401_in_fal_shape(keyed_api: Api) -> None:
    for headers in ({}, {"Authorization": "Key nope"}, {"Authorization": "Basic abc"}):
        response = keyed_api.queue.post(f"/{I2V}", json=I2V_INPUT, headers=headers)
        assert response.status_code == 401
        assert isinstance(response.json()["detail"], str)
        assert response.headers["x-fal-request-id"]


def test_a_key_sees_only_its_own_requests(keyed_api: Api) -> None:
    handle = keyed_api.queue.post(f"/{I2V}", json=I2V_INPUT, headers=ALICE).json()
    assert keyed_api.queue.get(handle["status_url"], headers=ALICE).status_code == 202
    for method, url in [
        ("GET", handle["status_url"]),
        ("GET", handle["status_url"] + "/stream"),
        ("GET", handle["response_url"]),
        ("PUT", handle["cancel_url"]),
    ]:
        assert keyed_api.queue.request(method, url, headers=BOB).status_code == 404, url
        assert keyed_api.queue.request(method, url).status_code == 401, url
    assert keyed_api.store.get(handle["request_id"]).status.value == "IN_QUEUE"


def test_jwks_is_public(keyed_api: Api) -> None:
    response = keyed_api.queue.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert [(key["kty"], key["crv"]) for key in response.json()["keys"]] == [("OKP", "Ed25519")]


def test_files_are_served_with_type_and_ranges(api: Api) -> None:
    data = bytes(range(256)) * 40
    stored = api.files.save_bytes(data, content_type="video/mp4", file_name="clip.mp4")
    url = f"/files/{stored.key}/clip.mp4"
    for client in (api.queue, api.run):
        whole = client.get(url)
        assert whole.status_code == 200 and whole.content == data
        assert whole.headers["content-type"] == "video/mp4"
        assert whole.headers["accept-ranges"] == "bytes"
    part = api.queue.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert api.queue.get(f"/files/{stored.key}/other.mp4").status_code == 404
    assert api.queue.get(f"/files/{'A' * 22}/clip.mp4").status_code == 404
    assert api.queue.get(f"/files/{stored.key}").status_code == 404  # no listing
    assert api.queue.get("/files").status_code == 404


def test_initiate_and_put_upload_flow(keyed_api: Api) -> None:
    initiate = keyed_api.queue.post(
        "/storage/upload/initiate",
        params={"storage_type": "fal-cdn-v3"},
        json={"file_name": "cat.png", "content_type": "image/png"},
        headers=ALICE,
    )
    assert initiate.status_code == 200
    urls = initiate.json()
    assert keyed_api.queue.get(urls["file_url"]).status_code == 404  # not uploaded yet
    put = keyed_api.queue.put(
        urls["upload_url"], content=b"\x89PNG fake", headers={"content-type": "image/png"}
    )
    assert put.status_code == 200
    got = keyed_api.queue.get(urls["file_url"])
    assert got.status_code == 200 and got.content == b"\x89PNG fake"
    assert got.headers["content-type"] == "image/png"
    assert keyed_api.queue.put(urls["upload_url"], content=b"again").status_code == 404  # single use
    assert keyed_api.queue.post("/storage/upload/initiate", json={}).status_code == 401


def test_token_and_direct_upload_flow_of_the_python_client(keyed_api: Api) -> None:
    token = keyed_api.queue.post(
        "/storage/auth/token", params={"storage_type": "fal-cdn-v3"}, json={}, headers=ALICE
    ).json()
    assert token["token_type"] == "Bearer" and token["expires_at"].endswith("+00:00")
    headers = {
        "Authorization": f"Bearer {token['token']}",
        "Content-Type": "text/plain",
        "X-Fal-File-Name": "../../notes.txt",
    }
    upload = keyed_api.queue.post(f"{token['base_url']}/files/upload", content=b"hello", headers=headers)
    assert upload.status_code == 200
    access_url = upload.json()["access_url"]
    assert access_url.endswith("/notes.txt")
    assert keyed_api.queue.get(access_url).content == b"hello"
    forged = {**headers, "Authorization": f"Bearer {token['token'][:-2]}00"}
    assert keyed_api.queue.post("/files/upload", content=b"x", headers=forged).status_code == 401


def test_uploads_are_size_capped(tmp_path: object) -> None:
    from tests.api.conftest import make_api

    gen = make_api(tmp_path, max_input_bytes=1000)  # type: ignore[arg-type]
    api = next(gen)
    response = api.queue.post("/files/upload", content=b"x" * 2000, headers={"Content-Type": "text/plain"})
    assert response.status_code == 413
    gen.close()


def test_whole_openapi_describes_every_endpoint_with_its_schema(api: Api) -> None:
    document = api.queue.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    for endpoint_id, spec in ENDPOINTS.items():
        operation = document["paths"][f"/{endpoint_id}"]["post"]
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schema = schemas[ref.rsplit("/", 1)[1]]
        required = {name for name, field in spec.input_model.model_fields.items() if field.is_required()}
        assert set(schema.get("required", [])) == required, endpoint_id
    assert "VideoOutput" in schemas and "QueueStatus" in schemas
    assert "/fal-ai/pika/requests/{request_id}/status" in document["paths"]


@pytest.mark.parametrize(
    "path",
    ["/openapi.json?endpoint_id=fal-ai/pika/v2.2/pikaframes", "/fal-ai/pika/v2.2/pikaframes/openapi.json"],
)
def test_per_endpoint_openapi(api: Api, path: str) -> None:
    document = api.queue.get(path).json()
    assert document["info"]["x-fal-metadata"]["endpointId"] == "fal-ai/pika/v2.2/pikaframes"
    assert set(document["paths"]) == {
        "/fal-ai/pika/v2.2/pikaframes",
        "/fal-ai/pika/requests/{request_id}",
        "/fal-ai/pika/requests/{request_id}/status",
        "/fal-ai/pika/requests/{request_id}/status/stream",
        "/fal-ai/pika/requests/{request_id}/cancel",
    }
    assert "image_urls" in document["components"]["schemas"]["PikaframesRequest"]["properties"]
    assert document["servers"] == [{"url": QUEUE}]


def test_js_proxy_header_routes_by_target_url(api: Api) -> None:
    target = {"x-fal-target-url": f"https://queue.fal.run/{I2V}?fal_webhook=https%3A%2F%2Fh.example%2Fw"}
    submitted = api.run.post("/api/fal/proxy", json=I2V_INPUT, headers=target)  # run port, queue semantics
    body = submitted.json()
    assert submitted.status_code == 200 and body["status"] == "IN_QUEUE"
    assert body["status_url"].startswith("https://queue.fal.run/fal-ai/pika/requests/")
    assert api.store.get(body["request_id"]).webhook_url == "https://h.example/w"
    status = api.run.get("/api/fal/proxy", headers={"x-fal-target-url": body["status_url"] + "?logs=1"})
    assert status.status_code == 202 and status.json()["logs"] == []


def test_path_prefixes_serve_both_listeners_on_one_port(api: Api) -> None:
    body = api.run.post(f"/queue/{I2V}", json=I2V_INPUT).json()
    assert body["status"] == "IN_QUEUE"
    assert body["status_url"].startswith("http://testserver:9100/queue/fal-ai/pika/requests/")
    assert api.run.get(body["status_url"]).status_code == 202
    assert api.queue.get("/run/health").json() == {"status": "ok"}
    assert api.store.get(body["request_id"]).file_base_url == "http://testserver:9100/queue"
    stored = api.files.save_bytes(b"mp4", content_type="video/mp4", file_name="v.mp4")
    assert api.run.get(f"/queue/files/{stored.key}/v.mp4").content == b"mp4"


def test_playground_page_uses_the_public_api(api: Api) -> None:
    page = api.queue.get("/playground")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'fetch("/queue/"' in page.text and "status_url" in page.text and "response_url" in page.text
