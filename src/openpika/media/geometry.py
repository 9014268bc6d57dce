"""Output-size arithmetic shared by the worker (request -> task) and the engines."""

from __future__ import annotations

SHORT_SIDE = {"720p": 720, "1080p": 1080}
ASPECT_RATIOS = {
    "16:9": (16, 9),
    "9:16": (9, 16),
    "1:1": (1, 1),
    "4:5": (4, 5),
    "5:4": (5, 4),
    "3:2": (3, 2),
    "2:3": (2, 3),
}


def even(value: float) -> int:
    """Round to the nearest even integer >= 2 (yuv420p needs even sides)."""
    return max(2, round(value / 2.0) * 2)


def size_for_aspect(aspect_w: float, aspect_h: float, resolution: str) -> tuple[int, int]:
    """(width, height) with the short side at the resolution's height and the aspect ratio kept."""
    short = SHORT_SIDE[resolution]
    if aspect_w >= aspect_h:
        return even(short * aspect_w / aspect_h), short
    return short, even(short * aspect_h / aspect_w)


def size_for_image(image_width: int, image_height: int, resolution: str) -> tuple[int, int]:
    return size_for_aspect(float(image_width), float(image_height), resolution)


def size_for_ratio(aspect_ratio: str, resolution: str) -> tuple[int, int]:
    aw, ah = ASPECT_RATIOS[aspect_ratio]
    return size_for_aspect(aw, ah, resolution)
