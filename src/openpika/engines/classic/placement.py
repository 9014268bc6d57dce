"""Where an added object goes, read from the prompt's plain words.

Horizontal: "left", "right", "center"/"middle". Vertical: "in the sky"/"flying"/"above" (the
object floats, casts no contact shadow and bobs gently), "in the background"/"far away" (smaller and
higher, nearer the horizon), "foreground"/"close" (bigger and lower). Size: "tiny", "small",
"large"/"big", "huge"/"giant". Without such words the object stands in the lower third at a
plausible size, nudged left or right by the seed. Either way it steps aside from the footage's own
main subject (``free_positions``) rather than covering it: within its named side when the prompt
names one, anywhere otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from .cutout import matte_confidence
from .layers import Affine, compose, similarity
from .subject import find_subject

_MIN_CONFIDENCE = 0.7  # cutout.matte_confidence needed to treat a photo's subject as one


@dataclass(frozen=True)
class Placement:
    x: float  # horizontal centre of the object, fraction of frame width
    base_y: float  # where the object's lowest point sits, fraction of frame height
    height: float  # object height, fraction of frame height
    floating: bool  # in the air: no contact shadow, a gentle bob instead
    explicit_x: bool = False  # the prompt named the side: keep to it when avoiding the subject


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


def has_word(words: str, *options: str) -> bool:
    """Whether lower-cased ``words`` contain any of ``options`` as whole words (plural allowed)."""
    return any(re.search(rf"\b{re.escape(o)}s?\b", words) for o in options)


def parse_placement(prompt: str, seed: int) -> Placement:
    words = prompt.lower()
    rng = np.random.default_rng(seed)
    # Default: slightly off-centre (dead centre looks pasted), side chosen by the seed.
    x = 0.5 + float(rng.choice([-1.0, 1.0])) * float(rng.uniform(0.08, 0.16))
    explicit_x = True
    if has_word(words, "left"):
        x = 0.27
    elif has_word(words, "right"):
        x = 0.73
    elif has_word(words, "center", "centre", "middle"):
        x = 0.5
    else:
        explicit_x = False

    height = 0.3
    for word, size in _SIZES.items():
        if has_word(words, word):
            height = size
            break

    floating = has_word(
        words, "sky", "air", "flying", "flies", "floating", "hovering", "above", "overhead", "top"
    )
    base_y = 0.86
    if floating:
        base_y = 0.18 + height
    elif has_word(words, "background", "distance", "far", "horizon", "behind"):
        height *= 0.6
        base_y = 0.66
    elif has_word(words, "foreground", "close", "closer", "front", "bottom", "ground", "floor"):
        height *= 1.2
        base_y = 0.94
    return Placement(
        x=x, base_y=min(base_y, 0.97), height=min(height, 0.8), floating=floating, explicit_x=explicit_x
    )


def subject_occupancy(
    image: np.ndarray, to_frame: Affine, width: int, height: int, seed: int
) -> np.ndarray | None:
    """The main subject of ``image`` (a plate, or a video's first frame) as a float mask in frame
    pixels (``to_frame`` maps image pixels there), when its matte is trustworthy: a person, a
    product, a motorbike. None for landscapes and other photos with no clear subject."""
    scale = min(1.0, 384 / max(image.shape[:2]))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
    alpha = find_subject(small, seed=seed).alpha
    if not 0.05 <= float(alpha.mean()) <= 0.7 or matte_confidence(small, alpha) < _MIN_CONFIDENCE:
        return None
    m = compose(to_frame, similarity(1.0 / scale))
    return np.asarray(cv2.warpAffine(alpha, m, (width, height), flags=cv2.INTER_LINEAR), np.float32)


def free_positions(
    boxes: list[tuple[float, float, float]],
    slots: list[float],
    occupied: np.ndarray | None,
    width: int,
    height: int,
    stay: float = 0.6,
) -> list[float]:
    """Horizontal centres for objects (box width, height, base y), each chosen greedily to avoid
    the picture's own subject and the objects already placed, while staying near its preferred
    slot (fraction of the width; ``stay`` weighs that wish)."""
    w, h = width, height
    integral = cv2.integral(occupied) if occupied is not None else None
    chosen: list[tuple[float, float]] = []  # (centre, width)
    for (cw, ch, base), slot in zip(boxes, slots, strict=True):
        # A margin keeps camera moves from pushing an object off the frame.
        lo = min(w / 2, cw / 2 + 0.04 * w)
        hi = max(lo, w - cw / 2 - 0.04 * w)
        best, best_cost = float(np.clip(slot * w, lo, hi)), np.inf
        for cx in np.linspace(lo, hi, 41):
            cost = stay * abs(cx / w - slot)
            if integral is not None:
                # Covering the picture's subject is the worst sin; use the inner 80% of the box.
                x0, x1 = int(max(0, cx - 0.4 * cw)), int(min(w, cx + 0.4 * cw))
                y0, y1 = int(max(0, base - ch)), int(min(h, base))
                if x1 > x0 and y1 > y0:
                    area = (x1 - x0) * (y1 - y0)
                    inside = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
                    cost += 3.0 * float(inside) / area
            for ox, ow in chosen:
                overlap = max(0.0, min(cx + cw / 2, ox + ow / 2) - max(cx - cw / 2, ox - ow / 2))
                cost += 4.0 * overlap / min(cw, ow)
            if cost < best_cost:
                best, best_cost = float(cx), cost
        chosen.append((best, cw))
    return [c for c, _ in chosen]
