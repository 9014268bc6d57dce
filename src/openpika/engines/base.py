"""The engine seam: a typed task plus a RunContext in, a Clip (frames) out.

Engines know nothing of HTTP, queues or storage. They report progress and logs through the
context, and call ``ctx.check_cancelled()`` between units of work (a frame, a denoising step) so a
cancel stops them within a fraction of a second. The worker encodes the clip and stores the file.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from ..errors import Cancelled

_scratch_root: Path | None = None
_scratch_lock = threading.Lock()


def _default_tmp_dir() -> Path:
    """A scratch dir for contexts built without one (tests, benchmarks, the CLI). They all live under
    one per-process root removed at exit, so nothing piles up in /tmp; the worker passes its own
    per-job dir and deletes it after each job."""
    global _scratch_root
    with _scratch_lock:
        if _scratch_root is None:
            _scratch_root = Path(tempfile.mkdtemp(prefix="openpika-scratch-"))
            atexit.register(shutil.rmtree, _scratch_root, True)
        return Path(tempfile.mkdtemp(dir=_scratch_root))


LogLevel = Literal["INFO", "WARN", "ERROR", "DEBUG", "STDOUT", "STDERR"]


@dataclass
class RunContext:
    """What an engine may use while it runs. Every callback is safe to call often."""

    request_id: str = "local"
    tmp_dir: Path = field(default_factory=_default_tmp_dir)
    on_log: Callable[[str, LogLevel], None] = lambda message, level: None
    on_progress: Callable[[float], None] = lambda fraction: None
    is_cancelled: Callable[[], bool] = lambda: False
    # Progress reports are rate limited so an engine can call ``progress`` every frame.
    min_progress_interval: float = 0.2
    _last_progress_at: float = field(default=0.0, repr=False)

    def log(self, message: str, level: LogLevel = "INFO") -> None:
        self.on_log(message, level)

    def progress(self, fraction: float) -> None:
        """Report progress in [0, 1]. Also a cancellation point."""
        now = time.monotonic()
        if fraction >= 1.0 or now - self._last_progress_at >= self.min_progress_interval:
            self._last_progress_at = now
            self.on_progress(max(0.0, min(1.0, float(fraction))))
        self.check_cancelled()

    def check_cancelled(self) -> None:
        if self.is_cancelled():
            raise Cancelled()


Frame = np.ndarray  # HxWx3 uint8 RGB


@dataclass
class Clip:
    """An engine's output: frames produced lazily, so a long clip never sits in memory whole.

    ``frames`` yields exactly ``num_frames`` RGB uint8 arrays of shape (height, width, 3), or, when
    ``pixel_format`` is ``"yuv420p"``, I420 uint8 arrays of shape (height * 3 // 2, width) (the Y
    plane, then U, then V, as OpenCV's ``COLOR_RGB2YUV_I420`` lays them out): a renderer that can
    draw the encoder's own format saves the colour conversion. ``encode_mp4`` takes either.
    ``encoder_preset`` lets a tier ask for a faster x264 preset (turbo).
    """

    width: int
    height: int
    fps: int
    num_frames: int
    frames: Iterable[Frame]
    encoder_preset: str | None = None
    pixel_format: Literal["rgb24", "yuv420p"] = "rgb24"

    def __post_init__(self) -> None:
        if self.width % 2 or self.height % 2:
            raise ValueError(f"clip size must be even for yuv420p, got {self.width}x{self.height}")

    def iter_frames(self) -> Iterator[Frame]:
        yield from self.frames


@runtime_checkable
class Engine(Protocol):
    """An engine runs tasks of the kinds it lists. ``run`` must be synchronous and CPU/GPU bound;
    the worker runs it in its own thread or process."""

    name: str

    def supports(self, task: object) -> bool: ...

    def availability(self, task: object) -> str | None:
        """``None`` when the engine can run this task, else a sentence saying why not and how to fix it."""
        ...

    def run(self, task: object, ctx: RunContext) -> Clip: ...
