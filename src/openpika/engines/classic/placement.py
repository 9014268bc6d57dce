"""Where an added object goes, read from the prompt's plain words.

Horizontal: "left", "right", "center"/"middle". Vertical: "in the sky"/"flying"/"above" (the
object floats, casts no contact shadow and bobs gently), "in the background"/"far away" (smaller and
higher, nearer the horizon), "foreground"/"close" (bigger and lower). Size: "tiny", "small",
"large"/"big", "huge"/"giant". Without such words the object stands in the lower third at a
plausible size, nudged left or right by the seed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Placement:
    x: float  # horizontal centre of the object, fraction of frame width
    base_y: float  # where the object's lowest point sits, fraction of frame height
    height: float  # object height, fraction of frame height
    floating: bool  # in the air: no contact shadow, a gentle bob instead


_SIZES = {
    "tiny": 0.12,
    "little": 0.18,
    "small": 0.2,
    "medium": 0.3,
    "large": 0.45,
    "big": 0.45,
    "huge": 0.6,
    "giant": 0.6,
    "enormous": 0.65,
}


def _has(words: str, *options: str) -> bool:
    return any(re.search(rf"\b{re.escape(o)}\b", words) for o in options)


def parse_placement(prompt: str, seed: int) -> Placement:
    words = prompt.lower()
    rng = np.random.default_rng(seed)
    # Default: slightly off-centre (dead centre looks pasted), side chosen by the seed.
    x = 0.5 + float(rng.choice([-1.0, 1.0])) * float(rng.uniform(0.08, 0.16))
    if _has(words, "left"):
        x = 0.27
    elif _has(words, "right"):
        x = 0.73
    elif _has(words, "center", "centre", "middle"):
        x = 0.5

    height = 0.3
    for word, size in _SIZES.items():
        if _has(words, word):
            height = size
            break

    floating = _has(
        words, "sky", "air", "flying", "flies", "floating", "hovering", "above", "overhead", "top"
    )
    base_y = 0.86
    if floating:
        base_y = 0.18 + height
    elif _has(words, "background", "distance", "far", "horizon", "behind"):
        height *= 0.6
        base_y = 0.66
    elif _has(words, "foreground", "close", "closer", "front", "bottom", "ground", "floor"):
        height *= 1.2
        base_y = 0.94
    return Placement(x=x, base_y=min(base_y, 0.97), height=min(height, 0.8), floating=floating)
