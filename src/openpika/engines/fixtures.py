"""Fixture engines, one per failure mode, so queue, worker and API tests need no real engine.

Select them with ``Settings(engine="fixture:<name>")`` or per endpoint with ``engine_overrides``:

- ``ok``: a correct clip at once (a colour ramp, so every frame differs).
- ``sleep``: sleeps, reporting progress and honouring cancel, then a correct clip. The prompt may set
  the time: ``"sleep=2.5"`` (seconds; default 1).
- ``progress``: logs and reports progress in ten steps, then a correct clip.
- ``fail``: raises in ``run`` (an unhandled engine bug: the job's result is a 500).
- ``unavailable``: ``availability`` refuses every task (503 engine_unavailable).
- ``crash``: kills its own process with SIGKILL, as an out-of-memory kill would. Only for worker
  processes: in a server's in-process worker it would take the server down.
- ``bad-output``: promises ``num_frames`` frames and yields one fewer.

Every clip has the task's size, fps and frame count and asks for the fastest x264 preset.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator

import numpy as np

from ..errors import EngineUnavailable
from .base import Clip, Frame, RunContext
from .tasks import OutputSpec

_SECONDS = re.compile(r"sleep=([0-9]*\.?[0-9]+)")


def _output_of(task: object) -> OutputSpec:
    output = getattr(task, "output", None)
    if not isinstance(output, OutputSpec):
        raise TypeError(f"fixture engines need a task with an OutputSpec, got {type(task).__name__}")
    return output


def _ramp_frames(spec: OutputSpec, count: int, ctx: RunContext, start: float) -> Iterator[Frame]:
    """Frames report progress from ``start`` (work done before rendering) up to 1."""
    for i in range(count):
        shade = int(255 * i / max(1, spec.num_frames - 1))
        frame = np.empty((spec.height, spec.width, 3), dtype=np.uint8)
        frame[..., 0] = shade
        frame[..., 1] = 255 - shade
        frame[..., 2] = 96
        ctx.progress(start + (1.0 - start) * (i + 1) / spec.num_frames)
        yield frame


def _clip(
    spec: OutputSpec, ctx: RunContext, *, start: float = 0.0, frames_yielded: int | None = None
) -> Clip:
    count = spec.num_frames if frames_yielded is None else frames_yielded
    return Clip(
        width=spec.width,
        height=spec.height,
        fps=spec.fps,
        num_frames=spec.num_frames,
        frames=_ramp_frames(spec, count, ctx, start),
        encoder_preset="ultrafast",
    )


class FixtureEngine:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.name = f"fixture:{mode}"

    def supports(self, task: object) -> bool:
        return isinstance(getattr(task, "output", None), OutputSpec)

    def availability(self, task: object) -> str | None:
        if self.mode == "unavailable":
            return "the 'unavailable' fixture engine refuses every task (as a missing model would)"
        return None

    def run(self, task: object, ctx: RunContext) -> Clip:
        spec = _output_of(task)
        if self.mode == "sleep":
            self._sleep(task, ctx)
            return _clip(spec, ctx, start=0.5)
        if self.mode == "progress":
            for step in range(1, 11):
                ctx.log(f"fixture step {step}/10")
                ctx.progress(step / 20)
            return _clip(spec, ctx, start=0.5)
        if self.mode == "fail":
            raise RuntimeError("fixture engine failed on purpose")
        if self.mode == "unavailable":
            raise EngineUnavailable(self.availability(task) or "")
        if self.mode == "crash":
            ctx.log("fixture engine is about to SIGKILL its own process", "WARN")
            os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(10)  # SIGKILL is asynchronous; never return from here
        if self.mode == "bad-output":
            return _clip(spec, ctx, frames_yielded=spec.num_frames - 1)
        return _clip(spec, ctx)

    @staticmethod
    def _sleep(task: object, ctx: RunContext) -> None:
        match = _SECONDS.search(str(getattr(task, "prompt", "") or ""))
        seconds = float(match.group(1)) if match else 1.0
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < seconds:
            ctx.progress(0.5 * elapsed / seconds)  # a cancellation point, too
            time.sleep(min(0.02, seconds - elapsed))


_MODES = ("ok", "sleep", "progress", "fail", "unavailable", "crash", "bad-output")


def get_fixture_engine(name: str) -> FixtureEngine:
    if name not in _MODES:
        raise EngineUnavailable(f"unknown fixture engine {name!r}; known: {', '.join(_MODES)}")
    return FixtureEngine(name)
