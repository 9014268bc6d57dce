"""Typed engine inputs. The worker builds them from validated requests after fetching and decoding
the media, so engines receive pixels and numbers, never URLs.

Images are RGB uint8 arrays (H, W, 3). Output sizes are already normalised: even, with the short
side at the requested resolution, and ``num_frames = seconds * fps`` (pikaframes adds one frame for
the last keyframe; see ``KeyframesTask``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Image = np.ndarray


@dataclass(frozen=True)
class OutputSpec:
    width: int
    height: int
    fps: int
    num_frames: int

    @property
    def seconds(self) -> float:
        return self.num_frames / self.fps


@dataclass
class ImageToVideoTask:
    image: Image
    prompt: str
    negative_prompt: str
    seed: int
    output: OutputSpec
    version: str  # "v2", "v2.1", "v2.2"
    turbo: bool = False


@dataclass
class TextToVideoTask:
    prompt: str
    negative_prompt: str
    seed: int
    output: OutputSpec
    version: str
    turbo: bool = False


@dataclass
class Transition:
    num_frames: int  # frames from keyframe i (inclusive) to keyframe i+1 (exclusive)
    prompt: str | None


@dataclass
class KeyframesTask:
    """``output.num_frames == sum(t.num_frames) + 1``: the last keyframe gets its own frame, so every
    keyframe i sits exactly at frame ``sum(num_frames of transitions before i)``."""

    keyframes: list[Image]
    transitions: list[Transition]
    negative_prompt: str
    seed: int
    output: OutputSpec


@dataclass
class ScenesTask:
    images: list[Image]
    prompt: str
    negative_prompt: str
    seed: int
    output: OutputSpec
    mode: str  # "precise" | "creative"
    version: str


@dataclass
class EffectTask:
    image: Image
    effect: str  # one of endpoints.PIKAFFECTS
    prompt: str
    negative_prompt: str
    seed: int
    output: OutputSpec


@dataclass
class InputVideo:
    """A decoded input video (already probed and size-limited by the media layer)."""

    frames: np.ndarray  # (T, H, W, 3) uint8
    fps: float

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])


@dataclass
class AdditionTask:
    video: InputVideo
    object_image: Image
    prompt: str
    negative_prompt: str
    seed: int
    output: OutputSpec


@dataclass
class SwapTask:
    video: InputVideo
    image: Image | None
    modify_region: str
    prompt: str
    negative_prompt: str
    seed: int
    output: OutputSpec
    extra: dict[str, object] = field(default_factory=dict)


EngineTask = (
    ImageToVideoTask | TextToVideoTask | KeyframesTask | ScenesTask | EffectTask | AdditionTask | SwapTask
)
