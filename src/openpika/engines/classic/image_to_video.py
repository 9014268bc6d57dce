"""Classic image-to-video. PLACEHOLDER (spine bootstrap): a slow eased zoom; issue #4 replaces it
with camera language and depth-aware parallax."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from ..base import Clip, RunContext
from ..tasks import ImageToVideoTask


def _ease(t: float) -> float:
    return t * t * (3 - 2 * t)


def render_image_to_video(task: ImageToVideoTask, ctx: RunContext) -> Clip:
    out = task.output
    src = task.image
    h0, w0 = src.shape[:2]
    # Cover-fit the source to the output aspect once; the zoom then samples inside it.
    scale = max(out.width / w0, out.height / h0)

    def frames() -> Iterator[np.ndarray]:
        for i in range(out.num_frames):
            t = _ease(i / max(1, out.num_frames - 1))
            zoom = scale * (1.0 + 0.12 * t)
            m = np.array(
                [[zoom, 0, out.width / 2 - zoom * w0 / 2], [0, zoom, out.height / 2 - zoom * h0 / 2]],
                dtype=np.float64,
            )
            frame = cv2.warpAffine(
                src, m, (out.width, out.height), flags=cv2.INTER_AREA if zoom < 1 else cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REFLECT,
            )
            ctx.progress((i + 1) / out.num_frames)
            yield frame

    return Clip(out.width, out.height, out.fps, out.num_frames, frames())
