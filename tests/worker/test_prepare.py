"""Request -> engine task, with real media passed as data: URIs through openpika.inputs."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from skimage import data as skdata

from openpika.endpoints import get_endpoint
from openpika.engines.tasks import (
    AdditionTask,
    EffectTask,
    ImageToVideoTask,
    KeyframesTask,
    ScenesTask,
    SwapTask,
    TextToVideoTask,
)
from openpika.errors import InputError
from openpika.media.encode import encode_mp4
from openpika.settings import Settings
from openpika.worker.prepare import build_task, capped_size

SETTINGS = Settings()


def png_uri(image: np.ndarray) -> str:
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    assert ok
    return "data:image/png;base64," + base64.b64encode(encoded.tobytes()).decode()


@pytest.fixture(scope="module")
def cat() -> str:
    return png_uri(skdata.chelsea())  # 451 x 300


@pytest.fixture(scope="module")
def portrait() -> str:
    return png_uri(skdata.coffee()[:, :300])  # 300 x 400


@pytest.fixture(scope="module")
def clip_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """1.5 s at 30 fps, 320x240: a moving bar."""
    path = Path(tmp_path_factory.mktemp("video")) / "in.mp4"
    frames = []
    for i in range(45):
        frame = np.full((240, 320, 3), 40, np.uint8)
        frame[:, i * 6 : i * 6 + 20] = (250, 200, 30)
        frames.append(frame)
    encode_mp4(frames, path, width=320, height=240, fps=30)
    return "data:video/mp4;base64," + base64.b64encode(path.read_bytes()).decode()


def build(endpoint_id: str, payload: dict[str, Any], log: list[str] | None = None) -> Any:
    spec = get_endpoint(endpoint_id)
    assert spec is not None
    request = spec.input_model.model_validate(payload)
    return build_task(spec, request, SETTINGS, (log if log is not None else []).append)


def test_image_to_video_keeps_the_image_aspect_at_the_resolution(cat: str) -> None:
    task = build(
        "fal-ai/pika/v2.1/image-to-video", {"image_url": cat, "prompt": "p", "duration": 3, "seed": 5}
    )
    assert isinstance(task, ImageToVideoTask)
    assert task.image.shape == (300, 451, 3) and task.image.dtype == np.uint8
    assert (task.output.width, task.output.height, task.output.fps, task.output.num_frames) == (
        1082,
        720,
        24,
        72,
    )
    assert (task.seed, task.version, task.turbo, task.prompt) == (5, "v2.1", False, "p")

    hd = build(
        "fal-ai/pika/v2.2/image-to-video",
        {"image_url": cat, "prompt": "p", "duration": "10", "resolution": "1080p"},
    )
    assert (hd.output.width, hd.output.height, hd.output.num_frames) == (1624, 1080, 240)
    turbo = build("fal-ai/pika/v2/turbo/image-to-video", {"image_url": cat, "prompt": "p"})
    assert turbo.turbo is True and turbo.version == "v2" and turbo.output.num_frames == 120


def test_text_to_video_uses_the_aspect_ratio() -> None:
    task = build(
        "fal-ai/pika/v2.2/text-to-video", {"prompt": "p", "aspect_ratio": "9:16", "resolution": "1080p"}
    )
    assert isinstance(task, TextToVideoTask)
    assert (task.output.width, task.output.height, task.output.num_frames) == (1080, 1920, 120)
    assert task.negative_prompt == "ugly, bad, terrible"


def test_pikaframes_transitions_and_the_extra_last_frame(cat: str, portrait: str) -> None:
    payload = {
        "image_urls": [cat, portrait, cat],
        "transitions": [{"duration": 2}, {"duration": 3, "prompt": "zoom"}],
        "prompt": "global",
        "seed": 1,
    }
    task = build("fal-ai/pika/v2.2/pikaframes", payload)
    assert isinstance(task, KeyframesTask)
    assert [k.shape for k in task.keyframes] == [(300, 451, 3), (400, 300, 3), (300, 451, 3)]
    assert [(t.num_frames, t.prompt) for t in task.transitions] == [(48, "global"), (72, "zoom")]
    assert task.output.num_frames == 121
    assert (task.output.width, task.output.height) == (1082, 720)  # the first keyframe's aspect


def test_pikascenes_both_request_forms(cat: str, portrait: str) -> None:
    v22 = build(
        "fal-ai/pika/v2.2/pikascenes", {"image_urls": [cat, portrait], "prompt": "p", "aspect_ratio": "1:1"}
    )
    assert isinstance(v22, ScenesTask)
    assert len(v22.images) == 2 and v22.mode == "precise" and v22.version == "v2.2"
    assert (v22.output.width, v22.output.height, v22.output.num_frames) == (1080, 1080, 120)
    v21 = build(
        "fal-ai/pika/v2.1/pikascenes", {"images": [{"image_url": portrait}], "prompt": "p", "duration": 2}
    )
    assert v21.mode == "creative" and (v21.output.width, v21.output.height, v21.output.num_frames) == (
        1280,
        720,
        48,
    )


def test_pikaffects_keeps_small_images_small_and_caps_big_ones(cat: str) -> None:
    small = build("fal-ai/pika/v1.5/pikaffects", {"image_url": cat, "pikaffect": "Melt"})
    assert isinstance(small, EffectTask) and small.effect == "Melt" and small.prompt == ""
    assert (small.output.width, small.output.height, small.output.num_frames) == (452, 300, 120)
    big_image = cv2.resize(skdata.chelsea(), (2000, 1500))
    big = build("fal-ai/pika/v1.5/pikaffects", {"image_url": png_uri(big_image), "pikaffect": "Inflate"})
    assert (big.output.width, big.output.height) == (1440, 1080)


def test_video_edits_follow_the_input_video(clip_uri: str, cat: str) -> None:
    add = build("fal-ai/pika/v2/pikadditions", {"video_url": clip_uri, "image_url": cat, "prompt": "a cat"})
    assert isinstance(add, AdditionTask)
    assert add.video.frames.shape == (45, 240, 320, 3) and add.video.fps == pytest.approx(30)
    # 1.5 s of input at 30 fps becomes 1.5 s at 24 fps.
    assert (add.output.width, add.output.height, add.output.fps, add.output.num_frames) == (320, 240, 24, 36)
    swap = build("fal-ai/pika/v2/pikaswaps", {"video_url": clip_uri, "modify_region": "the bar"})
    assert isinstance(swap, SwapTask) and swap.image is None and swap.modify_region == "the bar"
    assert swap.output.num_frames == 36


def test_capped_size() -> None:
    assert capped_size(1920, 1440) == (1440, 1080)
    assert capped_size(1080, 1920) == (1080, 1920)
    assert capped_size(321, 241) == (320, 240)  # media.geometry.even rounds half to even


def test_seed_is_kept_or_drawn_and_logged() -> None:
    assert build("fal-ai/pika/v2.2/text-to-video", {"prompt": "p", "seed": 123}).seed == 123
    log: list[str] = []
    seeds = {build("fal-ai/pika/v2.2/text-to-video", {"prompt": "p"}, log).seed for _ in range(5)}
    assert len(seeds) > 1
    assert len(log) == 5 and all(line.startswith("No seed given; using seed ") for line in log)


def test_a_bad_image_names_its_exact_field(cat: str) -> None:
    bad = "data:image/png;base64," + base64.b64encode(b"definitely not a png").decode()
    with pytest.raises(InputError) as caught:
        build(
            "fal-ai/pika/v2.1/pikascenes", {"images": [{"image_url": cat}, {"image_url": bad}], "prompt": "p"}
        )
    assert caught.value.loc == ("body", "images", 1, "image_url")
    with pytest.raises(InputError) as caught:
        build("fal-ai/pika/v2.2/pikaframes", {"image_urls": [cat, bad]})
    assert caught.value.loc == ("body", "image_urls", 1)


# --- files uploaded to this server are read from the file store, not fetched -------------------


def _decoded(uri: str) -> bytes:
    return base64.b64decode(uri.split(",", 1)[1])


def test_uploaded_files_are_read_from_the_store(tmp_path: Path, cat: str, clip_uri: str) -> None:
    """https://localhost/files/... is loopback: the SSRF guard would refuse it, so the worker must
    find the key in its own file store (direct keys and initiated-upload aliases alike)."""
    from openpika.storage import open_file_store
    from openpika.storage.uploads import record_alias

    settings = Settings(data_dir=tmp_path)
    files = open_file_store(settings)
    image = files.save_bytes(_decoded(cat), content_type="image/png", file_name="cat.png")
    video = files.save_bytes(_decoded(clip_uri), content_type="video/mp4", file_name="clip.mp4")
    alias = "u" + "A" * 22
    record_alias(tmp_path, alias, image.key)
    spec = get_endpoint("fal-ai/pika/v2/pikadditions")
    assert spec is not None
    request = spec.input_model.model_validate(
        {
            "video_url": f"https://localhost:8001/files/{video.key}/clip.mp4",
            "image_url": f"https://127.0.0.1:8001/queue/files/{alias}/cat.png",
        }
    )
    task = build_task(spec, request, settings)
    assert isinstance(task, AdditionTask)
    assert task.object_image.shape == (300, 451, 3)
    assert task.video.frames.shape == (45, 240, 320, 3)


def test_unknown_own_looking_urls_still_go_through_the_guard(tmp_path: Path, cat: str) -> None:
    """A /files/ path whose key is not stored (or whose name differs) is fetched as any URL would
    be: through the guard, which refuses loopback; nothing is read from the store by mistake."""
    from openpika.storage import open_file_store

    settings = Settings(data_dir=tmp_path)
    stored = open_file_store(settings).save_bytes(
        _decoded(cat), content_type="image/png", file_name="cat.png"
    )
    spec = get_endpoint("fal-ai/pika/v2.2/image-to-video")
    assert spec is not None
    for url in (
        f"https://localhost:8001/files/{'B' * 24}/cat.png",  # unknown key
        f"https://localhost:8001/files/{stored.key}/dog.png",  # known key, other name
    ):
        request = spec.input_model.model_validate({"image_url": url, "prompt": "p"})
        with pytest.raises(InputError) as refused:
            build_task(spec, request, settings)
        assert refused.value.loc == ("body", "image_url")
        assert "non-public address" in refused.value.message  # the guard's verdict
