"""SSE status streams, synchronous runs and streaming runs (fal-protocol.md §3, §9)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable

import pytest

from openpika.jobs.memory import MemoryJobStore
from openpika.jobs.model import JobError, LogEntry
from tests.api.conftest import I2V, I2V_INPUT, Api


def background_worker(
    store: MemoryJobStore, *, steps: int = 3, step_seconds: float = 0.05, error: JobError | None = None
) -> threading.Thread:
    """Claims the next job, logs one line per step, then completes (or fails) it."""

    def work() -> None:
        deadline = time.monotonic() + 10
        job = None
        while job is None and time.monotonic() < deadline:
            job = store.claim("bg", 60, 3)
            time.sleep(0.005)
        assert job is not None
        for step in range(steps):
            time.sleep(step_seconds)
            store.append_log(job.id, LogEntry(f"step {step}", "INFO", "2026-01-01T00:00:00+00:00"))
            store.set_progress(job.id, job.attempt, (step + 1) / steps)
        if error is None:
            store.complete(job.id, job.attempt, {"video": {"url": "http://x/v.mp4"}})
        else:
            store.fail(job.id, job.attempt, error)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def sse_lines(lines: Iterable[str]) -> list[str]:
    return [line for line in lines if line]


def parse_events(lines: list[str]) -> list[dict]:
    return [json.loads(line[len("data: ") :]) for line in lines if line.startswith("data: ")]


def test_status_stream_sends_changes_logs_once_and_closes_after_completed(api: Api) -> None:
    handle = api.queue.post(f"/{I2V}", json=I2V_INPUT).json()
    worker = background_worker(api.store, steps=4, step_seconds=0.4)  # steps longer than a ping interval
    with api.queue.stream(
        "GET",
        handle["status_url"] + "/stream",
        params={"logs": "1"},
        headers={"accept": "application/json, text/event-stream"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-fal-request-id"] == handle["request_id"]
        raw = response.read().decode()
    worker.join()
    assert raw.endswith("\n\n"), "every event is terminated by a blank line"
    lines = sse_lines(raw.split("\n"))
    assert all(line.startswith(("data: ", ": ping")) for line in lines), lines
    assert ": ping" in lines, "quiet periods longer than the ping interval send a comment"
    events = parse_events(lines)
    assert events[-1]["status"] == "COMPLETED", "the stream closes right after COMPLETED"
    assert [e["status"] for e in events].count("COMPLETED") == 1
    assert {"IN_PROGRESS", "COMPLETED"} <= {e["status"] for e in events}
    messages = [entry["message"] for e in events for entry in (e["logs"] or [])]
    assert messages == ["step 0", "step 1", "step 2", "step 3"], "each log entry is sent exactly once"


def test_status_stream_without_logs_has_null_logs(api: Api) -> None:
    handle = api.queue.post(f"/{I2V}", json=I2V_INPUT).json()
    worker = background_worker(api.store)
    with api.queue.stream("GET", handle["status_url"] + "/stream") as response:
        events = parse_events(sse_lines(response.read().decode().split("\n")))
    worker.join()
    assert all(e["logs"] is None for e in events)
    assert events[0]["status"] in ("IN_QUEUE", "IN_PROGRESS")


def test_sync_run_on_run_port_waits_and_answers_the_output(api: Api) -> None:
    worker = background_worker(api.store)
    response = api.run.post(f"/{I2V}", json=I2V_INPUT)
    worker.join()
    assert response.status_code == 200
    assert response.json() == {"video": {"url": "http://x/v.mp4"}}
    assert api.store.get(response.headers["x-fal-request-id"]) is not None


def test_sync_run_answers_the_job_error_status_and_body(api: Api) -> None:
    error = JobError(
        503,
        {"detail": "engine unavailable", "error_type": "engine_unavailable"},
        "engine unavailable",
        "engine_unavailable",
    )
    worker = background_worker(api.store, error=error)
    response = api.run.post(f"/{I2V}", json=I2V_INPUT)
    worker.join()
    assert response.status_code == 503
    assert response.json()["error_type"] == "engine_unavailable"
    assert response.headers["x-fal-error-type"] == "engine_unavailable"


def test_sync_run_validation_error_is_immediate(api: Api) -> None:
    response = api.run.post(f"/{I2V}", json={"prompt": "no image"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "image_url"]


def test_streaming_run_sends_status_events_then_the_output(api: Api) -> None:
    worker = background_worker(api.store)
    with api.run.stream("POST", f"/{I2V}/stream", json=I2V_INPUT) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = parse_events(sse_lines(response.read().decode().split("\n")))
    worker.join()
    assert events[-1] == {"video": {"url": "http://x/v.mp4"}}
    assert events[-2]["status"] == "COMPLETED"
    assert [entry["message"] for e in events[:-1] for entry in e["logs"] or []] == [
        "step 0",
        "step 1",
        "step 2",
    ]


def test_stream_suffix_is_not_an_endpoint_on_the_queue_port(api: Api) -> None:
    assert api.queue.post(f"/{I2V}/stream", json=I2V_INPUT).status_code == 404


@pytest.mark.parametrize("mode", ["streaming", "sync"])
def test_a_run_whose_client_hangs_up_is_cancelled(api: Api, mode: str) -> None:
    """Starlette ends the response when the client disconnects; the job must be cancelled."""
    import asyncio

    from starlette.requests import Request

    from openpika.api.endpoint_routes import streaming_run, synchronous_run
    from openpika.jobs.model import NewJob

    job = api.store.enqueue(NewJob(I2V, I2V_INPUT))
    context = api.queue.app.state.api  # type: ignore[attr-defined]

    async def disconnected() -> dict:
        return {"type": "http.disconnect"}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [],
        "query_string": b"",
        "state": {"queue_base": "http://q"},
        "app": api.queue.app,
    }
    request = Request(scope, disconnected)

    async def go() -> None:
        if mode == "sync":
            response = await synchronous_run(request, context, job)
            assert response.status_code == 499
        else:
            events = streaming_run(request, context, job)
            await events.__anext__()  # the first status event, then the client goes away
            await events.aclose()

    asyncio.run(go())
    status = api.store.get(job.id)
    assert status is not None and status.is_finished and status.error is not None
    assert status.error.error_type == "request_cancelled"


def test_sync_run_past_its_timeout_is_504_and_the_job_is_cancelled(tmp_path: object) -> None:
    from tests.api.conftest import make_api

    gen = make_api(tmp_path, sync_run_timeout=0.2)  # type: ignore[arg-type]
    api = next(gen)
    response = api.run.post(f"/{I2V}", json=I2V_INPUT)
    assert response.status_code == 504
    assert response.json()["error_type"] == "request_timeout"
    job = api.store.get(response.headers["x-fal-request-id"])
    assert job is not None and job.is_finished and job.error is not None
    assert job.error.error_type == "request_cancelled"
    gen.close()
