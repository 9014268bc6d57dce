"""Per-job scratch directories, and cleaning up after workers that were killed.

A job's directory is removed when the job ends, however it ends, unless the process dies (SIGKILL,
out-of-memory). So every directory carries its worker's pid, ``{tmp}/openpika-jobs/{pid}-{job}-…``,
and a starting worker removes the directories of pids that no longer exist.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

logger = logging.getLogger("openpika.worker")
ROOT_NAME = "openpika-jobs"


def work_root() -> Path:
    root = Path(tempfile.gettempdir()) / ROOT_NAME
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def new_work_dir(request_id: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-{request_id[:8]}-", dir=work_root()))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def sweep_abandoned_work_dirs() -> int:
    """Remove the scratch directories of worker processes that are gone; return how many."""
    removed = 0
    for entry in work_root().iterdir():
        pid_text = entry.name.split("-", 1)[0]
        if not pid_text.isdigit() or _pid_alive(int(pid_text)):
            continue  # a reused pid only delays the cleanup; never removes a live worker's files
        shutil.rmtree(entry, ignore_errors=True)
        removed += 1
    if removed:
        logger.info("removed %d scratch dir(s) left by killed workers", removed)
    return removed
