"""Pikaffects speed: every classic effect renders and encodes a 5 s 720p clip; the peer, in the same
run, is x264 alone encoding the still photo for the same 120 frames (the floor any effect pays).

For each effect: wall seconds (best of ``--repeat``) for subject finding + plate + 120 frames +
``encode_mp4`` (the worker's path), CPU seconds, and the ratio to the encode-only floor. Target on
2 cores: every effect under 10 s wall.

``--sheets DIR`` also writes, per effect, a contact sheet (8 frames x 3 photos) and a README mosaic
of all 16 effects (``DIR/pikaffects_mosaic.jpg``).

Run: ``python benchmarks/effects.py`` (``--effects Melt Explode --photo coffee --repeat 2
--sheets /tmp/effects``).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from openpika.endpoints import PIKAFFECTS
from openpika.engines.base import RunContext
from openpika.engines.classic.effects import render_effect
from openpika.engines.tasks import EffectTask, OutputSpec
from openpika.media.encode import encode_mp4
from openpika.media.geometry import size_for_image

# The moment that shows each effect best, for the mosaic (fraction of the clip).
HIGHLIGHT = {
    "Cake-ify": 0.9,
    "Crumble": 0.55,
    "Crush": 0.9,
    "Decapitate": 0.42,
    "Deflate": 0.9,
    "Dissolve": 0.45,
    "Explode": 0.36,
    "Eye-pop": 0.5,
    "Inflate": 0.6,
    "Levitate": 0.7,
    "Melt": 0.8,
    "Peel": 0.45,
    "Poke": 0.45,
    "Squish": 0.5,
    "Ta-da": 0.56,
    "Tear": 0.7,
}
MOSAIC_PHOTO = {"Eye-pop": "chelsea", "Decapitate": "astronaut", "Tear": "chelsea", "Dissolve": "astronaut"}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def photo(name: str) -> np.ndarray:
    image: np.ndarray = getattr(data, name)()
    return image


def task_for(effect: str, image: np.ndarray, resolution: str = "720p", frames: int = 120) -> EffectTask:
    w, h = size_for_image(image.shape[1], image.shape[0], resolution)
    return EffectTask(image, effect, "", "", 7, OutputSpec(w, h, 24, frames))


def time_effect(effect: str, image: np.ndarray, out_dir: Path) -> tuple[float, float]:
    task = task_for(effect, image)
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    clip = render_effect(task, RunContext())
    encode_mp4(clip.frames, out_dir / f"{effect}.mp4", width=clip.width, height=clip.height, fps=clip.fps)
    return time.perf_counter() - wall0, cpu_seconds() - cpu0


def time_floor(image: np.ndarray, out_dir: Path) -> tuple[float, float]:
    task = task_for("Inflate", image)
    still = cv2.resize(image, (task.output.width, task.output.height), interpolation=cv2.INTER_AREA)
    wall0, cpu0 = time.perf_counter(), cpu_seconds()
    frames = (still for _ in range(task.output.num_frames))
    encode_mp4(frames, out_dir / "still.mp4", width=task.output.width, height=task.output.height, fps=24)
    return time.perf_counter() - wall0, cpu_seconds() - cpu0


def write_sheets(effects: list[str], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tiles = []
    for effect in effects:
        rows = []
        for name in ("astronaut", "chelsea", "coffee"):
            task = task_for(effect, photo(name), "720p", 48)
            frames = list(render_effect(task, RunContext()).frames)
            picks = [frames[i] for i in np.linspace(0, len(frames) - 1, 8).astype(int)]
            h = int(240 * task.output.height / task.output.width)
            rows.append(np.hstack([cv2.resize(f, (240, h), interpolation=cv2.INTER_AREA) for f in picks]))
            if name == MOSAIC_PHOTO.get(effect, "coffee"):
                tile = frames[round(HIGHLIGHT.get(effect, 0.5) * (len(frames) - 1))]
                tile = cv2.resize(tile, (300, 200), interpolation=cv2.INTER_AREA)
                cv2.rectangle(tile, (0, 0), (300, 26), (0, 0, 0), -1)
                cv2.putText(
                    tile, effect, (8, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA
                )
                tiles.append(tile)
        width = max(r.shape[1] for r in rows)
        sheet = np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows])
        cv2.imwrite(str(out / f"{effect}.png"), sheet[:, :, ::-1])
        print(f"sheet {out / (effect + '.png')}")
    if len(tiles) == 16:
        grid = np.vstack([np.hstack(tiles[i : i + 4]) for i in range(0, 16, 4)])
        path = out / "pikaffects_mosaic.jpg"
        cv2.imwrite(str(path), grid[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 82])
        print(f"mosaic {path} ({path.stat().st_size // 1024} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--effects", nargs="*", default=list(PIKAFFECTS))
    parser.add_argument(
        "--photo", default="chelsea", help="a scikit-image photo (chelsea, coffee, astronaut)"
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--sheets", type=Path, default=None, help="also write contact sheets and the mosaic here"
    )
    parser.add_argument("--sheets-only", action="store_true", help="skip the timings")
    args = parser.parse_args()
    if args.sheets_only and args.sheets is not None:
        write_sheets(args.effects, args.sheets)
        return
    image = photo(args.photo)
    w, h = size_for_image(image.shape[1], image.shape[0], "720p")
    print(f"photo {args.photo} {image.shape[1]}x{image.shape[0]} -> {w}x{h}, 120 frames at 24 fps")
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = Path(tmp)
        floor_wall, floor_cpu = min(time_floor(image, out_dir) for _ in range(args.repeat))
        print(f"{'effect':<12} {'wall s':>7} {'cpu s':>7} {'x floor':>8}  target < 10 s")
        print(f"{'(encode)':<12} {floor_wall:7.2f} {floor_cpu:7.2f} {1.0:8.2f}")
        worst = 0.0
        for effect in args.effects:
            wall, cpu = min(time_effect(effect, image, out_dir) for _ in range(args.repeat))
            worst = max(worst, wall)
            verdict = "ok" if wall < 10.0 else "SLOW"
            print(f"{effect:<12} {wall:7.2f} {cpu:7.2f} {wall / floor_wall:8.2f}  {verdict}")
        print(f"slowest effect: {worst:.2f} s wall")
    if args.sheets is not None:
        write_sheets(args.effects, args.sheets)


if __name__ == "__main__":
    main()
