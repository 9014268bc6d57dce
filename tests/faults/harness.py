"""Real openpika processes for fault tests: ``openpika serve`` and ``openpika worker`` subprocesses
over one data directory (SQLite job store, local files), started, killed with SIGKILL and restarted.

Settings travel as ``OPENPIKA_*`` environment variables, exactly as an operator would set them.
Short leases (1 s) make a killed worker's job claimable again quickly.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
EFFECTS = "fal-ai/pika/v1.5/pikaffects"  # output follows the image's size: tiny image, fast render
EFFECT_FRAMES = 5 * 24
CRASH_ENDPOINT = "fal-ai/pika/v2.1/text-to-video"  # routed to fixture:crash where a test needs it


def tiny_png_uri(size: int = 32) -> str:
    pixels = np.linspace(0, 255, size * size * 3).astype(np.uint8).reshape(size, size, 3)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def effect_input(seconds: float = 0.5, tag: str = "") -> dict[str, Any]:
    """A pikaffects request the ``fixture:sleep`` engine renders in about ``seconds``."""
    return {"image_url": tiny_png_uri(), "pikaffect": "Squish", "prompt": f"sleep={seconds} {tag}".strip()}


def service_env(data_dir: Path, **settings: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENPIKA_")}
    env["PYTHONPATH"] = str(REPO / "src")
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "job_store": "sqlite",
        "engine": "fixture:sleep",
        "lease_seconds": 1.0,
        "heartbeat_seconds": 0.2,
        "host": "127.0.0.1",
        **settings,
    }
    for name, value in values.items():
        env[f"OPENPIKA_{name.upper()}"] = json.dumps(value) if isinstance(value, dict | list) else str(value)
    return env


def _python(*args: str) -> list[str]:
    return [sys.executable, "-m", "openpika.cli.main", *args]


@dataclass
class Server:
    """``openpika serve`` on free ports."""

    process: subprocess.Popen[str]
    queue_port: int
    output: list[str] = field(default_factory=list)

    @property
    def queue_url(self) -> str:
        return f"http://127.0.0.1:{self.queue_port}"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.queue_url, timeout=10.0, trust_env=False)

    def kill9(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()


def start_server(env: dict[str, str], *, workers: int, timeout: float = 60.0) -> Server:
    command = _python("serve", "--port", "0", "--queue-port", "0", "--log-level", "warning")
    command += ["--workers", str(workers)] if workers else ["--no-worker"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("openpika serve exited early:\n" + "".join(lines))
        lines.append(line)
        match = re.search(r"queue \(queue\.fal\.run\)\s+https?://[^:]+:(\d+)", line)
        if match:
            started = Server(process, int(match.group(1)), lines)
            _drain_in_background(process)
            wait_until(partial(_is_up, started), timeout=deadline - time.monotonic(), what="server up")
            return started
    process.kill()
    raise RuntimeError("openpika serve did not print its ports:\n" + "".join(lines))


def _drain_in_background(process: subprocess.Popen[str]) -> None:
    """Keep reading the child's output so a full pipe never blocks it."""
    import threading

    def drain() -> None:
        assert process.stdout is not None
        for _ in process.stdout:
            pass

    threading.Thread(target=drain, daemon=True).start()


def _is_up(server: Server) -> bool:
    try:
        with server.client() as client:
            return client.get("/health").status_code < 500
    except httpx.HTTPError:
        return False


@dataclass
class WorkerPool:
    """``openpika worker --count N``: a supervisor that restarts the worker processes it spawned."""

    process: subprocess.Popen[str]

    def worker_pids(self) -> list[int]:
        return [pid for pid in children_of(self.process.pid) if b"spawn_main" in _cmdline(pid)]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                for pid in self.worker_pids():
                    _kill(pid)
                self.process.kill()
                self.process.wait(5)


def start_workers(env: dict[str, str], count: int) -> WorkerPool:
    process = subprocess.Popen(
        _python("worker", "--count", str(count)),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _drain_in_background(process)
    pool = WorkerPool(process)
    wait_until(lambda: len(pool.worker_pids()) == count or process.poll() is not None, 30, "workers")
    if process.poll() is not None:
        raise RuntimeError(f"openpika worker exited with code {process.returncode}")
    return pool


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may contain spaces, so split after the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _kill(pid: int) -> bool:
    try:
        os.kill(pid, signal.SIGKILL)
        return True
    except ProcessLookupError:
        return False


def kill9(pid: int) -> bool:
    return _kill(pid)


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
