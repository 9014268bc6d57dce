"""The app under fuzzing: in-memory store, a throwaway file store, no workers, one API key."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from openpika.api import ApiTuning, create_app
from openpika.jobs.memory import MemoryJobStore
from openpika.settings import Settings
from openpika.storage.local import LocalFileStore

FUZZ_KEY = "fuzz-key"


def build_fuzz_app(data_dir: Path | None = None) -> Any:
    root = data_dir or Path(tempfile.mkdtemp(prefix="openpika-fuzz-"))
    settings = Settings(data_dir=root, port=9400, queue_port=9401, workers=0, api_keys=[FUZZ_KEY])
    tuning = ApiTuning(poll_interval=0.01, sse_ping_interval=0.2, housekeeping_interval=0.5)
    return create_app(
        settings,
        store=MemoryJobStore(),
        files=LocalFileStore(root / "files"),
        start_workers=False,
        tuning=tuning,
    )
