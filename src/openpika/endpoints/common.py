"""Types shared by every Pika endpoint schema: enums, File, the video output, field helpers.

Field names, defaults and enums follow the fal API pages in ``shared/seeds``; where fal states no
limit (prompt length, integer durations) openpika sets one and documents it in the description.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

Resolution = Literal["720p", "1080p"]
AspectRatio = Literal["16:9", "9:16", "1:1", "4:5", "5:4", "3:2", "2:3"]
IngredientsMode = Literal["precise", "creative"]

MAX_PROMPT_CHARS = 5000
MIN_SECONDS = 1
MAX_SECONDS = 10  # for endpoints whose fal schema says only "integer"
INT63 = 2**63 - 1
URL_SCHEMES = ("http://", "https://", "data:")


def _coerce_numeric_string(value: Any) -> Any:
    """fal's pages print enum durations as strings ("5"); accept both "5" and 5."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return value


def _check_url(value: str) -> str:
    if not value.strip().lower().startswith(URL_SCHEMES):
        raise ValueError("must be an http(s) URL or a data: URI (data:<mime>;base64,<data>)")
    return value.strip()


FileUrl = Annotated[str, AfterValidator(_check_url)]
DurationEnum = Annotated[Literal[5, 10], BeforeValidator(_coerce_numeric_string)]
Seed = Annotated[int, Field(ge=-INT63 - 1, le=INT63)]

PROMPT_DESCRIPTION = f"Text prompt (at most {MAX_PROMPT_CHARS} characters)."


def prompt_field(description: str = PROMPT_DESCRIPTION, **kwargs: Any) -> Any:
    return Field(..., max_length=MAX_PROMPT_CHARS, description=description, **kwargs)


def optional_prompt_field(description: str, default: str | None = None, **kwargs: Any) -> Any:
    return Field(default, max_length=MAX_PROMPT_CHARS, description=description, **kwargs)


def seed_field() -> Any:
    return Field(None, description="The seed for the random number generator")


def resolution_field(default: Resolution = "720p") -> Any:
    return Field(default, description=f'The resolution of the generated video Default value: "{default}"')


def int_duration_field(default: int = 5) -> Any:
    return Field(
        default,
        ge=MIN_SECONDS,
        le=MAX_SECONDS,
        description=f"The duration of the generated video in seconds Default value: {default} "
        f"(openpika accepts {MIN_SECONDS}-{MAX_SECONDS})",
    )


def enum_duration_field() -> Any:
    return Field(5, description='The duration of the generated video in seconds Default value: "5"')


def aspect_ratio_field() -> Any:
    return Field("16:9", description='The aspect ratio of the generated video Default value: "16:9"')


class RequestModel(BaseModel):
    """Base of every input schema. Unknown fields are ignored, as fal's apps do."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


class File(BaseModel):
    """fal's File. ``file_data`` exists in fal's schema but is never serialised."""

    url: str = Field(..., description="The URL where the file can be downloaded from.")
    content_type: str | None = Field(None, description="The mime type of the file.")
    file_name: str | None = Field(
        None, description="The name of the file. It will be auto-generated if not provided."
    )
    file_size: int | None = Field(None, description="The size of the file in bytes.")


class VideoOutput(BaseModel):
    video: File = Field(..., description="The generated video")
