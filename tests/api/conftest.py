"""An app over the in-memory job store and a temp file store, with no real worker: tests drive
jobs through their states with ``FakeWorker`` (the store's own worker-side calls), so every
protocol state is reached deterministically and fast."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from openpika.api import ApiTuning, create_app
from openpika.jobs.memory import MemoryJobStore
from openpika.jobs.model import Job, JobError, LogEntry
from openpika.settings import Settings
from openpika.storage.local import LocalFileStore

RUN_PORT = 9100
QUEUE_PORT = 9101
QUEUE = f"http://testserver:{QUEUE_PORT}"
RUN = f"http://testserver:{RUN_PORT}"
I2V = "fal-ai/pika/v2.2/image-to-video"
I2V_INPUT = {"image_url": "https://example.com/cat.png", "prompt": "a cat"}
FAST = ApiTuning(poll_interval=0.01, sse_ping_interval=0.15, housekeeping_interval=0.02, queue_position_ttl=0)


@dataclass
class FakeWorker:
    store: MemoryJobStore

    def claim(self) -> Job:
        job = self.store.claim("fake-worker", lease_seconds=60, max_attempts=3)
        assert job is not None, "nothing to claim"
        return job

    def log(self, job: Job, message: str) -> None:
        self.store.append_log(job.id, LogEntry(message, "INFO", "2026-01-01T00:00:00+00:00"))

    def complete(self, job: Job, url: str = "http://files/x.mp4") -> None:
        assert self.store.complete(job.id, job.attempt, {"video": {"url": url, "content_type": "video/mp4"}})

    def fail(self, job: Job, error: JobError) -> None:
        assert self.store.fail(job.id, job.attempt, error)


@dataclass
class Api:
    settings: Settings
    store: MemoryJobStore
    files: LocalFileStore
    worker: FakeWorker
    queue: TestClient
    run: TestClient


def make_api(tmp_path: Path, **settings_fields: object) -> Generator[Api, None, None]:
    settings = Settings(data_dir=tmp_path, port=RUN_PORT, queue_port=QUEUE_PORT, **settings_fields)
    store = MemoryJobStore()
    files = LocalFileStore(tmp_path / "files")
    app = create_app(settings, store=store, files=files, start_workers=False, tuning=FAST)
    with TestClient(app, base_url=QUEUE) as queue, TestClient(app, base_url=RUN) as run:
        yield Api(settings, store, files, FakeWorker(store), queue, run)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from make_api(tmp_path)


@pytest.fixture
def keyed_api(tmp_path: Path) -> Iterator[Api]:
    yield from make_api(tmp_path, api_keys=["alice-key", "bob-key"])
