"""Image-to-video: v2 turbo, v2.1 (integer duration) and v2.2 (duration 5 or 10)."""

from __future__ import annotations

from pydantic import Field

from .common import (
    DurationEnum,
    FileUrl,
    RequestModel,
    Resolution,
    Seed,
    enum_duration_field,
    int_duration_field,
    optional_prompt_field,
    prompt_field,
    resolution_field,
    seed_field,
)


class ImageToVideoRequest(RequestModel):
    """v2 turbo and v2.1 image-to-video."""

    image_url: FileUrl = Field(
        ...,
        description="URL of the image to use as the first frame",
        examples=[
            "https://storage.googleapis.com/falserverless/example_inputs/pika/pika_i2v_v2_turbo_input.png"
        ],
    )
    prompt: str = prompt_field(examples=["Camera slow dolly out"])
    seed: Seed | None = seed_field()
    negative_prompt: str = optional_prompt_field('A negative prompt to guide the model Default value: ""', "")
    resolution: Resolution = resolution_field()
    duration: int = int_duration_field()


class Pika22ImageToVideoRequest(RequestModel):
    image_url: FileUrl = Field(..., description="URL of the image to use as the first frame")
    prompt: str = prompt_field()
    seed: Seed | None = seed_field()
    negative_prompt: str = optional_prompt_field('A negative prompt to guide the model Default value: ""', "")
    resolution: Resolution = resolution_field()
    duration: DurationEnum = enum_duration_field()
