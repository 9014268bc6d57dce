"""Pikaframes (v2.2): 2-5 keyframes, one transition between each consecutive pair."""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from .common import (
    FileUrl,
    RequestModel,
    Resolution,
    Seed,
    optional_prompt_field,
    resolution_field,
    seed_field,
)

MAX_TOTAL_SECONDS = 25
DEFAULT_TRANSITION_SECONDS = 5


class KeyframeTransition(RequestModel):
    duration: int = Field(
        DEFAULT_TRANSITION_SECONDS,
        ge=1,
        le=MAX_TOTAL_SECONDS,
        description="Duration of this transition in seconds Default value: 5",
    )
    prompt: str | None = optional_prompt_field(
        "Specific prompt for this transition. Overrides the global prompt if provided."
    )


class PikaframesRequest(RequestModel):
    image_urls: list[FileUrl] = Field(
        ...,
        min_length=2,
        max_length=5,
        description="URLs of keyframe images (2-5 images) to create transitions between",
        examples=[
            [
                "https://v3b.fal.media/files/b/tiger/-YohU0xcPcWe_eiUB9_i6_keyframes-apple-start.png",
                "https://v3b.fal.media/files/b/tiger/LarvwQGEFqEmF8fkgDB8R_keyframes-apple-end.png",
            ]
        ],
    )
    transitions: list[KeyframeTransition] | None = Field(
        None,
        description="Configuration for each transition. Length must be len(image_urls) - 1. Total duration of all "
        "transitions must not exceed 25 seconds. If not provided, uses default 5-second transitions with the "
        "global prompt.",
    )
    prompt: str | None = optional_prompt_field(
        "Default prompt for all transitions. Individual transition prompts override this."
    )
    negative_prompt: str = optional_prompt_field('A negative prompt to guide the model Default value: ""', "")
    seed: Seed | None = seed_field()
    resolution: Resolution = resolution_field()

    @field_validator("transitions")
    @classmethod
    def _check_transitions(
        cls, transitions: list[KeyframeTransition] | None, info: ValidationInfo
    ) -> list[KeyframeTransition] | None:
        # A field validator (not a model validator) so that the error's loc is ("body", "transitions").
        if transitions is None:
            return None
        image_urls = info.data.get("image_urls")
        if image_urls is not None and len(transitions) != len(image_urls) - 1:
            raise PydanticCustomError(
                "transitions_length",
                "transitions must have len(image_urls) - 1 = {expected} entries, got {got}",
                {"expected": len(image_urls) - 1, "got": len(transitions)},
            )
        total = sum(t.duration for t in transitions)
        if total > MAX_TOTAL_SECONDS:
            raise PydanticCustomError(
                "transitions_too_long",
                "total duration of all transitions must not exceed {limit} seconds, got {total}",
                {"limit": MAX_TOTAL_SECONDS, "total": total},
            )
        return transitions

    def resolved_transitions(self) -> list[KeyframeTransition]:
        """One transition per keyframe pair, defaults filled in and the global prompt applied."""
        if self.transitions is None:
            return [
                KeyframeTransition(duration=DEFAULT_TRANSITION_SECONDS, prompt=self.prompt)
                for _ in range(len(self.image_urls) - 1)
            ]
        return [
            KeyframeTransition(duration=t.duration, prompt=t.prompt or self.prompt) for t in self.transitions
        ]
