"""The endpoint registry: every Pika endpoint id openpika serves, with its exact input schema.

This package is a leaf: it imports pydantic only. The API validates requests with these models,
the worker maps them to engine tasks (``openpika.worker.prepare``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from .common import File, VideoOutput
from .image_to_video import ImageToVideoRequest, Pika22ImageToVideoRequest
from .pikaffects import PIKAFFECTS, PikaffectsRequest
from .pikaframes import KeyframeTransition, PikaframesRequest
from .pikascenes import CollectionToVideoRequest, Pika22PikascenesRequest, PikaImage
from .text_to_video import Pika22TextToVideoRequest, TextToVideoRequest
from .video_edit import PikadditionsRequest, PikaswapsRequest

TaskKind = Literal[
    "image-to-video", "text-to-video", "pikaframes", "pikascenes", "pikaffects", "pikadditions", "pikaswaps"
]

_I2V_IMAGE = "https://storage.googleapis.com/falserverless/example_inputs/pika/pika_i2v_v2_turbo_input.png"


@dataclass(frozen=True)
class EndpointSpec:
    endpoint_id: str
    title: str
    description: str
    kind: TaskKind
    version: str  # "v2", "v2.1", "v2.2", "v1.5"
    input_model: type[BaseModel]
    output_model: type[BaseModel] = VideoOutput
    turbo: bool = False
    example: dict[str, Any] = field(default_factory=dict)

    @property
    def owner_alias(self) -> str:
        """fal's status/result/cancel URLs use only the first two segments (``fal-ai/pika``)."""
        return "/".join(self.endpoint_id.split("/")[:2])


ENDPOINTS: dict[str, EndpointSpec] = {
    spec.endpoint_id: spec
    for spec in [
        EndpointSpec(
            "fal-ai/pika/v2/turbo/image-to-video",
            "Pika Image to Video Turbo (v2)",
            "Turn an image into video, fastest tier.",
            "image-to-video",
            "v2",
            ImageToVideoRequest,
            turbo=True,
            example={"image_url": _I2V_IMAGE, "prompt": "Camera slow dolly out"},
        ),
        EndpointSpec(
            "fal-ai/pika/v2.1/image-to-video",
            "Pika Image to Video (v2.1)",
            "Turn an image into video with cinematic camera moves.",
            "image-to-video",
            "v2.1",
            ImageToVideoRequest,
            example={"image_url": _I2V_IMAGE, "prompt": "Camera slow dolly out"},
        ),
        EndpointSpec(
            "fal-ai/pika/v2.2/image-to-video",
            "Pika Image to Video (v2.2)",
            "Turn an image into a 5 or 10 second video.",
            "image-to-video",
            "v2.2",
            Pika22ImageToVideoRequest,
            example={"image_url": _I2V_IMAGE, "prompt": "Camera slow dolly out"},
        ),
        EndpointSpec(
            "fal-ai/pika/v2/turbo/text-to-video",
            "Pika Text to Video Turbo (v2)",
            "Generate video from text, fastest tier.",
            "text-to-video",
            "v2",
            TextToVideoRequest,
            turbo=True,
            example={"prompt": "A lighthouse on a cliff at dusk, waves crashing"},
        ),
        EndpointSpec(
            "fal-ai/pika/v2.1/text-to-video",
            "Pika Text to Video (v2.1)",
            "Generate video from text.",
            "text-to-video",
            "v2.1",
            TextToVideoRequest,
            example={"prompt": "A lighthouse on a cliff at dusk, waves crashing"},
        ),
        EndpointSpec(
            "fal-ai/pika/v2.2/text-to-video",
            "Pika Text to Video (v2.2)",
            "Generate a 5 or 10 second video from text.",
            "text-to-video",
            "v2.2",
            Pika22TextToVideoRequest,
            example={"prompt": "A lighthouse on a cliff at dusk, waves crashing"},
        ),
        EndpointSpec(
            "fal-ai/pika/v2.2/pikaframes",
            "Pikaframes (v2.2)",
            "Keyframe interpolation: 2-5 keyframes, per-transition duration and prompt, at most 25 s.",
            "pikaframes",
            "v2.2",
            PikaframesRequest,
            example={
                "image_urls": [
                    "https://v3b.fal.media/files/b/tiger/-YohU0xcPcWe_eiUB9_i6_keyframes-apple-start.png",
                    "https://v3b.fal.media/files/b/tiger/LarvwQGEFqEmF8fkgDB8R_keyframes-apple-end.png",
                ],
                "prompt": "smooth cinematic transition",
            },
        ),
        EndpointSpec(
            "fal-ai/pika/v2.2/pikascenes",
            "Pikascenes (v2.2)",
            "Combine several reference images into one video.",
            "pikascenes",
            "v2.2",
            Pika22PikascenesRequest,
        ),
        EndpointSpec(
            "fal-ai/pika/v2.1/pikascenes",
            "Collection to Video (v2.1 pikascenes)",
            "The CollectionToVideoRequest form (images: [{image_url}]). fal documents no public id for it; "
            "openpika serves it here.",
            "pikascenes",
            "v2.1",
            CollectionToVideoRequest,
        ),
        EndpointSpec(
            "fal-ai/pika/v1.5/pikaffects",
            "Pikaffects (v1.5)",
            "Apply one of 16 named effects to the subject of an image.",
            "pikaffects",
            "v1.5",
            PikaffectsRequest,
        ),
        EndpointSpec(
            "fal-ai/pika/v2/pikadditions",
            "Pikadditions (v2)",
            "Insert an object from an image into a video.",
            "pikadditions",
            "v2",
            PikadditionsRequest,
        ),
        EndpointSpec(
            "fal-ai/pika/v2/pikaswaps",
            "Pikaswaps (v2)",
            "Replace a region of a video.",
            "pikaswaps",
            "v2",
            PikaswapsRequest,
        ),
    ]
}


def get_endpoint(endpoint_id: str) -> EndpointSpec | None:
    return ENDPOINTS.get(endpoint_id.strip("/"))


__all__ = [
    "ENDPOINTS",
    "PIKAFFECTS",
    "CollectionToVideoRequest",
    "EndpointSpec",
    "File",
    "ImageToVideoRequest",
    "KeyframeTransition",
    "Pika22ImageToVideoRequest",
    "Pika22PikascenesRequest",
    "Pika22TextToVideoRequest",
    "PikaImage",
    "PikadditionsRequest",
    "PikaffectsRequest",
    "PikaframesRequest",
    "PikaswapsRequest",
    "TaskKind",
    "TextToVideoRequest",
    "VideoOutput",
    "get_endpoint",
]
