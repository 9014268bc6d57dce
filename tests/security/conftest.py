"""A real app with real in-process workers (fixture engines), driven over HTTP by TestClient.

Unlike tests/api (which fakes the worker), jobs here run the whole worker path - including the
guarded input loading - so a hostile URL travels request -> store -> worker -> 422 result.
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from openpika.api import ApiTuning, create_app
from openpika.jobs.memory import MemoryJobStore
from openpika.settings import Settings
from openpika.storage.local import LocalFileStore

from ..inputs.conftest import fake_dns  # noqa: F401  (re-exported fixture)

RUN_PORT, QUEUE_PORT = 9200, 9201
QUEUE = f"http://testserver:{QUEUE_PORT}"
FAST = ApiTuning(poll_interval=0.01, sse_ping_interval=0.2, housekeeping_interval=0.05)
EFFECTS = "fal-ai/pika/v1.5/pikaffects"  # output size follows the image: a tiny image renders fast
I2V = "fal-ai/pika/v2.2/image-to-video"
FRAMES = "fal-ai/pika/v2.2/pikaframes"
ADDITIONS = "fal-ai/pika/v2/pikadditions"
SWAPS = "fal-ai/pika/v2/pikaswaps"
T2V = "fal-ai/pika/v2.1/text-to-video"


def png_data_uri(size: int = 32) -> str:
    buffer = io.BytesIO()
    pixels = np.linspace(0, 255, size * size * 3).astype(np.uint8).reshape(size, size, 3)
    Image.fromarray(pixels).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def app_path(endpoint_id: str) -> str:
    return "/".join(endpoint_id.split("/")[:2])


@dataclass
class LiveApi:
    client: TestClient
    store: MemoryJobStore
    files: LocalFileStore
    settings: Settings

    def submit(self, endpoint: str, body: dict[str, Any], key: str | None = None) -> str:
        response = self.client.post(f"/{endpoint}", json=body, headers=auth(key))
        assert response.status_code == 200, response.text
        return str(response.json()["request_id"])

    def wait(self, endpoint: str, request_id: str, key: str | None = None, timeout: float = 30.0) -> Any:
        """The result once the job is COMPLETED."""
        base = f"/{app_path(endpoint)}/requests/{request_id}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.client.get(base + "/status", headers=auth(key)).json()
            if status["status"] == "COMPLETED":
                return self.client.get(base, headers=auth(key))
            time.sleep(0.02)
        raise AssertionError(f"request {request_id} did not complete in {timeout} s")

    def run(self, endpoint: str, body: dict[str, Any], key: str | None = None) -> Any:
        return self.wait(endpoint, self.submit(endpoint, body, key), key)

    def assert_worker_alive(self, key: str | None = None) -> None:
        result = self.run(EFFECTS, {"image_url": png_data_uri(), "pikaffect": "Squish"}, key)
        assert result.status_code == 200, result.text
        assert result.json()["video"]["url"]


def auth(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Key {key}"} if key else {}


def live_api(tmp_path: Path, **fields: Any) -> Generator[LiveApi, None, None]:
    settings = Settings(
        data_dir=tmp_path,
        port=RUN_PORT,
        queue_port=QUEUE_PORT,
        workers=1,
        engine="fixture:ok",
        fetch_timeout_seconds=1.0,
        **fields,
    )
    store = MemoryJobStore()
    files = LocalFileStore(tmp_path / "files")
    app = create_app(settings, store=store, files=files, start_workers=True, tuning=FAST)
    with TestClient(app, base_url=QUEUE) as client:
        yield LiveApi(client, store, files, settings)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveApi]:
    yield from live_api(tmp_path)


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[LiveApi]:
    yield from live_api(tmp_path, api_keys=["alice-key", "bob-key"])
