"""Pikaffects (v1.5): one of 16 named effects applied to the subject of an image."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field

from .common import FileUrl, RequestModel, Seed, optional_prompt_field, seed_field

PikaffectEnum = Literal[
    "Cake-ify",
    "Crumble",
    "Crush",
    "Decapitate",
    "Deflate",
    "Dissolve",
    "Explode",
    "Eye-pop",
    "Inflate",
    "Levitate",
    "Melt",
    "Peel",
    "Poke",
    "Squish",
    "Ta-da",
    "Tear",
]
PIKAFFECTS: tuple[str, ...] = get_args(PikaffectEnum)


class PikaffectsRequest(RequestModel):
    image_url: FileUrl = Field(..., description="URL of the input image")
    pikaffect: PikaffectEnum = Field(..., description="The Pikaffect to apply")
    prompt: str | None = optional_prompt_field("Text prompt to guide the effect")
    negative_prompt: str | None = optional_prompt_field("Negative prompt to guide the model")
    seed: Seed | None = seed_field()
