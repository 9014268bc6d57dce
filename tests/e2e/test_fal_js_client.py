"""The official JavaScript client in proxy mode (fal-protocol.md §8). Needs node and an installed
@fal-ai/client: ``npm install --prefix DIR @fal-ai/client`` and ``OPENPIKA_FAL_JS_DIR=DIR``.
CI has neither, so it skips there; run it by hand when touching the protocol."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

JS_DIR = os.environ.get("OPENPIKA_FAL_JS_DIR", "")


@pytest.mark.skipif(
    not (shutil.which("node") and JS_DIR and Path(JS_DIR, "node_modules", "@fal-ai", "client").is_dir()),
    reason="needs node and OPENPIKA_FAL_JS_DIR with @fal-ai/client installed",
)
def test_js_client_through_proxy_mode(server: Server, tmp_path: Path) -> None:
    from PIL import Image
    from skimage import data

    image = tmp_path / "a.png"
    Image.fromarray(data.astronaut()).resize((96, 96)).save(image)
    script = Path(JS_DIR) / "openpika_fal_js_client.mjs"  # node resolves imports next to the script
    shutil.copyfile(Path(__file__).parent / "js" / "fal_js_client.mjs", script)
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(server.ca)}
    done = subprocess.run(
        ["node", str(script), str(server.queue_port), str(image)],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["updates"][-1][0] == "COMPLETED"
    log_counts = [count for _, count in out["updates"] if count is not None]
    assert log_counts == sorted(log_counts), "JS accumulates logs: each entry must arrive once"
    for result in (out["streamed"], out["polled"], out["run"]):
        assert result["video"]["content_type"] == "video/mp4"
    assert out["error"]["name"] == "ValidationError" and out["error"]["status"] == 422
    assert out["error"]["body"]["detail"][0]["loc"] == ["body", "image_url"]
    assert httpx.get(out["uploaded"], verify=server.tls()).content == image.read_bytes()
