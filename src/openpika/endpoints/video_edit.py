"""Pikadditions (insert an object into a video) and Pikaswaps (replace a region of a video), v2."""

from __future__ import annotations

from pydantic import Field

from .common import FileUrl, RequestModel, Seed, optional_prompt_field, seed_field


class PikadditionsRequest(RequestModel):
    video_url: FileUrl = Field(..., description="URL of the input video")
    image_url: FileUrl = Field(..., description="URL of the image to add")
    prompt: str | None = optional_prompt_field("Text prompt describing what to add")
    negative_prompt: str | None = optional_prompt_field("Negative prompt to guide the model")
    seed: Seed | None = seed_field()


class PikaswapsRequest(RequestModel):
    video_url: FileUrl = Field(..., description="URL of the input video")
    image_url: FileUrl | None = Field(None, description="URL of the image to swap with")
    modify_region: str | None = optional_prompt_field("Plaintext description of the object/region to modify")
    prompt: str | None = optional_prompt_field("Text prompt describing the modification")
    negative_prompt: str | None = optional_prompt_field("Negative prompt to guide the model")
    seed: Seed | None = seed_field()
