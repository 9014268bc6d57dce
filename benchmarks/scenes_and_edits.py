"""Pikascenes, pikadditions and pikaswaps speed: each case renders and encodes a 5 s 720p clip (the
worker's path). The peer, in the same run, is x264 alone encoding the same number of frames (the
floor every case pays). Input videos are a camera panning across a photo from scikit-image.

For each case: wall seconds (best of ``--repeat``), CPU seconds (all threads), and the ratio to the
encode-only floor. Target on 2 cores: every case under 10 s wall (2x real time).

``--sheets DIR`` also writes a contact sheet per case (6 frames).

Run: ``python benchmarks/scenes_and_edits.py`` (``--cases swap_sky scenes --repeat 2 --sheets /tmp/edits``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from openpika.engines.base import Clip, RunContext
from openpika.engines.classic.compositing import render_addition, render_swap
from openpika.engines.classic.scenes import render_scenes
from openpika.engines.tasks import AdditionTask, InputVideo, OutputSpec, ScenesTask, SwapTask
from openpika.media.encode import encode_mp4

W, H, FRAMES = 1280, 720, 120


def panning_video(n: int = 150) -> np.ndarray:
    photo = cv2.resize(data.rocket(), (2000, 1334), interpolation=cv2.INTER_CUBIC)
    return np.stack(
        [np.ascontiguousarray(photo[300 : 300 + H, 20 + 4 * t : 20 + 4 * t + W]) for t in range(n)]
    )


def product() -> np.ndarray:
    image = np.full((300, 300, 3), 245, np.uint8)
    cv2.circle(image, (150, 160), 90, (200, 40, 40), -1)
    return image


def cases(video: np.ndarray) -> dict[str, Callable[[RunContext], Clip]]:
    out = OutputSpec(W, H, 24, FRAMES)
    clip_in = InputVideo(video, 30.0)
    return {
        "addition": lambda ctx: render_addition(
            AdditionTask(clip_in, product(), "a red ball on the left", "", 1, out), ctx
        ),
        "swap_sky": lambda ctx: render_swap(
            SwapTask(clip_in, None, "the sky", "make it orange", "", 1, out), ctx
        ),
        "swap_sky_image": lambda ctx: render_swap(
            SwapTask(clip_in, data.coffee(), "the sky", "", "", 1, out), ctx
        ),
        "scenes": lambda ctx: render_scenes(
            ScenesTask([data.rocket(), data.astronaut(), product()], "", "", 1, out, "creative", "v2.2"), ctx
        ),
        "shots": lambda ctx: render_scenes(
            ScenesTask([data.chelsea(), data.rocket()], "", "", 1, out, "creative", "v2.2"), ctx
        ),
    }


def timed(frames: Iterable[np.ndarray], path: Path, keep: list[np.ndarray] | None) -> tuple[float, float]:
    def tee() -> Iterable[np.ndarray]:
        for i, frame in enumerate(frames):
            if keep is not None and i % (FRAMES // 6) == 0:
                keep.append(frame.copy())
            yield frame

    c0, t0 = time.process_time(), time.perf_counter()
    encode_mp4(tee(), path, width=W, height=H, fps=24, expected_frames=FRAMES)
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", default=None)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--sheets", type=Path, default=None)
    args = parser.parse_args()
    video = panning_video()
    table = cases(video)
    names = args.cases or list(table)
    with tempfile.TemporaryDirectory() as tmp:
        floor = min(timed(iter(video[:FRAMES]), Path(tmp) / "floor.mp4", None)[0] for _ in range(args.repeat))
        print(f"peer: x264 encode only, {FRAMES} frames {W}x{H}: {floor:.2f} s")
        for name in names:
            best, cpu, sheet = float("inf"), 0.0, []
            for _ in range(args.repeat):
                keep: list[np.ndarray] = []
                start = time.perf_counter()
                c0 = time.process_time()
                clip = table[name](RunContext())  # setup (matting, tracking) counts too
                timed(clip.frames, Path(tmp) / f"{name}.mp4", keep)
                total, used = time.perf_counter() - start, time.process_time() - c0
                if total < best:
                    best, cpu, sheet = total, used, keep
            verdict = "ok" if best < 10.0 else "OVER 10 s"
            print(
                f"{name:15s} wall {best:6.2f} s  cpu {cpu:6.2f} s  x{best / floor:5.2f} of the encode floor  {verdict}"
            )
            if args.sheets is not None and sheet:
                args.sheets.mkdir(parents=True, exist_ok=True)
                tiles = [cv2.resize(f, (W // 4, H // 4), interpolation=cv2.INTER_AREA) for f in sheet]
                cv2.imwrite(
                    str(args.sheets / f"{name}.jpg"), cv2.cvtColor(np.hstack(tiles), cv2.COLOR_RGB2BGR)
                )


if __name__ == "__main__":
    main()
