"""Read what a video file really is (used by tests, benchmarks and input checks)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    pix_fmt: str
    width: int
    height: int
    fps: float
    num_frames: int
    duration: float
    faststart: bool


def _moov_before_mdat(path: Path) -> bool:
    """True when the 'moov' atom precedes 'mdat' (MP4 'faststart'): players can start before the end."""
    with open(path, "rb") as fh:
        offset = 0
        size_total = path.stat().st_size
        while offset < size_total:
            fh.seek(offset)
            header = fh.read(16)
            if len(header) < 8:
                return False
            size = int.from_bytes(header[:4], "big")
            kind = header[4:8]
            if size == 1:
                size = int.from_bytes(header[8:16], "big")
            if kind == b"moov":
                return True
            if kind == b"mdat":
                return False
            if size < 8:
                return False
            offset += size
    return False


def probe_video(path: str | Path) -> VideoInfo:
    path = Path(path)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        fps = float(stream.average_rate) if stream.average_rate else 0.0
        frames = stream.frames
        if not frames:
            # No count in the header: count the packets (demux ends with one empty flush packet).
            frames = sum(1 for _ in container.demux(stream)) - 1
        if stream.duration and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = frames / (fps or 1)
        return VideoInfo(
            codec=ctx.name,
            pix_fmt=ctx.format.name if ctx.format else "",
            width=ctx.width,
            height=ctx.height,
            fps=fps,
            num_frames=int(frames),
            duration=duration,
            faststart=_moov_before_mdat(path),
        )


def read_frames(path: str | Path, max_frames: int | None = None) -> np.ndarray:
    """Decode a video to an (N, H, W, 3) RGB uint8 array. For tests and benchmarks on trusted files."""
    out = []
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if max_frames is not None and i >= max_frames:
                break
            out.append(frame.to_ndarray(format="rgb24"))
    return np.stack(out)
