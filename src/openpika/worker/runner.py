"""Run one claimed job: prepare -> engine -> encode -> store the file -> complete (fenced).

Every store write carries the job's ``attempt``; if the lease was lost (this worker was presumed dead
and the job re-claimed), the writes are refused and this runner stops without touching the result.
Any failure becomes the job's error result; nothing a job does can stop the worker loop.

Error results (status code, body, error_type):
- ``InputError`` / schema validation: 422 ``{"detail": [{loc, msg, type}]}`` + ``x-fal-billable-units: 0``
- ``Cancelled``: 499 ``{"detail": "Request was cancelled", "error_type": "request_cancelled"}``
- ``EngineUnavailable``: 503 ``{"detail", "error_type": "engine_unavailable"}``
- other ``OpenPikaError`` (e.g. ``StorageError`` 507): its own status and ``to_body()``
- anything else: 500 ``{"detail": "<ExceptionType>: <message>", "error_type": "engine_error"}``
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from ..endpoints import get_endpoint
from ..engines import select_engine
from ..engines.base import LogLevel, RunContext
from ..errors import Cancelled, EngineError, InputError, OpenPikaError
from ..jobs.model import Job, JobError, LogEntry
from ..jobs.outcomes import cancelled_error
from ..jobs.store import JobStore
from ..media.encode import encode_mp4
from ..settings import Settings
from ..storage import FileStore
from .prepare import build_task
from .workdirs import new_work_dir, sweep_abandoned_work_dirs

logger = logging.getLogger("openpika.worker")
OUTPUT_FILE_NAME = "output.mp4"
CANCEL_POLL_SECONDS = 0.25
ORPHAN_GRACE_SECONDS = 3600.0


class LeaseKeeper:
    """Renews the job's lease every ``interval`` seconds in a thread and remembers what the store said:
    ``lost`` (another attempt owns the job: stop, write nothing) and ``cancel_requested``.

    Between beats it also reads the job's cancel flag every ``CANCEL_POLL_SECONDS`` (a ``peek``: one
    small read, no input), so a cancel stops the engine within a fraction of a second even with the
    default 5 s heartbeat, without renewing the lease more often than configured."""

    def __init__(self, store: JobStore, job: Job, lease_seconds: float, interval: float) -> None:
        self._store, self._job = store, job
        self._lease_seconds, self._interval = lease_seconds, interval
        self.lost = False
        self.cancel_requested = job.cancel_requested
        self.shutting_down = threading.Event()  # set by a worker that must quit without finishing
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{job.id[:8]}", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def should_stop(self) -> bool:
        return self.lost or self.cancel_requested or self.shutting_down.is_set()

    def _run(self) -> None:
        next_beat = time.monotonic() + self._interval
        while not self._stop.wait(max(0.0, min(CANCEL_POLL_SECONDS, next_beat - time.monotonic()))):
            try:
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + self._interval
                    beat = self._store.heartbeat(self._job.id, self._job.attempt, self._lease_seconds)
                    self.cancel_requested = self.cancel_requested or beat.cancel_requested
                    if not beat.alive:
                        self.lost = True
                        return
                else:
                    seen = self._store.peek(self._job.id)
                    self.cancel_requested = self.cancel_requested or bool(seen and seen.cancel_requested)
            except Exception:  # a busy or flaky store: try again next time, the lease has slack
                logger.exception("lease upkeep for %s failed", self._job.id)


def error_for(exc: BaseException) -> JobError:
    """The job's error result for an exception raised while preparing, rendering or storing."""
    if isinstance(exc, ValidationError):
        detail = [
            {"loc": ["body", *err["loc"]], "msg": err["msg"], "type": err["type"]} for err in exc.errors()
        ]
        message = "; ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in detail)
        return JobError(422, {"detail": detail}, message, "validation_error", {"x-fal-billable-units": "0"})
    if isinstance(exc, InputError):
        return JobError(422, exc.to_body(), exc.message, "validation_error", {"x-fal-billable-units": "0"})
    if isinstance(exc, Cancelled):
        return cancelled_error()
    if isinstance(exc, OpenPikaError):
        return JobError(exc.status_code, exc.to_body(), exc.message, exc.error_type)
    summary = f"{type(exc).__name__}: {exc}"
    return JobError(500, {"detail": summary, "error_type": "engine_error"}, summary, "engine_error")


def _timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class JobRunner:
    def __init__(self, settings: Settings, store: JobStore, files: FileStore, worker_id: str) -> None:
        self.settings, self.store, self.files, self.worker_id = settings, store, files, worker_id
        sweep_abandoned_work_dirs()
        self.shutting_down = threading.Event()
        self._current: LeaseKeeper | None = None

    def abort_current(self) -> None:
        """Stop the running job without writing anything (worker shutdown); its lease will lapse and
        another worker will retry it."""
        self.shutting_down.set()
        if self._current is not None:
            self._current.shutting_down.set()

    def run_one(self) -> bool:
        """Claim and run one job; False when the queue had nothing to claim."""
        job = self.store.claim(self.worker_id, self.settings.lease_seconds, self.settings.max_attempts)
        if job is None:
            return False
        self.execute(job)
        return True

    def execute(self, job: Job) -> None:
        started = time.monotonic()
        tmp_dir = new_work_dir(job.id)
        lease = LeaseKeeper(self.store, job, self.settings.lease_seconds, self.settings.heartbeat_seconds)
        if self.shutting_down.is_set():
            lease.shutting_down.set()
        self._current = lease

        # Logs and progress are best effort: a store hiccup must not fail a render that is going well.
        def log(message: str, level: LogLevel = "INFO") -> None:
            try:
                self.store.append_log(job.id, LogEntry(message, level, _timestamp()))
            except Exception:
                logger.warning("job %s: could not store log line %r", job.id, message, exc_info=True)

        def progress(fraction: float) -> None:
            try:
                owned = self.store.set_progress(job.id, job.attempt, fraction)
            except Exception:
                logger.warning("job %s: could not store progress", job.id, exc_info=True)
                return
            if not owned:
                lease.lost = True

        ctx = RunContext(
            request_id=job.id,
            tmp_dir=tmp_dir,
            on_log=log,
            on_progress=progress,
            is_cancelled=lease.should_stop,
        )
        stored_key: str | None = None
        try:
            with lease:
                if job.attempt > 1:
                    log(
                        f"Retrying: attempt {job.attempt} of {self.settings.max_attempts} (worker {self.worker_id})"
                    )
                output, stored_key = self._render(job, ctx, log)
            if lease.lost or lease.shutting_down.is_set():
                raise Cancelled()
            # Logged before completing: a client stops reading logs once it sees COMPLETED.
            log(f"Done in {time.monotonic() - started:.1f} s")
            if self.store.complete(job.id, job.attempt, output):
                stored_key = None  # the job owns the file now
            else:
                logger.warning("job %s attempt %d lost its lease before completing", job.id, job.attempt)
        except BaseException as exc:
            self._record_failure(job, lease, exc, log)
            if not isinstance(exc, Exception):
                raise  # KeyboardInterrupt / SystemExit: after recording, let them through
        finally:
            self._current = None
            if stored_key is not None:
                self.files.delete(stored_key)
            shutil.rmtree(tmp_dir, ignore_errors=True)

    def _record_failure(self, job: Job, lease: LeaseKeeper, exc: BaseException, log: Any) -> None:
        if lease.lost or lease.shutting_down.is_set():
            logger.info(
                "job %s attempt %d stopped without a result (lease lost or shutdown)", job.id, job.attempt
            )
            return
        error = error_for(exc)
        if error.status_code >= 500 and not isinstance(exc, OpenPikaError):
            logger.error("job %s failed", job.id, exc_info=exc)
        try:
            log(f"Error: {error.message}", "ERROR")
            self.store.fail(job.id, job.attempt, error)
        except Exception:
            logger.exception("could not record the failure of job %s", job.id)

    def _render(self, job: Job, ctx: RunContext, log: Any) -> tuple[dict[str, Any], str]:
        spec = get_endpoint(job.endpoint_id)
        if spec is None:
            raise EngineError(f"unknown endpoint {job.endpoint_id!r}")
        request = spec.input_model.model_validate(job.input)
        task = build_task(spec, request, self.settings, log)
        ctx.check_cancelled()
        engine = select_engine(self.settings.engine_for(spec.endpoint_id), task)
        out = task.output
        log(f"Rendering {out.num_frames} frames at {out.width}x{out.height} ({engine.name} engine)")
        clip = engine.run(task, ctx)
        if (clip.width, clip.height, clip.num_frames) != (out.width, out.height, out.num_frames):
            raise EngineError(
                f"the {engine.name} engine returned {clip.num_frames} frames at {clip.width}x{clip.height}, "
                f"expected {out.num_frames} at {out.width}x{out.height}"
            )
        log("Encoding")
        preset = clip.encoder_preset or (
            self.settings.x264_preset_turbo if spec.turbo else self.settings.x264_preset
        )
        video_path = ctx.tmp_dir / OUTPUT_FILE_NAME
        encode_mp4(
            clip.iter_frames(),
            video_path,
            width=clip.width,
            height=clip.height,
            fps=clip.fps,
            preset=preset,
            crf=self.settings.x264_crf,
            expected_frames=clip.num_frames,
            on_frame=lambda _: ctx.check_cancelled(),
        )
        ctx.check_cancelled()
        # The job's own purge deletes the file after the retention time; the expiry (an hour later) is
        # for the file of an attempt killed between storing and completing, which no job points at.
        expires_at = time.time() + self.settings.result_ttl_seconds + ORPHAN_GRACE_SECONDS
        stored = self.files.save(
            video_path, content_type="video/mp4", file_name=OUTPUT_FILE_NAME, expires_at=expires_at
        )
        base = (
            job.file_base_url or self.settings.public_url or f"http://127.0.0.1:{self.settings.port}"
        ).rstrip("/")
        video = {
            "url": f"{base}/files/{stored.key}/{stored.file_name}",
            "content_type": stored.content_type,
            "file_name": stored.file_name,
            "file_size": stored.size,
        }
        return {"video": video}, stored.key
