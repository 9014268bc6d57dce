"""A real ``openpika serve --tls`` subprocess on free ports, and a way to run official fal-client
code against it in a child Python (fal_client reads FAL_RUN_HOST/FAL_QUEUE_RUN_HOST at import)."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import ssl
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
SLEEP_ENDPOINT = "fal-ai/pika/v2.1/image-to-video"  # fixture:sleep (prompt "sleep=<seconds>")
PROGRESS_ENDPOINT = "fal-ai/pika/v2/turbo/image-to-video"  # fixture:progress (logs ten steps)
CLASSIC_ENDPOINT = "fal-ai/pika/v2.2/image-to-video"  # the real classic engine


@dataclass
class Server:
    run_port: int
    queue_port: int
    ca: Path
    process: subprocess.Popen[str]

    def tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))

    def client_env(self) -> dict[str, str]:
        return {
            "FAL_KEY": "e2e-key",
            "FAL_RUN_HOST": f"localhost:{self.run_port}",
            "FAL_QUEUE_RUN_HOST": f"localhost:{self.queue_port}",
            "SSL_CERT_FILE": str(self.ca),
        }


def small_png_data_uri(size: int = 128) -> str:
    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).resize((size, size)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@contextmanager
def serving(
    data_dir: Path, env: dict[str, str], extra_args: list[str], ready_timeout: float = 30
) -> Iterator[Server]:
    """``openpika serve --tls`` on free ports (read back from its banner), healthy before it is
    yielded and stopped afterwards. ``env`` is added to this process's environment."""
    command = [
        sys.executable,
        "-m",
        "openpika.cli.main",
        "serve",
        "--tls",
        "--port",
        "0",
        "--queue-port",
        "0",
    ]
    command += [*extra_args, "--data-dir", str(data_dir), "--log-level", "warning"]
    full_env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OPENPIKA_HOST": "127.0.0.1", **env}
    process = subprocess.Popen(
        command, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    ports: dict[str, int] = {}
    banner: list[str] = []
    while len(ports) < 2:
        line = process.stdout.readline()
        if not line:
            pytest.fail("openpika serve exited early:\n" + "".join(banner))
        banner.append(line)
        match = re.search(r"^\s+(run|queue)\s.*:(\d+)$", line)
        if match:
            ports[match.group(1)] = int(match.group(2))
    server = Server(ports["run"], ports["queue"], data_dir / "tls" / "ca.pem", process)
    deadline = time.monotonic() + ready_timeout
    while True:
        try:
            health = httpx.get(f"https://localhost:{server.queue_port}/health", verify=server.tls())
            if health.status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail("openpika serve did not become healthy")
        time.sleep(0.1)
    try:
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        "OPENPIKA_API_KEYS": "e2e-key,other-key",
        "OPENPIKA_HEARTBEAT_SECONDS": "0.5",  # how fast a running job notices its cancel
        "OPENPIKA_FETCH_ALLOW_PRIVATE_HOSTS": "127.0.0.1",  # the webhook receiver of test_webhooks
        "OPENPIKA_ENGINE_OVERRIDES": json.dumps(
            {SLEEP_ENDPOINT: "fixture:sleep", PROGRESS_ENDPOINT: "fixture:progress"}
        ),
    }
    with serving(tmp_path_factory.mktemp("openpika-e2e"), env, ["--workers", "1"]) as running:
        yield running


def run_client(server: Server, code: str, timeout: float = 60) -> Any:
    """Run ``code`` in a child Python with fal_client pointed at ``server``; the code sets ``out``,
    which comes back JSON-decoded."""
    program = (
        "import json, fal_client\n"
        "from fal_client import FalClientHTTPError\n"
        "out = None\n" + textwrap.dedent(code) + "\nprint('@@OUT@@' + json.dumps(out))\n"
    )
    env = {**os.environ, **server.client_env(), "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout + done.stderr
    marker = [line for line in done.stdout.splitlines() if line.startswith("@@OUT@@")]
    assert marker, done.stdout + done.stderr
    return json.loads(marker[-1][len("@@OUT@@") :])
