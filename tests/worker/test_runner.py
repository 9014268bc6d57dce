"""JobRunner with fixture engines: the output File, the job log, each error shape, cancel, fencing."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openpika.errors import StorageError
from openpika.jobs import JobStatus
from openpika.media.probe import probe_video, read_frames
from openpika.worker.workdirs import ROOT_NAME

from .conftest import Rig, t2v_input


def leftover_temp_dirs() -> list[Path]:
    """What jobs left in the test's temp root (the rig points ``tempfile.tempdir`` there)."""
    root = Path(str(tempfile.tempdir))
    return [p for p in root.rglob("*") if p != root / ROOT_NAME]


def wait_for(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def test_success_stores_a_real_mp4_and_completes_with_a_fal_file(rig: Rig) -> None:
    request_id = rig.submit(file_base_url="https://caller.example:8443")
    assert rig.runner().run_one() is True
    job = rig.job(request_id)
    assert job.status is JobStatus.COMPLETED and job.error is None and job.attempt == 1
    video = job.result["video"] if job.result else {}
    assert set(video) == {"url", "content_type", "file_name", "file_size"}
    assert video["content_type"] == "video/mp4" and video["file_name"] == "output.mp4"
    prefix = "https://caller.example:8443/files/"
    assert video["url"].startswith(prefix) and video["url"].endswith("/output.mp4")
    key = video["url"][len(prefix) :].split("/")[0]
    path = rig.files.path_for(key)
    assert path is not None and path.stat().st_size == video["file_size"]
    info = probe_video(path)
    assert (info.width, info.height, info.num_frames, info.fps) == (1280, 720, 24, 24)
    assert info.codec == "h264" and info.pix_fmt == "yuv420p" and info.faststart
    frames = read_frames(path)
    assert frames[0][..., 0].mean() < 5 < 250 < frames[-1][..., 0].mean()  # the fixture's red ramp survived
    messages = rig.messages(request_id)
    assert "Rendering 24 frames at 1280x720 (fixture:ok engine)" in messages
    assert "Encoding" in messages
    assert messages[-1].startswith("Done in ") and messages[-1].endswith(" s")
    assert leftover_temp_dirs() == []  # temp dir removed


def test_file_url_falls_back_to_public_url_then_loopback(rig: Rig) -> None:
    first = rig.submit()
    rig.runner().run_one()
    assert rig.job(first).result["video"]["url"].startswith("https://pika.example/files/")
    second = rig.submit()
    rig.runner(public_url=None, port=9123).run_one()
    assert rig.job(second).result["video"]["url"].startswith("http://127.0.0.1:9123/files/")


def test_no_seed_means_a_random_seed_that_is_logged(rig: Rig) -> None:
    payload = t2v_input()
    del payload["seed"]
    request_id = rig.submit(payload)
    rig.runner().run_one()
    assert any(m.startswith("No seed given; using seed ") for m in rig.messages(request_id))


def test_engine_exception_is_a_500_and_the_worker_carries_on(rig: Rig) -> None:
    failing = rig.submit()
    fine = rig.submit()
    runner = rig.runner(engine_overrides={})
    runner.settings = runner.settings.model_copy(update={"engine": "fixture:fail"})
    assert runner.run_one() is True
    job = rig.job(failing)
    assert job.status is JobStatus.COMPLETED and job.result is None and job.error is not None
    assert job.error.status_code == 500 and job.error.error_type == "engine_error"
    assert job.error.body == {
        "detail": "RuntimeError: fixture engine failed on purpose",
        "error_type": "engine_error",
    }
    assert rig.messages(failing)[-1] == "Error: RuntimeError: fixture engine failed on purpose"
    runner.settings = runner.settings.model_copy(update={"engine": "fixture:ok"})
    assert runner.run_one() is True
    assert rig.job(fine).error is None
    assert leftover_temp_dirs() == []


def test_unavailable_engine_is_a_503(rig: Rig) -> None:
    request_id = rig.submit()
    rig.runner(engine="fixture:unavailable").run_one()
    error = rig.job(request_id).error
    assert error is not None and error.status_code == 503 and error.error_type == "engine_unavailable"
    assert error.body["error_type"] == "engine_unavailable"
    assert "refuses every task" in error.body["detail"]


def test_wrong_frame_count_fails_and_stores_nothing(rig: Rig) -> None:
    request_id = rig.submit()
    rig.runner(engine="fixture:bad-output").run_one()
    error = rig.job(request_id).error
    assert error is not None and error.status_code == 500
    assert "23 frames, expected 24" in error.message
    assert rig.stored_files() == []


def test_invalid_input_is_a_422_in_fastapi_shape(rig: Rig) -> None:
    request_id = rig.submit({"duration": 99})
    rig.runner().run_one()
    error = rig.job(request_id).error
    assert error is not None and error.status_code == 422
    assert error.headers == {"x-fal-billable-units": "0"}
    locs = {tuple(item["loc"]) for item in error.body["detail"]}
    assert ("body", "prompt") in locs and ("body", "duration") in locs
    assert all(set(item) == {"loc", "msg", "type"} for item in error.body["detail"])


def test_unfetchable_media_is_a_422_naming_the_field(rig: Rig) -> None:
    request_id = rig.submit(
        {"image_url": "data:image/png;base64,bm90IGFuIGltYWdl", "prompt": "x", "duration": 1},
        endpoint="fal-ai/pika/v2.1/image-to-video",
    )
    rig.runner().run_one()
    error = rig.job(request_id).error
    assert error is not None and error.status_code == 422, error
    (item,) = error.body["detail"]
    assert item["loc"] == ["body", "image_url"] and item["msg"]


def test_cancel_while_running_stops_the_engine_quickly(rig: Rig) -> None:
    request_id = rig.submit(t2v_input("sleep=30"))
    # The default 5 s heartbeat: the cancel must still be seen within a fraction of a second.
    runner = rig.runner(engine="fixture:sleep", heartbeat_seconds=5.0)
    thread = threading.Thread(target=runner.run_one)
    thread.start()
    wait_for(lambda: rig.job(request_id).status is JobStatus.IN_PROGRESS)
    time.sleep(0.2)
    cancelled_at = time.monotonic()
    assert rig.store.request_cancel(request_id) == "CANCELLATION_REQUESTED"
    thread.join(10)
    assert not thread.is_alive()
    assert time.monotonic() - cancelled_at < 1.5
    job = rig.job(request_id)
    assert job.status is JobStatus.COMPLETED and job.error is not None
    assert job.error.status_code == 499
    assert job.error.body == {"detail": "Request was cancelled", "error_type": "request_cancelled"}
    assert rig.stored_files() == []


def test_progress_is_recorded_through_the_store(rig: Rig) -> None:
    request_id = rig.submit(t2v_input("sleep=1.0"))
    runner = rig.runner(engine="fixture:sleep")
    thread = threading.Thread(target=runner.run_one)
    thread.start()
    seen: set[float] = set()
    while thread.is_alive():
        seen.add(rig.job(request_id).progress)
        time.sleep(0.05)
    assert any(0.0 < p < 1.0 for p in seen)
    assert rig.job(request_id).progress == 1.0


def test_a_worker_that_lost_its_lease_writes_nothing(rig: Rig) -> None:
    request_id = rig.submit(t2v_input("sleep=1.5"))
    # The slow worker never renews its 0.3 s lease (heartbeat every 60 s), like a stalled process.
    slow = rig.runner("slow", engine="fixture:sleep", lease_seconds=0.3, heartbeat_seconds=60.0)
    thread = threading.Thread(target=slow.run_one)
    thread.start()
    wait_for(lambda: rig.job(request_id).status is JobStatus.IN_PROGRESS)
    time.sleep(0.5)
    thief = rig.store.claim("thief", 30.0, 3)
    assert thief is not None and thief.attempt == 2
    thread.join(10)
    job = rig.job(request_id)
    assert job.status is JobStatus.IN_PROGRESS and job.worker_id == "thief" and job.error is None
    assert rig.stored_files() == []  # the stale attempt's output was not kept
    assert rig.store.complete(request_id, 2, {"video": {"url": "by-thief"}})


def test_job_for_an_unknown_endpoint_fails_cleanly(rig: Rig) -> None:
    request_id = rig.submit(endpoint="fal-ai/pika/v9/nope")
    rig.runner().run_one()
    error = rig.job(request_id).error
    assert error is not None and error.status_code == 500 and "unknown endpoint" in error.message


def test_every_frame_reaches_the_file_in_order(rig: Rig) -> None:
    request_id = rig.submit(t2v_input(), endpoint="fal-ai/pika/v2/turbo/text-to-video")
    rig.runner().run_one()
    job = rig.job(request_id)
    assert job.error is None and job.result is not None
    key = job.result["video"]["url"].split("/files/")[1].split("/")[0]
    path = rig.files.path_for(key)
    assert path is not None
    frames = read_frames(path)
    assert frames.shape == (24, 720, 1280, 3)
    # Red rises along the clip (the fixture's ramp), within x264's tolerance.
    red = frames[..., 0].mean(axis=(1, 2))
    assert np.all(np.diff(red) > -2) and red[-1] - red[0] > 200


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [("fal-ai/pika/v2/turbo/text-to-video", "ultrafast"), ("fal-ai/pika/v2.1/text-to-video", "veryfast")],
)
def test_x264_preset_follows_the_tier_unless_the_clip_asks(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, endpoint: str, expected: str
) -> None:
    from openpika.engines import fixtures
    from openpika.worker import runner as runner_module

    real_clip, real_encode = fixtures._clip, runner_module.encode_mp4
    presets: list[str] = []

    def clip_without_preference(*args: Any, **kwargs: Any) -> Any:
        clip = real_clip(*args, **kwargs)
        clip.encoder_preset = None
        return clip

    def recording_encode(*args: Any, **kwargs: Any) -> int:
        presets.append(kwargs["preset"])
        return real_encode(*args, **kwargs)

    monkeypatch.setattr(fixtures, "_clip", clip_without_preference)
    monkeypatch.setattr(runner_module, "encode_mp4", recording_encode)
    rig.submit(t2v_input(), endpoint=endpoint)
    rig.runner().run_one()
    assert presets == [expected]
    monkeypatch.setattr(fixtures, "_clip", real_clip)  # the fixture asks for ultrafast itself
    rig.submit(t2v_input(), endpoint="fal-ai/pika/v2.1/text-to-video")
    rig.runner().run_one()
    assert presets == [expected, "ultrafast"]


def test_storage_failure_is_a_507_and_leaves_no_temp_files(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    def disk_full(*args: object, **kwargs: object) -> None:
        raise StorageError("could not store 'output.mp4': No space left on device")

    monkeypatch.setattr(rig.files, "save", disk_full)
    request_id = rig.submit()
    rig.runner().run_one()
    error = rig.job(request_id).error
    assert error is not None and error.status_code == 507 and error.error_type == "storage_error"
    assert error.body == {
        "detail": "could not store 'output.mp4': No space left on device",
        "error_type": "storage_error",
    }
    assert leftover_temp_dirs() == []


def test_a_flaky_log_or_progress_store_does_not_fail_the_job(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("database is locked")

    monkeypatch.setattr(rig.store, "append_log", broken)
    monkeypatch.setattr(rig.store, "set_progress", broken)
    request_id = rig.submit(t2v_input("sleep=0.3"))
    rig.runner(engine="fixture:sleep").run_one()
    job = rig.job(request_id)
    assert job.status is JobStatus.COMPLETED and job.error is None and job.result is not None
