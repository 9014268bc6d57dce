"""Every seed schema: required fields, defaults, enums and limits, and the error locations."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from openpika.endpoints import ENDPOINTS, PIKAFFECTS, get_endpoint

IMG = "https://example.com/a.png"


def errors_of(endpoint_id: str, payload: dict) -> list[dict]:
    with pytest.raises(ValidationError) as info:
        ENDPOINTS[endpoint_id].input_model.model_validate(payload)
    return info.value.errors()


def test_every_documented_endpoint_is_registered() -> None:
    assert set(ENDPOINTS) == {
        "fal-ai/pika/v2/turbo/image-to-video",
        "fal-ai/pika/v2.1/image-to-video",
        "fal-ai/pika/v2.2/image-to-video",
        "fal-ai/pika/v2/turbo/text-to-video",
        "fal-ai/pika/v2.1/text-to-video",
        "fal-ai/pika/v2.2/text-to-video",
        "fal-ai/pika/v2.2/pikaframes",
        "fal-ai/pika/v2.2/pikascenes",
        "fal-ai/pika/v2.1/pikascenes",
        "fal-ai/pika/v1.5/pikaffects",
        "fal-ai/pika/v2/pikadditions",
        "fal-ai/pika/v2/pikaswaps",
    }
    assert get_endpoint("/fal-ai/pika/v2.2/pikaframes/").kind == "pikaframes"  # type: ignore[union-attr]
    assert ENDPOINTS["fal-ai/pika/v2.2/pikaframes"].owner_alias == "fal-ai/pika"


def test_image_to_video_defaults_match_the_seed() -> None:
    for eid in ("fal-ai/pika/v2/turbo/image-to-video", "fal-ai/pika/v2.1/image-to-video"):
        req = ENDPOINTS[eid].input_model.model_validate({"image_url": IMG, "prompt": "Camera slow dolly out"})
        assert req.model_dump() == {
            "image_url": IMG,
            "prompt": "Camera slow dolly out",
            "seed": None,
            "negative_prompt": "",
            "resolution": "720p",
            "duration": 5,
        }


def test_required_fields_missing_name_their_loc() -> None:
    errs = errors_of("fal-ai/pika/v2.2/image-to-video", {"image_url": IMG})
    assert [(e["loc"], e["type"]) for e in errs] == [(("prompt",), "missing")]


def test_v22_duration_is_5_or_10_and_accepts_the_documented_string_form() -> None:
    model = ENDPOINTS["fal-ai/pika/v2.2/image-to-video"].input_model
    assert model.model_validate({"image_url": IMG, "prompt": "x", "duration": "10"}).duration == 10  # type: ignore[attr-defined]
    errs = errors_of("fal-ai/pika/v2.2/image-to-video", {"image_url": IMG, "prompt": "x", "duration": 7})
    assert errs[0]["loc"] == ("duration",)


@pytest.mark.parametrize(
    "bad", [{"resolution": "4k"}, {"duration": 0}, {"duration": 11}, {"image_url": "ftp://x/y.png"}]
)
def test_bad_values_are_rejected(bad: dict) -> None:
    payload = {"image_url": IMG, "prompt": "x", **bad}
    errs = errors_of("fal-ai/pika/v2.1/image-to-video", payload)
    assert errs[0]["loc"] == (next(iter(bad)),)


def test_pikaframes_limits() -> None:
    eid = "fal-ai/pika/v2.2/pikaframes"
    assert errors_of(eid, {"image_urls": [IMG]})[0]["loc"] == ("image_urls",)
    assert errors_of(eid, {"image_urls": [IMG] * 6})[0]["loc"] == ("image_urls",)
    errs = errors_of(eid, {"image_urls": [IMG] * 3, "transitions": [{"duration": 5}]})
    assert errs[0]["loc"] == ("transitions",) and errs[0]["type"] == "transitions_length"
    errs = errors_of(eid, {"image_urls": [IMG] * 3, "transitions": [{"duration": 13}, {"duration": 13}]})
    assert errs[0]["loc"] == ("transitions",) and errs[0]["type"] == "transitions_too_long"
    req = ENDPOINTS[eid].input_model.model_validate(
        {"image_urls": [IMG] * 3, "prompt": "global", "transitions": [{"duration": 2}, {"prompt": "own"}]}
    )
    resolved = req.resolved_transitions()  # type: ignore[attr-defined]
    assert [(t.duration, t.prompt) for t in resolved] == [(2, "global"), (5, "own")]
    default = ENDPOINTS[eid].input_model.model_validate({"image_urls": [IMG] * 5})
    assert sum(t.duration for t in default.resolved_transitions()) == 20  # type: ignore[attr-defined]


def test_scenes_collection_and_effects_defaults() -> None:
    scenes = ENDPOINTS["fal-ai/pika/v2.2/pikascenes"].input_model.model_validate(
        {"image_urls": [IMG], "prompt": "p"}
    )
    assert (scenes.resolution, scenes.ingredients_mode, scenes.negative_prompt) == (  # type: ignore[attr-defined]
        "1080p",
        "precise",
        "ugly, bad, terrible",
    )
    coll = ENDPOINTS["fal-ai/pika/v2.1/pikascenes"].input_model.model_validate(
        {"images": [{"image_url": IMG}], "prompt": "p"}
    )
    assert (coll.ingredients_mode, coll.aspect_ratio, coll.resolution) == ("creative", "16:9", "720p")  # type: ignore[attr-defined]
    assert len(PIKAFFECTS) == 16
    errs = errors_of("fal-ai/pika/v1.5/pikaffects", {"image_url": IMG, "pikaffect": "Spin"})
    assert errs[0]["loc"] == ("pikaffect",) and errs[0]["type"] == "literal_error"
    errs = errors_of("fal-ai/pika/v2/pikaswaps", {})
    assert errs[0]["loc"] == ("video_url",)
