"""Frames drawn ahead on helper threads: order, progress, and a cancel that stops the drawing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from openpika.engines.classic.prefetch import AHEAD, drawn_ahead
from openpika.errors import Cancelled


def _slow_render(drawn: list[int], lock: threading.Lock) -> Callable[[int], np.ndarray]:
    def render(index: int) -> np.ndarray:
        # Every third frame is slower, so later frames often finish first: the order out must
        # still be the order asked for.
        time.sleep(0.002 * (index % 3 == 0))
        with lock:
            drawn.append(index)
        return np.full((2, 2), index, np.uint8)

    return render


def test_frames_come_in_order_with_progress_after_each() -> None:
    drawn: list[int] = []
    progress: list[float] = []
    frames = list(drawn_ahead(_slow_render(drawn, threading.Lock()), 20, progress.append))
    assert [int(f[0, 0]) for f in frames] == list(range(20))
    assert progress == [(i + 1) / 20 for i in range(20)]
    assert sorted(drawn) == list(range(20))


def test_a_cancel_in_progress_stops_the_drawing() -> None:
    drawn: list[int] = []

    def progress(share: float) -> None:
        if share >= 5 / 100:
            raise Cancelled("cancelled")

    with pytest.raises(Cancelled):
        for _ in drawn_ahead(_slow_render(drawn, threading.Lock()), 100, progress):
            pass
    # Only the frames already in flight when the cancel came were drawn, and none after it returned.
    settled = len(drawn)
    assert settled <= 5 + AHEAD
    time.sleep(0.05)
    assert len(drawn) == settled
