from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openpika.jobs import open_store
from openpika.jobs.store import JobStore
from openpika.settings import Settings


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


def store_for(data_dir: Path) -> JobStore:
    return open_store(Settings(data_dir=data_dir, job_store="sqlite"))


@pytest.fixture
def store(data_dir: Path) -> Iterator[JobStore]:
    opened = store_for(data_dir)
    yield opened
    opened.close()
