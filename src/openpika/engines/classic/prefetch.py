"""Render frames on helper threads while the caller encodes the previous ones.

OpenCV's warps release the GIL, so helper threads rendering upcoming frames while the encoder
converts and hands frames to x264 keep both cores busy. Frames still come out strictly in order
and each is a pure function of its index, so the output never depends on thread timing.
OpenCV's own thread pool is turned down to one thread meanwhile (``opencv_threads``): on two busy
cores its fork/join per call costs more than it gains, and the frame-level pipeline already gives
the parallelism.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from .opencv_threads import single_threaded_opencv

WORKERS = 2
AHEAD = 4  # frames in flight; bounds memory to a few frames


def prefetched(render: Callable[[int], np.ndarray], count: int) -> Iterator[np.ndarray]:
    """Yield ``render(0) .. render(count - 1)`` in order, computed ahead on helper threads.

    Closing the iterator (or an exception in the consumer, e.g. a cancel) drops the frames not
    yet started and waits only for the ones being drawn.
    """
    with single_threaded_opencv():
        pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="openpika-render")
        pending: deque[Future[np.ndarray]] = deque()
        submitted = 0
        try:
            while submitted < count or pending:
                while submitted < count and len(pending) < AHEAD:
                    pending.append(pool.submit(render, submitted))
                    submitted += 1
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True)


def drawn_ahead(
    render: Callable[[int], np.ndarray], count: int, progress: Callable[[float], None]
) -> Iterator[np.ndarray]:
    """``prefetched`` frames, with ``progress`` (the run context's: also a cancellation point)
    told the share done after each frame is taken. ``render`` must be a pure function of the index:
    frames are drawn on several threads at once, from whatever the renderer shares."""
    for index, frame in enumerate(prefetched(render, count)):
        yield frame
        progress((index + 1) / count)
