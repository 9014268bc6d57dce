"""run_worker_processes (what ``openpika worker`` runs) as a real process: SIGTERM drains it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from openpika.jobs import JobStatus, NewJob
from openpika.jobs.sqlite import SQLiteJobStore

from .conftest import T2V, t2v_input
from .test_kill9 import wait_job

pytestmark = pytest.mark.slow
SRC = Path(__file__).resolve().parents[2] / "src"


def test_sigterm_lets_the_running_job_finish_then_exits_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    store = SQLiteJobStore(data_dir / "jobs.db")
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "OPENPIKA_DATA_DIR": str(data_dir),
        "OPENPIKA_ENGINE": "fixture:sleep",
        "OPENPIKA_LEASE_SECONDS": "5",
        "OPENPIKA_HEARTBEAT_SECONDS": "0.5",
    }
    code = (
        "import logging; logging.basicConfig(level=logging.INFO); from openpika.settings import Settings; "
        "from openpika.worker import run_worker_processes; run_worker_processes(Settings(), 2)"
    )
    command = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        request_id = store.enqueue(NewJob(endpoint_id=T2V, input=t2v_input("sleep=2"))).id
        late = store.enqueue(NewJob(endpoint_id=T2V, input=t2v_input(), start_timeout=0.01)).id
        wait_job(store, request_id, lambda j: j.status is JobStatus.IN_PROGRESS, timeout=60)
        sent_at = time.monotonic()
        command.send_signal(signal.SIGTERM)
        output, _ = command.communicate(timeout=60)
        assert command.returncode == 0, output.decode(errors="replace")
        assert time.monotonic() - sent_at < 30
        job = store.get(request_id)
        assert job is not None and job.status is JobStatus.COMPLETED and job.error is None
        missed = store.get(late)
        assert missed is not None and missed.error is not None and missed.error.status_code == 504
        assert b"stopping: letting 2 worker(s) finish their current job" in output
    finally:
        if command.poll() is None:
            command.kill()
            command.wait()
        store.close()


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # fields after "(comm)": state, ppid, ...
            found.append(int(stat.parent.name))
    return found


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_workers_leave_when_their_supervisor_is_killed(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC), "OPENPIKA_DATA_DIR": str(tmp_path / "data")}
    code = "from openpika.settings import Settings; from openpika.worker import run_worker_processes; run_worker_processes(Settings(), 2)"
    supervisor = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.2)
            workers = [p for p in children_of(supervisor.pid) if alive(p) and b"spawn_main" in cmdline(p)]
        assert len(workers) == 2
        supervisor.kill()  # at once: the workers may still be importing
        supervisor.wait()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(alive(p) for p in workers):
            time.sleep(0.2)
        assert not any(alive(p) for p in workers)
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
        for pid in children_of(supervisor.pid):
            os.kill(pid, signal.SIGKILL)
