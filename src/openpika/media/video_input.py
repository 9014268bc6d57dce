"""Decode an untrusted input video in a child process that a crafted file can only hurt itself.

FFmpeg parses hundreds of formats in C; a hostile file can crash it, hang it or make it allocate
without end. So the parent never opens the file with FFmpeg. It starts a child
(``python -m openpika.media.video_input``) that first lowers its own limits (address space, CPU
time, size of files it writes), then

1. opens the file with an explicitly chosen demuxer (from the magic bytes: MP4/MOV, Matroska/WebM,
   AVI, GIF) so FFmpeg never auto-detects an HLS playlist or concat script hiding in a ".mp4" and
   follows its references; only the ``file`` protocol is whitelisted;
2. probes: one video stream, an allowed codec, frame size, duration and frame count within limits;
3. decodes frame by frame into a raw file next to the input (RGB, every frame scaled to the probed
   size), re-checking the frame count and byte budget as it goes;
4. prints one JSON line: the shape and fps, or the reason for a refusal.

The parent waits with a wall-clock timeout, kills the child when it runs over, and maps the raw
file back as a copy-on-write memmap (no second copy in RAM; the file can be deleted at once).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .images import MediaRejected

ALLOWED_CODECS = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mjpeg", "gif", "prores", "png"})
MAX_FPS = 120.0
# Address space of the child beyond the frames it holds: Python, NumPy, PyAV and FFmpeg's own
# buffers and thread stacks. Measured around 0.6 GiB; doubled for headroom.
CHILD_BASE_ADDRESS_SPACE = 1536 * 1024 * 1024


@dataclass(frozen=True)
class VideoLimits:
    max_seconds: float = 30.0
    max_pixels_per_frame: int = 1920 * 1088
    max_decoded_bytes: int = 4 * 1024**3
    timeout_seconds: float = 120.0
    memory_bytes: int = CHILD_BASE_ADDRESS_SPACE + 256 * 1024 * 1024

    @property
    def max_frames(self) -> int:
        return max(1, math.ceil(self.max_seconds * MAX_FPS))


def sniff_container(head: bytes) -> str | None:
    """FFmpeg demuxer name for an allowed container, judged from the first bytes."""
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
        return "mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    return None


def decode_video_file(path: Path, limits: VideoLimits) -> tuple[np.ndarray, float]:
    """Frames (T, H, W, 3) uint8 and fps of the video at ``path``, or ``MediaRejected``."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    container_format = sniff_container(head)
    if container_format is None:
        raise MediaRejected("not a supported video: expected MP4/MOV, WebM/Matroska, AVI or GIF")
    raw_path = path.with_name(path.name + ".rgb")
    # The child must import this package even when the parent found it through a test runner's
    # path setting rather than an installation.
    package_root = str(Path(__file__).resolve().parents[2])
    python_path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
    env = {
        **os.environ,
        "PYTHONPATH": python_path,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    command = [
        sys.executable,
        "-m",
        "openpika.media.video_input",
        str(path),
        str(raw_path),
        container_format,
        json.dumps(asdict(limits)),
    ]
    try:
        try:
            done = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                # FFmpeg's own logging goes nowhere: a crafted file can make it log without end,
                # and a captured stream would grow in this (the worker's) memory.
                stderr=subprocess.DEVNULL,
                timeout=limits.timeout_seconds,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise MediaRejected(
                f"the video took longer than {limits.timeout_seconds:g} s to decode and was abandoned"
            ) from exc
        answer = _last_json_line(done.stdout)
        if answer is None:
            how = f"signal {-done.returncode}" if done.returncode < 0 else f"exit code {done.returncode}"
            raise MediaRejected(f"the video could not be decoded (the decoder stopped with {how})")
        if not answer.get("ok"):
            raise MediaRejected(str(answer.get("error", "the video could not be decoded")))
        shape = (int(answer["frames"]), int(answer["height"]), int(answer["width"]), 3)
        # A plain ndarray view of a copy-on-write mapping: engines may write into it freely.
        frames = np.asarray(np.memmap(raw_path, dtype=np.uint8, mode="c", shape=shape))
        return frames, float(answer["fps"])
    finally:
        # The memmap keeps the data reachable after the name is gone (POSIX semantics).
        raw_path.unlink(missing_ok=True)


def _last_json_line(output: bytes) -> dict[str, Any] | None:
    for line in reversed(output.decode("utf-8", "replace").splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None


# --------------------------------------------------------------------------- the child's side


def _limit_self(limits: VideoLimits) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    cpu = max(1, math.ceil(limits.timeout_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    written = limits.max_decoded_bytes + 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (written, written))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _probe_and_decode(
    path: str, raw_path: str, container_format: str, limits: VideoLimits
) -> dict[str, object]:
    import av
    import av.logging

    av.logging.set_level(None)  # PyAV's default, made explicit: FFmpeg's logs are ignored

    options = {"protocol_whitelist": "file", "enable_drefs": "0"}
    try:
        container = av.open(path, format=container_format, options=options)
    except (av.FFmpegError, ValueError) as exc:
        raise MediaRejected(f"the file is not a readable video: {exc}") from exc
    with container:
        if not container.streams.video:
            raise MediaRejected("the file has no video stream")
        stream = container.streams.video[0]
        # The codec, not the decoder FFmpeg picked for it (AV1 decodes with "libdav1d").
        codec = stream.codec_context.codec.canonical_name
        if codec not in ALLOWED_CODECS:
            raise MediaRejected(f"video codec {codec!r} is not supported; use H.264, H.265, VP8/9 or AV1")
        width, height = stream.codec_context.width, stream.codec_context.height
        if width < 2 or height < 2:
            raise MediaRejected(f"video frame size {width}x{height} is invalid")
        if width * height > limits.max_pixels_per_frame:
            raise MediaRejected(
                f"video frames are {width}x{height}; the limit is {limits.max_pixels_per_frame:,} pixels "
                "(1080p). Downscale the video first."
            )
        duration = _duration_seconds(container, stream)
        # A little slack: containers round durations, and one frame over is not an attack.
        slack_seconds = limits.max_seconds * 1.02 + 0.05
        if duration is not None and duration > slack_seconds:
            raise MediaRejected(f"video is {duration:.1f} s long; the limit is {limits.max_seconds:g} s")
        fps = float(stream.average_rate or stream.guessed_rate or 0) or 24.0
        if not 0 < fps <= MAX_FPS:
            raise MediaRejected(f"video frame rate {fps:g} is outside 0-{MAX_FPS:g} fps")
        frame_bytes = width * height * 3
        max_frames = min(limits.max_frames, limits.max_decoded_bytes // frame_bytes)
        if stream.frames and stream.frames > max_frames:
            raise MediaRejected(f"video has {stream.frames} frames; the limit here is {max_frames}")
        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = 2
        count = 0
        quarter_turns = 0
        with open(raw_path, "wb") as out:
            try:
                for frame in container.decode(stream):
                    if count >= max_frames:
                        raise MediaRejected(f"video has more than {max_frames} frames; shorten it")
                    if frame.time is not None and frame.time > slack_seconds:
                        raise MediaRejected(f"video is longer than {limits.max_seconds:g} s")
                    if count == 0:
                        # Phones store portrait video sideways plus a display matrix; apply it as
                        # players (and ffmpeg's autorotate) do. rotation: degrees counter-clockwise.
                        quarter_turns = round((getattr(frame, "rotation", 0) or 0) / 90) % 4
                    rgb = frame.to_ndarray(format="rgb24", width=width, height=height)
                    if quarter_turns:
                        rgb = np.rot90(rgb, quarter_turns)
                    out.write(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes())
                    count += 1
            except av.FFmpegError as exc:
                if count == 0:
                    raise MediaRejected(f"the video could not be decoded: {exc}") from exc
                # A damaged tail: keep the frames decoded so far, as players do.
        if count == 0:
            raise MediaRejected("the video has no decodable frames")
        if quarter_turns % 2:
            width, height = height, width
        return {"ok": True, "frames": count, "width": width, "height": height, "fps": fps}


def _duration_seconds(container: object, stream: object) -> float | None:
    stream_duration = getattr(stream, "duration", None)
    time_base = getattr(stream, "time_base", None)
    if stream_duration and time_base:
        return float(stream_duration * time_base)
    container_duration = getattr(container, "duration", None)
    if container_duration:
        return float(container_duration) / 1_000_000
    return None


def _child_main(argv: list[str]) -> int:
    path, raw_path, container_format, limits_json = argv
    limits = VideoLimits(**json.loads(limits_json))
    _limit_self(limits)
    try:
        answer = _probe_and_decode(path, raw_path, container_format, limits)
    except MediaRejected as exc:
        answer = {"ok": False, "error": str(exc)}
    except MemoryError:
        answer = {"ok": False, "error": "the video needs more memory to decode than allowed"}
    print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
