"""What every fault test asserts about the end state: each job finished exactly once, every served
file is whole, the store and the file directory agree."""

from __future__ import annotations

from pathlib import Path

from openpika.jobs.model import Job, JobStatus
from openpika.jobs.store import JobStore
from openpika.media.probe import probe_video
from openpika.storage import keys_in_result


def done_messages(store: JobStore, job: Job) -> int:
    """How many attempts recorded a successful completion ("Done in ..." is logged only after the
    fenced ``complete`` returned True)."""
    return sum(1 for _, entry in store.logs(job.id) if entry.message.startswith("Done in"))


def assert_completed_once(store: JobStore, ids: list[str], files_root: Path, frames: int) -> list[Job]:
    jobs = [store.get(i) for i in ids]
    keys: list[str] = []
    for job in jobs:
        assert job is not None
        assert job.status is JobStatus.COMPLETED, (job.id, job.status)
        assert job.error is None, (job.id, job.error and job.error.message)
        assert done_messages(store, job) == 1, job.id
        job_keys = keys_in_result(job.result)
        assert len(job_keys) == 1, job.result
        keys += job_keys
    assert len(set(keys)) == len(keys), "two jobs share one output file"
    for key in keys:
        video = files_root / key / "output.mp4"
        assert video.is_file(), key
        assert probe_video(video).num_frames == frames, key
    assert_every_visible_file_is_whole(files_root, frames)
    return [job for job in jobs if job is not None]


def assert_every_visible_file_is_whole(files_root: Path, frames: int) -> None:
    """Whatever a download could reach (non-hidden key directories) is a complete video. Partial
    writes may only exist under hidden ``.tmp-*`` staging names, which are never served."""
    for directory in files_root.iterdir():
        if directory.name.startswith("."):
            continue
        video = directory / "output.mp4"
        assert video.is_file() and (directory / ".meta.json").is_file(), directory
        assert probe_video(video).num_frames == frames, directory
