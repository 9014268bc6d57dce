"""Pikascenes (v2.2, ``image_urls``) and the collection-to-video form (``images``), served as v2.1."""

from __future__ import annotations

from pydantic import Field

from .common import (
    AspectRatio,
    DurationEnum,
    FileUrl,
    IngredientsMode,
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

MAX_SCENE_IMAGES = 6  # fal does not state a limit; Pika's UI takes up to 6 ingredients


class Pika22PikascenesRequest(RequestModel):
    image_urls: list[FileUrl] = Field(
        ...,
        min_length=1,
        max_length=MAX_SCENE_IMAGES,
        description=f"URLs of images to combine into a video (openpika accepts 1-{MAX_SCENE_IMAGES})",
    )
    prompt: str = prompt_field("Text prompt describing the desired video")
    negative_prompt: str = optional_prompt_field(
        'A negative prompt to guide the model Default value: "ugly, bad, terrible"', "ugly, bad, terrible"
    )
    seed: Seed | None = seed_field()
    aspect_ratio: AspectRatio = aspect_ratio_field()
    resolution: Resolution = resolution_field("1080p")
    duration: DurationEnum = enum_duration_field()
    ingredients_mode: IngredientsMode = Field(
        "precise",
        description="Mode for integrating multiple images. Precise mode is more accurate, creative mode is more "
        'creative. Default value: "precise"',
    )


class PikaImage(RequestModel):
    image_url: FileUrl = Field(..., description="URL of the image")


class CollectionToVideoRequest(RequestModel):
    images: list[PikaImage] = Field(
        ...,
        min_length=1,
        max_length=MAX_SCENE_IMAGES,
        description=f"List of images to use for video generation (openpika accepts 1-{MAX_SCENE_IMAGES})",
    )
    prompt: str = prompt_field()
    seed: Seed | None = seed_field()
    negative_prompt: str = optional_prompt_field('A negative prompt to guide the model Default value: ""', "")
    aspect_ratio: AspectRatio = aspect_ratio_field()
    resolution: Resolution = resolution_field()
    duration: int = int_duration_field()
    ingredients_mode: IngredientsMode = Field(
        "creative", description='Mode for integrating multiple images Default value: "creative"'
    )
