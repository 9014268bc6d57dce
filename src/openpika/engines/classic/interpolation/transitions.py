"""Designed transitions for keyframes that share too little to morph, and the choice between them.

Every designed transition keeps the camera alive: the outgoing keyframe drifts slowly in (scale 1 to
1 + DRIFT) and the incoming one settles from 1 + DRIFT to 1, so no frame is a frozen still, and both
ends are exactly the keyframes. ``t`` is the transition's own time in [0, 1].

Names a transition prompt can choose (first keyword found wins, see ``transition_from_prompt``):
``morph``, ``dissolve``, ``whip_pan``, ``zoom_through``, ``slide``, ``fade_black``.
"""

from __future__ import annotations

import math
import re

import cv2
import numpy as np

TRANSITIONS = ("morph", "dissolve", "whip_pan", "zoom_through", "slide", "fade_black")
DESIGNED = TRANSITIONS[1:]
DRIFT = 0.04

# Checked in order: the more specific phrases first ("fade through black" before "fade").
_PROMPT_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("fade_black", r"fade (?:through|to|into|via) black|dip to black|through black|fade[_ ]black"),
    ("whip_pan", r"whip|swish"),
    (
        "zoom_through",
        r"zoom(?:s|ing)? (?:through|into|in to)|zoom[_ ]through|fly(?:ing)? through|push(?:es|ing)? through",
    ),
    ("slide", r"\bslid(?:e|es|ing)\b|\bpush transition\b"),
    ("dissolve", r"dissolv|cross[- ]?fade|\bfade\b"),
    ("morph", r"morph|transform(?:s|ing)? into|turn(?:s|ing)? into|becom(?:e|es|ing)\b"),
)


def transition_from_prompt(prompt: str | None) -> str | None:
    """The transition a prompt asks for, or None when it names none."""
    if not prompt:
        return None
    text = prompt.lower()
    for name, pattern in _PROMPT_KEYWORDS:
        if re.search(pattern, text):
            return name
    return None


def choose_designed(image_a: np.ndarray, image_b: np.ndarray, seed: int) -> str:
    """Best designed transition for two unrelated keyframes.

    Similar palettes dissolve well (the blend stays clean); a dark keyframe suits a dip to black;
    otherwise a fast camera move (whip pan or zoom through, by seed) hides the change of scene.
    """
    hist_a, hist_b = _hue_saturation_histogram(image_a), _hue_saturation_histogram(image_b)
    if cv2.compareHist(hist_a, hist_b, cv2.HISTCMP_CORREL) > 0.6:
        return "dissolve"
    luma = min(float(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).mean()) for img in (image_a, image_b))
    if luma < 60.0:
        return "fade_black"
    return ("whip_pan", "zoom_through")[seed % 2]


def _hue_saturation_histogram(image: np.ndarray) -> np.ndarray:
    small = cv2.resize(image, (160, 90), interpolation=cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [18, 8], [0, 180, 0, 256])
    return cv2.normalize(hist, hist).astype(np.float32)


def _smooth(t: float) -> float:
    t = min(1.0, max(0.0, t))
    return t * t * (3.0 - 2.0 * t)


def _whip_profile(t: float) -> float:
    """Position of a whip: slow, then almost all of the travel near the middle, then slow."""
    k = 12.0
    return 0.5 + 0.5 * math.tanh(k * (t - 0.5)) / math.tanh(k / 2)


class DesignedTransition:
    """Frames of one designed transition between two keyframes of the output size."""

    def __init__(
        self, image_a: np.ndarray, image_b: np.ndarray, kind: str, seed: int, num_frames: int
    ) -> None:
        if kind not in DESIGNED:
            raise ValueError(f"unknown designed transition {kind!r}; expected one of {DESIGNED}")
        self.image_a, self.image_b, self.kind = image_a, image_b, kind
        self.height, self.width = image_a.shape[:2]
        self.direction = 1 if seed % 4 < 2 else -1  # whip/slide towards the left or the right
        self.num_frames = max(1, num_frames)

    def _zoomed(self, image: np.ndarray, scale: float, shift_x: float = 0.0) -> np.ndarray:
        if abs(scale - 1.0) < 1e-6 and abs(shift_x) < 1e-6:
            return image
        cx, cy = self.width / 2.0, self.height / 2.0
        m = np.array([[scale, 0, cx - scale * cx + shift_x], [0, scale, cy - scale * cy]], dtype=np.float32)
        return cv2.warpAffine(image, m, (self.width, self.height), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REFLECT)  # fmt: skip

    def frame_at(self, t: float) -> np.ndarray:
        if t <= 0.0:
            return self.image_a.copy()
        if t >= 1.0:
            return self.image_b.copy()
        drift_a = self._zoomed(self.image_a, 1.0 + DRIFT * _smooth(t))
        drift_b = self._zoomed(self.image_b, 1.0 + DRIFT * (1.0 - _smooth(t)))
        if self.kind == "dissolve":
            s = _smooth(t)
            return cv2.addWeighted(drift_a, 1.0 - s, drift_b, s, 0.0)
        if self.kind == "fade_black":
            return cv2.convertScaleAbs(drift_a, alpha=1.0 - _smooth(t / 0.5)) if t < 0.5 else \
                cv2.convertScaleAbs(drift_b, alpha=_smooth((t - 0.5) / 0.5))  # fmt: skip
        if self.kind == "slide":
            return self._travel(self.image_a, self.image_b, _smooth(t), blur=False, t=t)
        if self.kind == "whip_pan":
            return self._travel(drift_a, drift_b, _whip_profile(t), blur=True, t=t)
        return self._zoom_through(t)

    def _travel(self, a: np.ndarray, b: np.ndarray, position: float, *, blur: bool, t: float) -> np.ndarray:
        """A leaves and B enters sideways, B following A edge to edge, as one camera pan."""
        shift = -self.direction * position * self.width
        frame = self._zoomed(a, 1.0, shift)
        incoming = self._zoomed(b, 1.0, shift + self.direction * self.width)
        edge = round(self.width + shift) if self.direction > 0 else round(-shift)
        edge = min(self.width, max(0, edge))
        if self.direction > 0:
            frame[:, edge:] = incoming[:, edge:]
        else:
            frame[:, :edge] = incoming[:, :edge]
        if blur:
            # Motion blur as long as the pan travels in one frame (a shutter open all frame long).
            dt = 1.0 / self.num_frames
            speed = (
                abs(_whip_profile(min(1.0, t + dt / 2)) - _whip_profile(max(0.0, t - dt / 2))) * self.width
            )
            length = int(min(self.width / 3, speed))
            if length >= 3:
                frame = cv2.blur(frame, (length, 1))
        return frame

    def _zoom_through(self, t: float) -> np.ndarray:
        """Push into A, faster and faster, and come out of the same push settling on B.

        A's zoom accelerates until 0.6, B's decelerates from 0.4 at the same rate, so the push
        never stalls; they crossfade over [0.4, 0.6] under a blur that peaks mid-way.
        """
        peak = 3.0
        zoom_a = 1.0 + (peak - 1.0) * (min(t, 0.6) / 0.6) ** 2
        zoom_b = 1.0 + (peak - 1.0) * (min(1.0 - t, 0.6) / 0.6) ** 2
        w = _smooth((t - 0.4) / 0.2)
        if w <= 0.0:
            frame = self._zoomed(self.image_a, zoom_a)
        elif w >= 1.0:
            frame = self._zoomed(self.image_b, zoom_b)
        else:
            frame = cv2.addWeighted(
                self._zoomed(self.image_a, zoom_a), 1.0 - w, self._zoomed(self.image_b, zoom_b), w, 0.0
            )
        closeness = max(0.0, 1.0 - abs(t - 0.5) / 0.3)
        sigma = 10.0 * closeness**2 * self.width / 1280.0
        if sigma > 0.3:
            frame = cv2.GaussianBlur(frame, (0, 0), sigma)
        return frame
