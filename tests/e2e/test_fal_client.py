"""The official fal-client, unmodified, against a real ``openpika serve --tls`` (fal-protocol.md §8)."""

from __future__ import annotations

import textwrap
from typing import Any

import httpx
import pytest

from openpika.media.probe import probe_video
from tests.e2e.conftest import (
    CLASSIC_ENDPOINT,
    PROGRESS_ENDPOINT,
    SLEEP_ENDPOINT,
    Server,
    run_client,
    small_png_data_uri,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

IMAGE = small_png_data_uri()


def client(server: Server, code: str) -> Any:
    return run_client(server, f"IMAGE = {IMAGE!r}\n" + textwrap.dedent(code))


def test_run_answers_the_output_and_the_video_downloads(server: Server) -> None:
    out = client(
        server,
        f"""
        out = fal_client.run({PROGRESS_ENDPOINT!r}, {{"image_url": IMAGE, "prompt": "p", "duration": 1}})
    """,
    )
    video = out["video"]
    assert video["content_type"] == "video/mp4" and video["file_name"].endswith(".mp4")
    assert video["url"].startswith(f"https://localhost:{server.run_port}/files/")  # files are on both ports
    response = httpx.get(video["url"], verify=server.tls())
    assert response.status_code == 200 and response.content[4:8] == b"ftyp"
    assert len(response.content) == video["file_size"]


def test_submit_status_with_logs_then_result(server: Server) -> None:
    out = client(
        server,
        f"""
        handle = fal_client.submit({PROGRESS_ENDPOINT!r}, {{"image_url": IMAGE, "prompt": "p", "duration": 1}})
        kinds, logs = [], []
        for status in handle.iter_events(with_logs=True, interval=0.05):
            kinds.append(type(status).__name__)
            logs = status.logs if getattr(status, "logs", None) is not None else logs
        final = fal_client.status({PROGRESS_ENDPOINT!r}, handle.request_id, with_logs=True)
        out = {{"kinds": kinds, "logs": logs, "metrics": final.metrics, "error": final.error,
                "result": fal_client.result({PROGRESS_ENDPOINT!r}, handle.request_id),
                "same": handle.get() == fal_client.result({PROGRESS_ENDPOINT!r}, handle.request_id)}}
    """,
    )
    assert out["kinds"][-1] == "Completed"
    assert out["logs"] and all({"message", "level", "timestamp"} <= set(entry) for entry in out["logs"])
    assert out["metrics"]["inference_time"] > 0 and out["error"] is None
    assert out["result"]["video"]["url"].endswith(".mp4") and out["same"]


def test_cancel_queued_and_running(server: Server) -> None:
    out = client(
        server,
        f"""
        import time
        slow = fal_client.submit({SLEEP_ENDPOINT!r}, {{"image_url": IMAGE, "prompt": "sleep=20", "duration": 1}})
        while not isinstance(slow.status(), fal_client.InProgress):
            time.sleep(0.05)
        queued = fal_client.submit({SLEEP_ENDPOINT!r}, {{"image_url": IMAGE, "prompt": "sleep=20", "duration": 1}})
        position = queued.status().position
        queued.cancel()
        slow.cancel()
        outcomes = {{}}
        for name, handle in {{"queued": queued, "running": slow}}.items():
            for status in handle.iter_events(interval=0.05):
                pass
            try:
                handle.get()
                outcomes[name] = "no error"
            except FalClientHTTPError as exc:
                outcomes[name] = [status.error_type, exc.status_code]
        try:
            slow.cancel()
            again = "no error"
        except FalClientHTTPError as exc:
            again = [exc.status_code, exc.message]
        out = {{"position": position, "outcomes": outcomes, "again": again}}
    """,
    )
    assert out["position"] == 0
    assert out["outcomes"] == {"queued": ["request_cancelled", 499], "running": ["request_cancelled", 499]}
    assert out["again"][0] == 400 and "ALREADY_COMPLETED" in out["again"][1]


def test_subscribe_with_queue_updates(server: Server) -> None:
    out = client(
        server,
        f"""
        updates = []
        result = fal_client.subscribe({PROGRESS_ENDPOINT!r}, {{"image_url": IMAGE, "prompt": "p", "duration": 1}},
                                      with_logs=True, interval=0.05,
                                      on_queue_update=lambda s: updates.append(type(s).__name__))
        out = {{"result": result, "updates": updates}}
    """,
    )
    assert out["updates"][-1] == "Completed"
    assert out["result"]["video"]["url"].endswith(".mp4")


def test_validation_error_and_media_error_surface_as_fal_client_http_error(server: Server) -> None:
    out = client(
        server,
        f"""
        errors = []
        try:
            fal_client.submit({PROGRESS_ENDPOINT!r}, {{"prompt": "no image"}})
        except FalClientHTTPError as exc:
            errors.append([exc.status_code, exc.message])
        try:  # valid schema, undecodable image: the job's own 422 result
            fal_client.subscribe({PROGRESS_ENDPOINT!r}, {{"image_url": "data:image/png;base64,AAAA", "prompt": "p"}},
                                 interval=0.05)
        except FalClientHTTPError as exc:
            errors.append([exc.status_code, exc.message])
        out = errors
    """,
    )
    (schema_code, schema_detail), (media_code, media_detail) = out
    assert schema_code == 422 and schema_detail[0]["loc"] == ["body", "image_url"]
    assert media_code == 422 and media_detail[0]["loc"][:2] == ["body", "image_url"]


def test_streaming_run_yields_status_events_then_the_output(server: Server) -> None:
    out = client(
        server,
        f"""
        out = list(fal_client.stream({PROGRESS_ENDPOINT!r}, {{"image_url": IMAGE, "prompt": "p", "duration": 1}}))
    """,
    )
    assert out[-1]["video"]["url"].endswith(".mp4")
    assert out[-2]["status"] == "COMPLETED"


def test_a_key_cannot_see_another_keys_request(server: Server) -> None:
    out = client(
        server,
        f"""
        handle = fal_client.submit({PROGRESS_ENDPOINT!r}, {{"image_url": IMAGE, "prompt": "p", "duration": 1}})
        other = fal_client.SyncClient(key="other-key")
        try:
            other.status({PROGRESS_ENDPOINT!r}, handle.request_id)
            out = "visible"
        except FalClientHTTPError as exc:
            out = exc.status_code
        handle.get()
    """,
    )
    assert out == 404


def test_upload_through_the_python_clients_storage_calls(server: Server) -> None:
    """fal_client's upload hosts are constants; option (d) of fal-protocol.md §7 repoints them."""
    base = f"https://localhost:{server.queue_port}"
    out = client(
        server,
        f"""
        import fal_client.client as module
        module.REST_URL = {base!r}
        module.CDN_URL = {base!r}
        url = fal_client.SyncClient().upload(b"openpika upload", "text/plain", file_name="note.txt")
        out = url
    """,
    )
    assert out.startswith(base + "/files/") and out.endswith("/note.txt")
    assert httpx.get(out, verify=server.tls()).content == b"openpika upload"


def test_uploaded_files_are_usable_as_job_inputs(server: Server, tmp_path: object) -> None:
    """Both upload flows hand out https://localhost/... URLs, which the worker's SSRF guard refuses
    to fetch (loopback): the worker must read them from its own file store instead."""
    import base64

    base = f"https://localhost:{server.queue_port}"
    png = tmp_path / "astronaut.png"  # type: ignore[operator]
    png.write_bytes(base64.b64decode(IMAGE.split(",", 1)[1]))
    # The initiate flow (the JS client's): file_url names an alias, resolved once the PUT lands.
    auth = {"Authorization": "Key e2e-key"}
    initiated = httpx.post(
        base + "/storage/upload/initiate",
        json={"file_name": "astronaut.png", "content_type": "image/png"},
        headers=auth,
        verify=server.tls(),
    ).json()
    put = httpx.put(
        initiated["upload_url"],
        content=png.read_bytes(),
        headers={"Content-Type": "image/png"},
        verify=server.tls(),
    )
    assert put.status_code == 200
    out = client(
        server,
        f"""
        import fal_client.client as module
        module.REST_URL = {base!r}
        module.CDN_URL = {base!r}
        uploaded = fal_client.SyncClient().upload_file({str(png)!r})
        outputs = {{}}
        for name, url in {{"upload_file": uploaded, "initiate": {initiated["file_url"]!r}}}.items():
            outputs[name] = fal_client.subscribe({PROGRESS_ENDPOINT!r}, {{"image_url": url, "prompt": "p", "duration": 1}},
                                                 interval=0.05)
        out = {{"uploaded": uploaded, "outputs": outputs}}
    """,
    )
    assert out["uploaded"].startswith(base + "/files/") and out["uploaded"].endswith("/astronaut.png")
    for output in out["outputs"].values():
        assert output["video"]["url"].endswith(".mp4")


def test_real_classic_engine_image_to_video(server: Server, tmp_path: object) -> None:
    out = client(
        server,
        f"""
        out = fal_client.subscribe({CLASSIC_ENDPOINT!r}, {{"image_url": IMAGE, "prompt": "slow dolly in", "seed": 42}},
                                   interval=0.1)
    """,
    )
    response = httpx.get(out["video"]["url"], verify=server.tls())
    assert response.status_code == 200
    path = tmp_path / "i2v.mp4"  # type: ignore[operator]
    path.write_bytes(response.content)
    info = probe_video(path)
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p")
    assert info.fps == 24 and info.num_frames == 120 and abs(info.duration - 5.0) < 0.05
    assert min(info.width, info.height) == 720
    assert info.faststart
