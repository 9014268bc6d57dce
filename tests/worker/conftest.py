from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from openpika.jobs import Job, NewJob
from openpika.jobs.memory import MemoryJobStore
from openpika.settings import Settings
from openpika.storage.local import LocalFileStore
from openpika.worker.runner import JobRunner

T2V = "fal-ai/pika/v2.1/text-to-video"


def t2v_input(prompt: str = "a calm lake", **extra: Any) -> dict[str, Any]:
    """Text-to-video needs no media fetch: the smallest real request a fixture engine can run."""
    return {"prompt": prompt, "duration": 1, "resolution": "720p", "aspect_ratio": "16:9", "seed": 7, **extra}


@dataclass
class Rig:
    settings: Settings
    store: MemoryJobStore
    files: LocalFileStore

    def runner(self, name: str = "w1", **overrides: Any) -> JobRunner:
        settings = self.settings.model_copy(update=overrides) if overrides else self.settings
        return JobRunner(settings, self.store, self.files, name)

    def submit(self, payload: dict[str, Any] | None = None, endpoint: str = T2V, **kwargs: Any) -> str:
        new = NewJob(endpoint_id=endpoint, input=payload or t2v_input(), **kwargs)
        return self.store.enqueue(new).id

    def job(self, request_id: str) -> Job:
        job = self.store.get(request_id)
        assert job is not None
        return job

    def messages(self, request_id: str) -> list[str]:
        return [entry.message for _, entry in self.store.logs(request_id)]

    def stored_files(self) -> list[Path]:
        return [p for p in self.files.root.rglob("*") if p.is_file() and not p.name.startswith(".")]


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))  # so tests can see temp dirs are removed
    settings = Settings(
        data_dir=tmp_path / "data",
        job_store="memory",
        engine="fixture:ok",
        lease_seconds=5.0,
        heartbeat_seconds=0.05,
        public_url="https://pika.example",
    )
    yield Rig(settings, MemoryJobStore(), LocalFileStore(settings.data_dir / "files"))
