"""OpenCV's process-wide thread count under jobs that overlap (several in-process workers)."""

from __future__ import annotations

import threading

import cv2

from openpika.engines.classic.opencv_threads import single_threaded_opencv


def test_overlapping_holders_restore_the_count_only_when_the_last_leaves() -> None:
    before = cv2.getNumThreads()
    cv2.setNumThreads(3)
    try:
        a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
        seen: dict[str, int] = {}

        def job_a() -> None:
            with single_threaded_opencv():
                a_in.set()
                b_in.wait(5)
            a_out.set()

        def job_b() -> None:
            a_in.wait(5)
            with single_threaded_opencv():
                b_in.set()
                a_out.wait(5)  # A leaves first: B still needs one thread
                seen["after a left"] = cv2.getNumThreads()

        threads = [threading.Thread(target=job_a), threading.Thread(target=job_b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert seen["after a left"] == 1
        assert cv2.getNumThreads() == 3  # put back once both left, not stuck at one
    finally:
        cv2.setNumThreads(before)
