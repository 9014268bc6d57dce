"""Property-based: inputs generated from our own OpenAPI document, for every endpoint's submit, are
either queued (200) or refused with a 422 in FastAPI's shape; never a 5xx, never another code."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings

from openpika.api import create_app
from openpika.jobs.memory import MemoryJobStore
from openpika.settings import Settings
from openpika.storage.local import LocalFileStore
from tests.api.conftest import FAST, QUEUE_PORT, RUN_PORT

_DATA = Path(tempfile.mkdtemp(prefix="openpika-fuzz-"))
APP = create_app(
    Settings(data_dir=_DATA, port=RUN_PORT, queue_port=QUEUE_PORT),
    store=MemoryJobStore(),
    files=LocalFileStore(_DATA / "files"),
    start_workers=False,
    tuning=FAST,
)
# One client for every case: schemathesis' own ASGI calls would run the app's lifespan each time.
CLIENT = TestClient(APP)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).include(
    method="POST", path_regex=r"^/fal-ai/pika/"
)


@schema.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), phases=[Phase.generate])
def test_submit_answers_200_or_a_fal_shaped_422(case: schemathesis.Case) -> None:
    request = case.as_transport_kwargs(base_url=f"http://testserver:{QUEUE_PORT}")
    request.pop("cookies", None)  # always empty here; per-request cookies are deprecated in httpx
    if isinstance(request.get("data"), (bytes, str)):
        request["content"] = request.pop("data")
    response = CLIENT.request(**request)
    assert response.status_code in (200, 422), response.text
    body = response.json()
    if response.status_code == 200:
        assert body["status"] == "IN_QUEUE" and body["status_url"].endswith("/status")
    else:
        assert all(item["loc"][0] in ("body", "header", "query") for item in body["detail"])
        assert response.headers["x-fal-billable-units"] == "0"
