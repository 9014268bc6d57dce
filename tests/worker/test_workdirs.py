"""Scratch directories of killed workers are removed by the next worker that starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from openpika.worker.workdirs import new_work_dir, sweep_abandoned_work_dirs, work_root


def test_dirs_of_dead_workers_go_and_live_ones_stay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    abandoned = work_root() / f"{dead_pid}-abcdef12-xyz"
    (abandoned / "sub").mkdir(parents=True)
    (abandoned / "sub" / ".output.mp4.123.part").write_bytes(b"half a video")
    mine = new_work_dir("0123456789")
    assert mine.name.startswith(f"{os.getpid()}-01234567-")
    stray = work_root() / "not-a-worker-dir"
    stray.mkdir()

    assert sweep_abandoned_work_dirs() == 1
    assert not abandoned.exists()
    assert mine.exists() and stray.exists()
