"""`openpika serve` with the neural engine on the tiny models: every endpoint through the official
fal client, unchanged (noise videos of the requested size, length and 24 fps)."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from openpika.media.probe import probe_video
from tests.e2e.conftest import Server, run_client, serving

from .conftest import picture

pytestmark = [pytest.mark.neural, pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(300)]


def png_uri(seed: int) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(picture(64, 64, seed)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def mp4_uri(tmp: Path) -> str:
    from openpika.media.encode import encode_mp4

    base = picture(64, 48)
    path = tmp / "input.mp4"
    encode_mp4((np.roll(base, i, axis=1) for i in range(12)), path, width=64, height=48, fps=24)
    return "data:video/mp4;base64," + base64.b64encode(path.read_bytes()).decode()


@pytest.fixture(scope="module")
def neural_server(tiny_models: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        "OPENPIKA_API_KEYS": "e2e-key",
        "OPENPIKA_MODELS_DIR": str(tiny_models),
        "OPENPIKA_NEURAL_CPU_THREADS": "1",
        "OPENPIKA_NEURAL_MAX_LOADED_MODELS": "8",
        "OPENPIKA_X264_PRESET": "ultrafast",  # the videos are noise: encode them fast
    }
    args = ["--workers", "1", "--engine", "neural"]
    with serving(tmp_path_factory.mktemp("neural-serve"), env, args, ready_timeout=60) as running:
        yield running


def requests(tmp: Path) -> dict[str, tuple[dict[str, Any], tuple[int, int, int]]]:
    """endpoint → (arguments, expected (width, height, frames)) at the smallest sizes each schema allows."""
    a, b, video = png_uri(0), png_uri(1), mp4_uri(tmp)
    square = {"aspect_ratio": "1:1", "resolution": "720p"}
    return {
        "fal-ai/pika/v2/turbo/image-to-video": (
            {"image_url": a, "prompt": "a cat", "duration": 1},
            (720, 720, 24),
        ),
        "fal-ai/pika/v2.1/image-to-video": (
            {"image_url": a, "prompt": "a cat", "duration": 1},
            (720, 720, 24),
        ),
        "fal-ai/pika/v2.2/image-to-video": (
            {"image_url": a, "prompt": "a cat", "duration": 5},
            (720, 720, 120),
        ),
        "fal-ai/pika/v2/turbo/text-to-video": (
            {"prompt": "a lighthouse", "duration": 1, **square},
            (720, 720, 24),
        ),
        "fal-ai/pika/v2.1/text-to-video": (
            {"prompt": "a lighthouse", "duration": 1, **square},
            (720, 720, 24),
        ),
        "fal-ai/pika/v2.2/text-to-video": (
            {"prompt": "a lighthouse", "duration": 5, **square},
            (720, 720, 120),
        ),
        "fal-ai/pika/v2.2/pikaframes": (
            {"image_urls": [a, b], "transitions": [{"duration": 1, "prompt": "smooth"}]},
            (720, 720, 25),
        ),
        "fal-ai/pika/v2.2/pikascenes": (
            {"image_urls": [a, b], "prompt": "a cat", "duration": 5, **square},
            (720, 720, 120),
        ),
        "fal-ai/pika/v2.1/pikascenes": (
            {"images": [{"image_url": a}, {"image_url": b}], "prompt": "a cat", "duration": 1, **square},
            (720, 720, 24),
        ),
        "fal-ai/pika/v1.5/pikaffects": ({"image_url": a, "pikaffect": "Squish"}, (64, 64, 120)),
        "fal-ai/pika/v2/pikadditions": (
            {"video_url": video, "image_url": b, "prompt": "add a cat"},
            (64, 48, 12),
        ),
        "fal-ai/pika/v2/pikaswaps": (
            {"video_url": video, "image_url": b, "modify_region": "the shirt"},
            (64, 48, 12),
        ),
    }


def test_every_endpoint_serves_a_video_through_the_fal_client(neural_server: Server, tmp_path: Path) -> None:
    cases = requests(tmp_path)
    arguments = {endpoint: dict(args, seed=5) for endpoint, (args, _) in cases.items()}
    requests_file = tmp_path / "requests.json"  # data URIs are too long for a command line
    requests_file.write_text(json.dumps(arguments))
    out = run_client(
        neural_server,
        f"""
        out = {{}}
        requests = json.loads(open({str(requests_file)!r}).read())
        IMAGE = requests["fal-ai/pika/v1.5/pikaffects"]["image_url"]
        for endpoint, args in requests.items():
            handle = fal_client.submit(endpoint, args)
            logs = []
            for status in handle.iter_events(with_logs=True, interval=0.05):
                logs = status.logs if getattr(status, "logs", None) is not None else logs
            out[endpoint] = {{"result": handle.get(), "logs": [entry["message"] for entry in logs]}}
        try:  # an effect without a LoRA: the neural engine cannot run it and says why
            fal_client.run("fal-ai/pika/v1.5/pikaffects", {{"image_url": IMAGE, "pikaffect": "Levitate"}})
        except FalClientHTTPError as exc:
            out["levitate"] = {{"status": exc.status_code, "message": exc.message}}
        """,
        timeout=240,
    )
    levitate = out["levitate"]
    assert (
        levitate["status"] == 503
        and "no effect LoRA is declared for the Pikaffect 'Levitate'" in levitate["message"]
    )
    for endpoint, (_, (width, height, frames)) in cases.items():
        result, logs = out[endpoint]["result"], out[endpoint]["logs"]
        assert any("denoising step 2/2" in line for line in logs), (endpoint, logs)
        response = httpx.get(result["video"]["url"], verify=neural_server.tls())
        path = tmp_path / (endpoint.replace("/", "_") + ".mp4")
        path.write_bytes(response.content)
        info = probe_video(path)
        assert (info.width, info.height, info.num_frames, round(info.fps)) == (width, height, frames, 24), (
            endpoint
        )
