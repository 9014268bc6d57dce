"""OpenCV's own thread pool, held to one thread while our threads share the cores.

Where the engine runs its own threads (frames rendered ahead, GrabCut beside the face cascades),
OpenCV's pool on top only fights them for the two cores. Its thread count is one process-wide
setting, so the engine's uses are counted: the first to enter sets one thread, the last to leave
puts back what was there, and jobs running side by side (several in-process workers) cannot leave
it stuck at one or restore it under another's feet.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import cv2

_lock = threading.Lock()
_holders = 0
_saved = 0


@contextmanager
def single_threaded_opencv() -> Iterator[None]:
    global _holders, _saved
    with _lock:
        if _holders == 0:
            _saved = cv2.getNumThreads()
            cv2.setNumThreads(1)
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                cv2.setNumThreads(_saved)
