"""Disk full and an unwritable output directory: the job fails with a clear error, nothing partial
is left where downloads could see it, the store stays consistent and the worker carries on."""

from __future__ import annotations

import errno
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from openpika.jobs.model import JobStatus, NewJob
from openpika.jobs.store import JobStore
from openpika.settings import Settings
from openpika.storage import local as local_storage
from openpika.storage.local import LocalFileStore
from openpika.worker.runner import JobRunner

from .checks import assert_completed_once
from .harness import EFFECT_FRAMES, EFFECTS, effect_input


def runner(data_dir: Path, store: JobStore) -> tuple[JobRunner, LocalFileStore]:
    settings = Settings(data_dir=data_dir, job_store="sqlite", engine="fixture:ok", heartbeat_seconds=0.2)
    files = LocalFileStore(data_dir / "files")
    return JobRunner(settings, store, files, "disk-test"), files


def half_then_enospc(src: str | Path, dst: str | Path, **_: object) -> None:
    """Write half the file, then fail as a full disk does."""
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[: len(data) // 2])
    raise OSError(errno.ENOSPC, "No space left on device")


def run_failing_job(store: JobStore, job_runner: JobRunner) -> str:
    request_id = store.enqueue(NewJob(EFFECTS, effect_input(0), file_base_url="http://x")).id
    assert job_runner.run_one()
    return request_id


def assert_failed_cleanly(store: JobStore, request_id: str, files_root: Path, reason: str) -> None:
    job = store.get(request_id)
    assert job is not None and job.status is JobStatus.COMPLETED and job.result is None
    assert job.error is not None
    assert (job.error.status_code, job.error.error_type) == (507, "storage_error")
    assert reason in job.error.message and "output.mp4" in job.error.message
    assert store.queue_position(request_id) is None
    if files_root.is_dir():
        assert list(files_root.iterdir()) == [], "a partial file or staging directory was left behind"


def test_disk_full_while_storing_the_output(
    data_dir: Path, store: JobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_runner, files = runner(data_dir, store)
    monkeypatch.setattr(local_storage.shutil, "copyfile", half_then_enospc)
    failed = run_failing_job(store, job_runner)
    assert_failed_cleanly(store, failed, files.root, "No space left on device")

    monkeypatch.undo()  # space freed
    ok = store.enqueue(NewJob(EFFECTS, effect_input(0), file_base_url="http://x")).id
    assert job_runner.run_one()
    assert_completed_once(store, [ok], files.root, EFFECT_FRAMES)


def replace_with_a_file(root: Path) -> None:
    shutil.rmtree(root)
    root.write_text("not a directory")


def remove(root: Path) -> None:
    shutil.rmtree(root)


@pytest.mark.parametrize(
    ("break_directory", "reason"),
    [(replace_with_a_file, "Not a directory"), (remove, "No such file or directory")],
)
def test_output_directory_becomes_unusable(
    data_dir: Path, store: JobStore, break_directory: Callable[[Path], None], reason: str
) -> None:
    job_runner, files = runner(data_dir, store)
    break_directory(files.root)
    failed = run_failing_job(store, job_runner)
    assert_failed_cleanly(store, failed, files.root, reason)
    # The store still works and the worker still takes jobs once the directory is back.
    if files.root.is_file():
        files.root.unlink()
    files.root.mkdir()
    ok = store.enqueue(NewJob(EFFECTS, effect_input(0), file_base_url="http://x")).id
    assert job_runner.run_one()
    assert_completed_once(store, [ok], files.root, EFFECT_FRAMES)


def test_worker_refuses_to_start_on_an_unusable_output_directory(data_dir: Path) -> None:
    """Fail fast and say why, rather than claim jobs it can never store."""
    import subprocess
    import sys

    from .harness import service_env

    (data_dir / "files").write_text("a file where the output directory should be")
    done = subprocess.run(
        [sys.executable, "-m", "openpika.cli.main", "worker", "--count", "1"],
        env=service_env(data_dir, engine="fixture:ok"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "cannot create the file store directory" in done.stdout + done.stderr
