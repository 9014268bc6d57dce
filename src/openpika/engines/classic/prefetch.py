"""Render frames on a helper thread while the caller encodes the previous ones.

OpenCV's warps release the GIL, so one thread rendering while the encoder's thread converts and
hands frames to x264 keeps both cores busy. Frames still come out strictly in order and each is a
pure function of its index, so the output does not depend on thread timing. OpenCV's own thread
pool is turned down to one thread while this runs: on two busy cores its fork/join per call costs
more than it gains, and the pipeline already gives the parallelism.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator

import cv2
import numpy as np

_DEPTH = 4  # frames rendered ahead; bounds memory to a few frames
_DONE = object()


def prefetched(render: Callable[[int], np.ndarray], count: int) -> Iterator[np.ndarray]:
    """Yield ``render(0) .. render(count - 1)`` in order, computed one step ahead on a thread.

    Closing the iterator (or an exception in the consumer, e.g. a cancel) stops the thread after
    at most the frame it is working on.
    """
    results: queue.Queue[object] = queue.Queue(maxsize=_DEPTH)
    stop = threading.Event()

    def offer(item: object) -> None:
        while not stop.is_set():
            try:
                results.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def worker() -> None:
        try:
            for index in range(count):
                if stop.is_set():
                    return
                offer(render(index))
        except BaseException as error:  # handed to the consumer, raised there
            offer(error)
            return
        offer(_DONE)

    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    thread = threading.Thread(target=worker, name="openpika-render", daemon=True)
    thread.start()
    try:
        while True:
            item = results.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, np.ndarray)
            yield item
    finally:
        stop.set()
        thread.join(timeout=5.0)
        cv2.setNumThreads(threads)
