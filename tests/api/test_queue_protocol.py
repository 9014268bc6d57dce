"""The queue protocol's golden shapes (fal-protocol.md §2-5, §9): submit, status, result, cancel."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from openpika.endpoints import ENDPOINTS
from openpika.jobs.model import JobError
from tests.api.conftest import I2V, I2V_INPUT, QUEUE, Api, make_api

REQUEST_URL_FIELDS = ("response_url", "status_url", "cancel_url")


def submit(api: Api, endpoint: str = I2V, body: dict | None = None, **kwargs: object) -> dict:
    response = api.queue.post(f"/{endpoint}", json=I2V_INPUT if body is None else body, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return response.json()


def test_submit_answers_fal_shape_with_owner_alias_urls(api: Api) -> None:
    response = api.queue.post(f"/{I2V}", json=I2V_INPUT)
    body = response.json()
    request_id = body["request_id"]
    assert response.status_code == 200
    assert response.headers["x-fal-request-id"] == request_id
    assert body["status"] == "IN_QUEUE"
    assert body["queue_position"] == 0
    assert body["gateway_request_id"] == request_id
    base = f"{QUEUE}/fal-ai/pika/requests/{request_id}"  # the v2.2/image-to-video sub-path is dropped
    assert body["response_url"] == base
    assert body["status_url"] == base + "/status"
    assert body["cancel_url"] == base + "/cancel"


def test_status_is_202_until_completed_then_200_with_metrics(api: Api) -> None:
    handle = submit(api)
    queued = api.queue.get(handle["status_url"])
    assert queued.status_code == 202
    assert queued.json()["status"] == "IN_QUEUE"
    assert queued.json()["queue_position"] == 0
    assert queued.json()["logs"] is None
    assert all(queued.json()[field] == handle[field] for field in REQUEST_URL_FIELDS)

    job = api.worker.claim()
    running = api.queue.get(handle["status_url"])
    assert running.status_code == 202
    assert running.json()["status"] == "IN_PROGRESS"
    assert "logs" in running.json() and running.json()["logs"] is None

    api.worker.complete(job)
    done = api.queue.get(handle["status_url"])
    assert done.status_code == 200
    assert done.json()["status"] == "COMPLETED"
    assert done.json()["logs"] is None
    assert isinstance(done.json()["metrics"]["inference_time"], float)
    assert "error" not in done.json()
    assert done.headers["x-fal-request-id"] == handle["request_id"]


@pytest.mark.parametrize(
    ("value", "expect_list"), [("true", True), ("1", True), ("false", False), ("0", False)]
)
def test_logs_query_forms_of_every_client(api: Api, value: str, expect_list: bool) -> None:
    handle = submit(api)
    job = api.worker.claim()
    api.worker.log(job, "loading")
    api.worker.log(job, "rendering")
    logs = api.queue.get(handle["status_url"], params={"logs": value}).json()["logs"]
    if expect_list:
        assert [entry["message"] for entry in logs] == ["loading", "rendering"]
        assert set(logs[0]) >= {"message", "level", "source", "timestamp"}
        assert logs[0]["source"] == "USER"
    else:
        assert logs is None


def test_queue_positions_follow_priority_then_fifo(api: Api) -> None:
    first = submit(api)
    low = submit(api, headers={"X-Fal-Queue-Priority": "low"})
    second = submit(api, headers={"X-Fal-Queue-Priority": "normal"})
    assert low["queue_position"] == 1  # answered at submit time: one job ahead
    positions = {
        name: api.queue.get(handle["status_url"]).json()["queue_position"]
        for name, handle in {"first": first, "low": low, "second": second}.items()
    }
    assert positions == {"first": 0, "second": 1, "low": 2}
    assert api.worker.claim().id == first["request_id"]
    assert api.queue.get(low["status_url"]).json()["queue_position"] == 1


def test_result_before_completion_is_400_then_output(api: Api) -> None:
    handle = submit(api)
    early = api.queue.get(handle["response_url"])
    assert early.status_code == 400
    assert early.headers["x-fal-request-id"] == handle["request_id"]
    api.worker.complete(api.worker.claim(), url="http://x/video.mp4")
    result = api.queue.get(handle["response_url"])
    assert result.status_code == 200
    assert result.json() == {"video": {"url": "http://x/video.mp4", "content_type": "video/mp4"}}
    assert result.headers["x-fal-request-id"] == handle["request_id"]


def test_failed_job_result_passes_its_status_body_and_headers(api: Api) -> None:
    handle = submit(api)
    detail = [{"loc": ["body", "image_url"], "msg": "could not fetch the image", "type": "value_error"}]
    api.worker.fail(
        api.worker.claim(),
        JobError(
            422,
            {"detail": detail},
            "could not fetch the image",
            "validation_error",
            {"x-fal-billable-units": "0"},
        ),
    )
    status = api.queue.get(handle["status_url"]).json()
    assert status["status"] == "COMPLETED"
    assert status["error"] == "could not fetch the image"
    assert status["error_type"] == "validation_error"
    result = api.queue.get(handle["response_url"])
    assert result.status_code == 422
    assert result.json() == {"detail": detail}
    assert result.headers["x-fal-billable-units"] == "0"


def test_start_deadline_expires_as_user_timeout_504(api: Api) -> None:
    handle = submit(api, headers={"X-Fal-Request-Timeout": "0.05"})
    deadline = time.monotonic() + 5
    while api.queue.get(handle["status_url"]).status_code != 200:
        assert time.monotonic() < deadline, "the start deadline never fired"
        time.sleep(0.02)
    status = api.queue.get(handle["status_url"]).json()
    assert status["error_type"] == "request_timeout"
    result = api.queue.get(handle["response_url"])
    assert result.status_code == 504
    assert result.headers["x-fal-request-timeout-type"] == "user"
    assert result.json()["error_type"] == "request_timeout"
    assert len(result.headers.get_list("x-fal-error-type")) == 1


def test_newer_start_timeout_header_wins(api: Api) -> None:
    headers = {"X-Fal-Request-Timeout": "1000", "X-Fal-Request-Start-Timeout": "0.05"}
    handle = submit(api, headers=headers)
    time.sleep(0.1)
    assert api.queue.get(handle["status_url"]).json()["status"] == "COMPLETED"


def test_bad_start_timeout_is_422_on_the_header(api: Api) -> None:
    response = api.queue.post(f"/{I2V}", json=I2V_INPUT, headers={"X-Fal-Request-Timeout": "soon"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "x-fal-request-timeout"]


@pytest.mark.parametrize(
    ("state", "code", "outcome"),
    [
        ("queued", 202, "CANCELLATION_REQUESTED"),
        ("running", 202, "CANCELLATION_REQUESTED"),
        ("done", 400, "ALREADY_COMPLETED"),
    ],
)
def test_cancel_in_each_state(api: Api, state: str, code: int, outcome: str) -> None:
    handle = submit(api)
    if state in ("running", "done"):
        job = api.worker.claim()
        if state == "done":
            api.worker.complete(job)
    response = api.queue.put(handle["cancel_url"])
    assert (response.status_code, response.json()) == (code, {"status": outcome})
    if state == "queued":  # a cancelled queued request never runs and reports COMPLETED with an error
        assert api.store.claim("w", 60, 3) is None
        status = api.queue.get(handle["status_url"]).json()
        assert status["status"] == "COMPLETED" and status["error_type"] == "request_cancelled"
    if state == "running":
        assert api.store.get(handle["request_id"]).cancel_requested


def test_unknown_request_is_404_for_every_request_route(api: Api) -> None:
    base = "/fal-ai/pika/requests/00000000-0000-0000-0000-000000000000"
    for method, path in [
        ("GET", base + "/status"),
        ("GET", base),
        ("PUT", base + "/cancel"),
        ("GET", base + "/status/stream"),
    ]:
        response = api.queue.request(method, path)
        assert response.status_code == 404, path
        assert "x-fal-request-id" in response.headers


def test_request_urls_must_name_the_right_owner_alias(api: Api) -> None:
    handle = submit(api)
    assert api.queue.get(f"/someone/else/requests/{handle['request_id']}/status").status_code == 404


def test_trailing_slashes_are_accepted(api: Api) -> None:
    handle = api.queue.post(f"/{I2V}/", json=I2V_INPUT).json()
    assert api.queue.get(handle["status_url"] + "/").status_code == 202
    assert api.queue.get(handle["response_url"] + "/").status_code == 400
    assert api.queue.put(handle["cancel_url"] + "/").status_code == 202


def test_unknown_path_is_404_in_fal_shape(api: Api) -> None:
    response = api.queue.post("/fal-ai/pika/v9/nothing", json={})
    assert response.status_code == 404
    assert response.json() == {"detail": "Path /fal-ai/pika/v9/nothing not found"}
    assert response.headers["x-fal-request-id"]
    assert api.queue.get("/x").json() == {"detail": "Path /x not found"}


def test_schema_errors_are_immediate_422_with_body_loc(api: Api) -> None:
    response = api.queue.post(f"/{I2V}", json={"image_url": "ftp://nope", "duration": 7})
    assert response.status_code == 422
    assert response.headers["x-fal-billable-units"] == "0"
    assert response.headers["x-fal-request-id"]
    detail = response.json()["detail"]
    locs = {tuple(item["loc"]) for item in detail}
    assert locs == {("body", "image_url"), ("body", "prompt"), ("body", "duration")}
    assert all(isinstance(item["msg"], str) and item["type"] for item in detail)
    assert api.store.claim("w", 60, 3) is None  # nothing was queued


def test_malformed_json_is_422(api: Api) -> None:
    response = api.queue.post(f"/{I2V}", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_webhook_url_is_stored_and_checked(api: Api) -> None:
    handle = submit(api, params={"fal_webhook": "https://hooks.example/done"})
    assert api.store.get(handle["request_id"]).webhook_url == "https://hooks.example/done"
    bad = api.queue.post(f"/{I2V}", json=I2V_INPUT, params={"fal_webhook": "file:///etc/passwd"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "fal_webhook"]


@pytest.mark.parametrize(
    "hook",
    [
        "http://127.0.0.1:9/hook",  # loopback
        "https://localhost/hook",  # a name for loopback
        "http://10.1.2.3/hook",  # private
        "http://169.254.169.254/latest/meta-data",  # cloud metadata
        "http://[::1]/hook",
        "https://user:pw@hooks.example/hook",  # credentials
    ],
)
def test_webhooks_the_guard_would_refuse_are_422_at_submit(api: Api, hook: str) -> None:
    response = api.queue.post(f"/{I2V}", json=I2V_INPUT, params={"fal_webhook": hook})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", "fal_webhook"]
    assert api.store.claim("w", 60, 3) is None  # nothing was queued


def test_allow_listed_private_webhooks_are_accepted(tmp_path: Path) -> None:
    for api in make_api(tmp_path, fetch_allow_private_hosts=["127.0.0.1"]):
        handle = submit(api, params={"fal_webhook": "http://127.0.0.1:9/hook"})
        assert api.store.get(handle["request_id"]).webhook_url == "http://127.0.0.1:9/hook"


@pytest.mark.parametrize("endpoint_id", sorted(ENDPOINTS))
def test_every_endpoint_is_registered_and_validated(api: Api, endpoint_id: str) -> None:
    empty = api.queue.post(f"/{endpoint_id}", json={})
    assert empty.status_code == 422, "an empty body must miss a required field"
    assert all(item["loc"][0] == "body" for item in empty.json()["detail"])
    example = ENDPOINTS[endpoint_id].example
    if example:
        handle = submit(api, endpoint_id, example)
        job = api.store.get(handle["request_id"])
        assert job is not None and job.endpoint_id == endpoint_id and job.input == example


def test_request_routes_read_jobs_without_their_input_when_the_store_can(tmp_path: Path) -> None:
    """Status polls must not decode a big data-URI input: a store's ``peek`` is preferred to ``get``."""
    import dataclasses

    from fastapi.testclient import TestClient

    from openpika.api import create_app
    from openpika.jobs.memory import MemoryJobStore
    from openpika.settings import Settings
    from openpika.storage.local import LocalFileStore
    from tests.api.conftest import FAST, QUEUE_PORT, RUN_PORT

    class PeekingStore(MemoryJobStore):
        def get(self, request_id: str):
            raise AssertionError("request routes must use peek")

        def peek(self, request_id: str):
            with self._lock:
                job = self._jobs.get(request_id)
                return None if job is None else dataclasses.replace(job, input={})

    store = PeekingStore()
    settings = Settings(data_dir=tmp_path, port=RUN_PORT, queue_port=QUEUE_PORT)
    app = create_app(
        settings, store=store, files=LocalFileStore(tmp_path / "f"), start_workers=False, tuning=FAST
    )
    with TestClient(app, base_url=QUEUE) as client:
        handle = client.post(f"/{I2V}", json=I2V_INPUT).json()
        assert client.get(handle["status_url"]).status_code == 202
        job = store.claim("w", 60, 3)
        assert job is not None and job.input == I2V_INPUT
        store.complete(job.id, job.attempt, {"video": {"url": "u"}})
        assert client.get(handle["status_url"]).status_code == 200
        assert client.get(handle["response_url"]).json() == {"video": {"url": "u"}}
        assert client.put(handle["cancel_url"]).status_code == 400


def test_queue_positions_are_reused_for_the_configured_time(tmp_path: object) -> None:
    from openpika.api.auth import KeyChecker
    from openpika.api.context import ApiContext, ApiTuning
    from openpika.jobs.memory import MemoryJobStore
    from openpika.jobs.model import NewJob
    from openpika.settings import Settings

    store = MemoryJobStore()
    first, second = (store.enqueue(NewJob(I2V, I2V_INPUT)) for _ in range(2))
    cached = ApiContext(Settings(), store, None, KeyChecker([]), ApiTuning(queue_position_ttl=60))
    fresh = ApiContext(Settings(), store, None, KeyChecker([]), ApiTuning(queue_position_ttl=0))
    assert cached.queue_position(second.id) == fresh.queue_position(second.id) == 1
    assert store.claim("w", 60, 3).id == first.id
    assert fresh.queue_position(second.id) == 0
    assert cached.queue_position(second.id) == 1, "within the TTL the position is not recounted"
