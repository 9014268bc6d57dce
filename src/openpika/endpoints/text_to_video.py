"""Text-to-video: v2 turbo and v2.1 (integer duration), v2.2 (duration 5 or 10)."""

from __future__ import annotations

from .common import (
    AspectRatio,
    DurationEnum,
    RequestModel,
    Resolution,
    Seed,
    aspect_ratio_field,
    enum_duration_field,
    int_duration_field,
    optional_prompt_field,
    prompt_field,
    resolution_field,
    seed_field,
)

_NEGATIVE = 'A negative prompt to guide the model Default value: "ugly, bad, terrible"'


class TextToVideoRequest(RequestModel):
    """v2 turbo and v2.1 text-to-video (fal documents only the v2.2 form; these differ in duration)."""

    prompt: str = prompt_field()
    seed: Seed | None = seed_field()
    negative_prompt: str = optional_prompt_field(_NEGATIVE, "ugly, bad, terrible")
    aspect_ratio: AspectRatio = aspect_ratio_field()
    resolution: Resolution = resolution_field()
    duration: int = int_duration_field()


class Pika22TextToVideoRequest(RequestModel):
    prompt: str = prompt_field()
    seed: Seed | None = seed_field()
    negative_prompt: str = optional_prompt_field(_NEGATIVE, "ugly, bad, terrible")
    aspect_ratio: AspectRatio = aspect_ratio_field()
    resolution: Resolution = resolution_field()
    duration: DurationEnum = enum_duration_field()
