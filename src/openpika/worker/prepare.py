"""A validated request -> an engine task: fetch and decode the media, fix the output size, frame count
and seed. Engines then see pixels and numbers only (engines/tasks.py).

Output sizes (even sides, ``settings.fps`` frames per second):
- image-to-video, pikaframes: the (first) image's aspect with the short side at ``resolution``;
- text-to-video, pikascenes: ``aspect_ratio`` with the short side at ``resolution``;
- pikaffects: the image's aspect, short side ``min(1080, image short side)``, 5 seconds;
- pikadditions, pikaswaps: the input video's size (short side capped at 1080) and duration.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import numpy as np
from pydantic import BaseModel

from ..endpoints import (
    CollectionToVideoRequest,
    EndpointSpec,
    PikadditionsRequest,
    PikaffectsRequest,
    PikaframesRequest,
    PikaswapsRequest,
)
from ..engines.tasks import (
    AdditionTask,
    EffectTask,
    EngineTask,
    ImageToVideoTask,
    InputVideo,
    KeyframesTask,
    OutputSpec,
    ScenesTask,
    SwapTask,
    TextToVideoTask,
    Transition,
)
from ..errors import StorageError
from ..media.geometry import even, size_for_image, size_for_ratio
from ..settings import Settings
from ..storage import FileStore, open_file_store
from ..storage.uploads import resolve_alias

EFFECT_SECONDS = 5
MAX_SHORT_SIDE = 1080
SEED_RANGE = 2**32

Log = Callable[[str], None]


def _load_image(url: str, loc: tuple[str | int, ...], settings: Settings) -> np.ndarray:
    from ..inputs import image_from_bytes, load_image  # guarded fetch (SSRF checks, caps), safe decoding

    own = own_file_path(url, settings)
    if own is not None:
        return image_from_bytes(own.read_bytes(), loc, settings)
    return load_image(url, loc, settings)


def _load_video(url: str, loc: tuple[str | int, ...], settings: Settings) -> InputVideo:
    from ..inputs import load_video, video_from_file

    own = own_file_path(url, settings)
    if own is not None:
        return video_from_file(own, loc, settings)
    return load_video(url, loc, settings)


_FILE_STORES: dict[tuple[str, Path], FileStore] = {}


def _file_store(settings: Settings) -> FileStore:
    # One store per data dir for the worker's lifetime (opening a local store scans its root).
    where = (settings.file_store, Path(settings.data_dir))
    if where not in _FILE_STORES:
        _FILE_STORES[where] = open_file_store(settings)
    return _FILE_STORES[where]


def own_file_path(url: str, settings: Settings) -> Path | None:
    """The local path of a file this server stores, when ``url`` names one; else None.

    Uploads hand out ``https://<this server>/files/{key}/{name}`` URLs (``{key}`` may be an upload
    alias). Fetching them over the network would go through the SSRF guard, which rightly refuses
    loopback and private addresses, so they are read from the file store instead. Any host is
    accepted: the server may be reached under many names, and the key (128 random bits) is the
    permission to read the file, exactly as for ``GET /files/...``. A path that only looks like
    ours (unknown key, other name, e.g. fal's own CDN URLs) returns None and is fetched through the
    guard as usual; our own host is never fetched over the network."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        return None
    segments = unquote(parts.path).split("/")
    if len(segments) < 3 or segments[-3] != "files":
        return None
    key, name = segments[-2], segments[-1]
    try:
        files = _file_store(settings)
    except (ValueError, StorageError):
        return None  # no local store to look in: the guarded fetch decides
    stored = files.get(key)
    if stored is None:
        real_key = resolve_alias(Path(settings.data_dir), key)
        stored = files.get(real_key) if real_key else None
    if stored is None or stored.file_name != name:
        return None
    return files.path_for(stored.key)


def capped_size(width: int, height: int, cap: int = MAX_SHORT_SIDE) -> tuple[int, int]:
    """The same aspect with the short side at most ``cap``; both sides even."""
    scale = min(1.0, cap / min(width, height))
    return even(width * scale), even(height * scale)


def choose_seed(requested: int | None, log: Log) -> int:
    """The engine seed: the request's (any 64-bit integer, negative too) folded into [0, SEED_RANGE),
    because numpy refuses negative seeds and OpenCV's RNG takes a C int; or a random one, logged."""
    if requested is not None:
        return requested % SEED_RANGE
    seed = secrets.randbelow(SEED_RANGE)
    log(f"No seed given; using seed {seed}")
    return seed


def build_task(
    spec: EndpointSpec, request: BaseModel, settings: Settings, log: Log = lambda _: None
) -> EngineTask:
    """The engine task for ``request`` (already validated with ``spec.input_model``).
    Raises ``InputError`` (422) when a media URL cannot be fetched or decoded."""
    fps = settings.fps
    data: Any = request
    seed = choose_seed(data.seed, log)

    if spec.kind == "image-to-video":
        image = _load_image(data.image_url, ("body", "image_url"), settings)
        width, height = size_for_image(image.shape[1], image.shape[0], data.resolution)
        output = OutputSpec(width, height, fps, int(data.duration) * fps)
        return ImageToVideoTask(
            image, data.prompt, data.negative_prompt or "", seed, output, spec.version, turbo=spec.turbo
        )

    if spec.kind == "text-to-video":
        width, height = size_for_ratio(data.aspect_ratio, data.resolution)
        output = OutputSpec(width, height, fps, int(data.duration) * fps)
        return TextToVideoTask(
            data.prompt, data.negative_prompt or "", seed, output, spec.version, turbo=spec.turbo
        )

    if spec.kind == "pikaframes":
        assert isinstance(request, PikaframesRequest)
        keyframes = [
            _load_image(url, ("body", "image_urls", i), settings) for i, url in enumerate(request.image_urls)
        ]
        width, height = size_for_image(keyframes[0].shape[1], keyframes[0].shape[0], request.resolution)
        transitions = [Transition(t.duration * fps, t.prompt) for t in request.resolved_transitions()]
        output = OutputSpec(width, height, fps, sum(t.num_frames for t in transitions) + 1)
        return KeyframesTask(keyframes, transitions, request.negative_prompt or "", seed, output)

    if spec.kind == "pikascenes":
        if isinstance(request, CollectionToVideoRequest):
            images = [
                _load_image(item.image_url, ("body", "images", i, "image_url"), settings)
                for i, item in enumerate(request.images)
            ]
        else:
            images = [
                _load_image(url, ("body", "image_urls", i), settings) for i, url in enumerate(data.image_urls)
            ]
        width, height = size_for_ratio(data.aspect_ratio, data.resolution)
        output = OutputSpec(width, height, fps, int(data.duration) * fps)
        return ScenesTask(
            images, data.prompt, data.negative_prompt or "", seed, output, data.ingredients_mode, spec.version
        )

    if spec.kind == "pikaffects":
        assert isinstance(request, PikaffectsRequest)
        image = _load_image(request.image_url, ("body", "image_url"), settings)
        image_h, image_w = image.shape[:2]
        width, height = capped_size(image_w, image_h)
        output = OutputSpec(width, height, fps, EFFECT_SECONDS * fps)
        return EffectTask(
            image, request.pikaffect, request.prompt or "", request.negative_prompt or "", seed, output
        )

    if spec.kind == "pikadditions":
        assert isinstance(request, PikadditionsRequest)
        video = _load_video(request.video_url, ("body", "video_url"), settings)
        object_image = _load_image(request.image_url, ("body", "image_url"), settings)
        output = _video_output(video, fps)
        return AdditionTask(
            video, object_image, request.prompt or "", request.negative_prompt or "", seed, output
        )

    if spec.kind == "pikaswaps":
        assert isinstance(request, PikaswapsRequest)
        video = _load_video(request.video_url, ("body", "video_url"), settings)
        swap_image = None
        if request.image_url:
            swap_image = _load_image(request.image_url, ("body", "image_url"), settings)
        output = _video_output(video, fps)
        return SwapTask(
            video,
            swap_image,
            request.modify_region or "",
            request.prompt or "",
            request.negative_prompt or "",
            seed,
            output,
        )

    raise ValueError(f"no task builder for endpoint kind {spec.kind!r}")


def _video_output(video: InputVideo, fps: int) -> OutputSpec:
    """The input video's size (capped) and duration, resampled to the output frame rate."""
    height, width = video.frames.shape[1:3]
    out_w, out_h = capped_size(int(width), int(height))
    seconds = video.num_frames / video.fps if video.fps > 0 else video.num_frames / fps
    return OutputSpec(out_w, out_h, fps, max(1, round(seconds * fps)))
