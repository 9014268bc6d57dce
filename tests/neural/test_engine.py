"""Every task through the production loader and runners, on tiny random-weight models (CPU).

Outputs are noise; what is checked is the serving code: exact output format, determinism per
seed, progress and logs per denoising step, cancellation mid-run, pipeline reuse, LoRA switching,
clear errors when weights are missing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from openpika.engines import select_engine
from openpika.engines.base import Clip
from openpika.engines.tasks import (
    AdditionTask,
    EffectTask,
    ImageToVideoTask,
    InputVideo,
    KeyframesTask,
    OutputSpec,
    ScenesTask,
    SwapTask,
    TextToVideoTask,
    Transition,
)
from openpika.errors import Cancelled, EngineUnavailable
from openpika.settings import Settings

from .conftest import Recorder, picture

pytestmark = [pytest.mark.neural, pytest.mark.timeout(240)]
OUT = OutputSpec(width=48, height=32, fps=24, num_frames=12)


def frames_of(clip: Clip) -> np.ndarray:
    return np.stack(list(clip.iter_frames()))


def video(num_frames: int = 12, fps: float = 24.0) -> InputVideo:
    base = picture(40, 30)
    return InputVideo(np.stack([np.roll(base, i, axis=1) for i in range(num_frames)]), fps)


def all_tasks(seed: int = 7) -> dict[str, Any]:
    image, other = picture(60, 40, 0), picture(60, 40, 1)
    return {
        "image-to-video": ImageToVideoTask(image, "a cat", "ugly", seed, OUT, "v2.2"),
        "image-to-video/turbo": ImageToVideoTask(image, "a cat", "", seed, OUT, "v2", turbo=True),
        "text-to-video": TextToVideoTask("a lighthouse on a cliff", "ugly", seed, OUT, "v2.1"),
        "text-to-video/turbo": TextToVideoTask("a lighthouse", "", seed, OUT, "v2", turbo=True),
        "pikaframes": KeyframesTask(
            [image, other, image],
            [Transition(6, "smooth"), Transition(10, "cinematic")],
            "",
            seed,
            OutputSpec(48, 32, 24, 17),
        ),
        "pikaframes/single-prompt": KeyframesTask(
            [image, other, image],
            [Transition(8, "smooth"), Transition(8, "smooth")],
            "",
            seed,
            OutputSpec(48, 32, 24, 17),
        ),
        "pikascenes": ScenesTask([image, other], "a cat and a dog", "ugly", seed, OUT, "precise", "v2.2"),
        "pikaffects": EffectTask(image, "Squish", "a cat", "", seed, OUT),
        "pikadditions": AdditionTask(video(), other, "add a cat", "", seed, OUT),
        "pikaswaps": SwapTask(video(), other, "the shirt", "", "", seed, OUT),
    }


@pytest.mark.parametrize("route", list(all_tasks()))
def test_every_route_returns_the_requested_format(
    engine: Any, recorder: Callable[..., Recorder], route: str
) -> None:
    task = all_tasks()[route]
    rec = recorder()
    assert engine.availability(task) is None
    clip = engine.run(task, rec.context())
    frames = frames_of(clip)
    out = task.output
    assert (clip.width, clip.height, clip.fps, clip.num_frames) == (
        out.width,
        out.height,
        out.fps,
        out.num_frames,
    )
    assert frames.shape == (out.num_frames, out.height, out.width, 3) and frames.dtype == np.uint8
    assert frames.std() > 1.0  # something was generated (noise), not a blank clip
    assert any(f"route {route} →" in line for line in rec.logs)
    segments = len(task.transitions) if route == "pikaframes" else 1
    assert rec.steps == 2 * segments  # one log line per denoising step
    assert (
        rec.progress == sorted(rec.progress) and rec.progress[-1] == 1.0 and len(rec.progress) >= 2 * segments
    )
    assert clip.encoder_preset == ("ultrafast" if route.endswith("/turbo") else None)


def test_the_native_format_and_the_resampling_are_logged(
    engine: Any, recorder: Callable[..., Recorder]
) -> None:
    rec = recorder()
    engine.run(all_tasks()["pikaffects"], rec.context())
    assert any(
        "resampling wan2.1-i2v-480p's 48x32, 9 frames at 16 fps to 48x32, 12 frames at 24 fps" in m
        for m in rec.logs
    )


def test_same_seed_same_video_other_seed_other_video(engine: Any, recorder: Callable[..., Recorder]) -> None:
    for route in ("image-to-video", "pikaframes", "pikadditions"):
        first = frames_of(engine.run(all_tasks(seed=11)[route], recorder().context()))
        again = frames_of(engine.run(all_tasks(seed=11)[route], recorder().context()))
        other = frames_of(engine.run(all_tasks(seed=12)[route], recorder().context()))
        assert np.array_equal(first, again), route
        assert not np.array_equal(first, other), route


def test_negative_prompt_reaches_the_pipeline(engine: Any, recorder: Callable[..., Recorder]) -> None:
    with_negative = TextToVideoTask("a lighthouse", "ugly bad", 5, OUT, "v2.2")
    without = TextToVideoTask("a lighthouse", "", 5, OUT, "v2.2")
    first = frames_of(engine.run(with_negative, recorder().context()))
    assert not np.array_equal(first, frames_of(engine.run(without, recorder().context())))


def test_keyframes_sit_on_their_frames_without_a_seam(engine: Any, recorder: Callable[..., Recorder]) -> None:
    task = all_tasks()["pikaframes"]
    rec = recorder()
    frames = frames_of(engine.run(task, rec.context()))
    # Transition 1 covers frames 0-5, transition 2 frames 6-16 (17 = 6 + 10 + 1): no frame repeated at the join.
    assert len(frames) == 17
    assert not np.array_equal(frames[5], frames[6])
    assert sum("transition" in line and "denoising step" in line for line in rec.logs) == 4


def test_cancel_stops_within_a_step(engine: Any, recorder: Callable[..., Recorder]) -> None:
    rec = recorder(cancel_after_steps=1)
    with pytest.raises(Cancelled):
        engine.run(all_tasks()["text-to-video"], rec.context())
    assert rec.steps == 1 and not any(line.startswith("generated") for line in rec.logs)
    # The pipeline is still usable afterwards.
    clip = engine.run(all_tasks()["text-to-video"], recorder().context())
    assert frames_of(clip).shape[0] == OUT.num_frames


def test_pipelines_load_once_and_are_reused(
    tiny_settings: Settings, recorder: Callable[..., Recorder]
) -> None:
    from openpika.engines.neural import NeuralEngine

    engine = NeuralEngine.from_settings(tiny_settings.model_copy(update={"neural_max_loaded_models": 1}))
    tasks = all_tasks()
    engine.run(tasks["image-to-video"], recorder().context())
    engine.run(tasks["text-to-video"], recorder().context())  # same folder, other pipeline class: shared
    engine.run(tasks["image-to-video"], recorder().context())
    assert engine.runtime.loads == 1
    rec = recorder()
    engine.run(tasks["pikascenes"], rec.context())  # another model: the first is dropped (max 1)
    assert engine.runtime.loads == 2 and any("unloading wan2.2-ti2v-5b" in line for line in rec.logs)


def test_lora_switch_changes_output_and_unloading_restores_it(
    engine: Any, recorder: Callable[..., Recorder]
) -> None:
    from openpika.engines.neural.loras import AdapterRequest

    runtime = engine.runtime
    registry = runtime.registry
    route = registry.routes["pikaffects"]
    model = registry.models[route.model]
    kwargs = {
        "prompt": "a cat",
        "image": Image.fromarray(picture(48, 32)),
        "height": 32,
        "width": 48,
        "num_frames": 9,
    }

    def generate(*names: str) -> np.ndarray:
        adapters = [AdapterRequest(n, registry.models_dir / "loras" / f"{n}.safetensors", 1.0) for n in names]
        with runtime.lock:
            return runtime.generate(
                route, "wan-i2v", dict(kwargs), seed=3, ctx=recorder().context(), adapters=adapters
            )

    runtime.unload_loras(model)
    base = generate()
    squish = generate("squish")
    loads_before = runtime.loras.loads
    inflate = generate("inflate")
    squish_again = generate("squish")  # switched back without loading the file again
    assert runtime.loras.loads == loads_before + 1
    assert not np.array_equal(base, squish) and not np.array_equal(squish, inflate)
    assert np.array_equal(squish, squish_again)
    assert np.array_equal(generate(), base)  # no adapter requested: LoRA disabled, base output
    runtime.unload_loras(model)
    assert runtime.loras.loaded(model.name) == [] and np.array_equal(generate(), base)


def test_turbo_through_a_lora_route(
    tiny_models: Path, recorder: Callable[..., Recorder], tmp_path: Path
) -> None:
    """A turbo tier made of a step-distillation LoRA on the base model (the other recipe)."""
    import json

    from openpika.engines.neural import NeuralEngine
    from openpika.engines.neural.tiny import tiny_config, write_tiny_wan_lora

    config = tiny_config()
    config["loras"] = {"lightning": {"base_model": "wan2.2-ti2v-5b"}}
    config["routes"]["image-to-video/turbo"] = {
        "model": "wan2.2-ti2v-5b",
        "loras": [["lightning", 1.0]],
        "guidance_scale": 1.0,
    }
    path = tmp_path / "models.json"
    path.write_text(json.dumps(config))
    settings = Settings(models_dir=tiny_models, neural_config_file=path, neural_cpu_threads=1)
    engine = NeuralEngine.from_settings(settings)
    task = all_tasks()["image-to-video/turbo"]
    missing = engine.availability(task) or ""
    assert "LoRA 'lightning' is not installed" in missing
    write_tiny_wan_lora(tiny_models / "loras" / "lightning.safetensors", dim=24, ffn_dim=32, seed=99)
    try:
        rec = recorder()
        turbo = frames_of(engine.run(task, rec.context()))
        plain = frames_of(engine.run(all_tasks()["image-to-video"], recorder().context()))
        assert any("LoRA active: lightning x1" in line for line in rec.logs)
        assert turbo.shape == plain.shape and not np.array_equal(turbo, plain)
    finally:
        (tiny_models / "loras" / "lightning.safetensors").unlink()


def test_bfloat16_keeps_the_vae_in_float32_across_shared_pipelines(
    tiny_settings: Settings, recorder: Callable[..., Recorder]
) -> None:
    import torch

    from openpika.engines.neural import NeuralEngine

    engine = NeuralEngine.from_settings(tiny_settings.model_copy(update={"neural_dtype": "bfloat16"}))
    engine.run(all_tasks()["image-to-video"], recorder().context())  # loads the folder as I2V
    clip = engine.run(all_tasks()["text-to-video"], recorder().context())  # T2V shares its modules
    assert frames_of(clip).shape == (12, 32, 48, 3)
    model = engine.registry.models["wan2.2-ti2v-5b"]
    t2v = engine.runtime.pipeline(model, "wan-t2v", lambda m: None)
    i2v = engine.runtime.pipeline(model, "wan-i2v", lambda m: None)
    assert t2v.transformer is i2v.transformer and engine.runtime.loads == 1
    assert t2v.transformer.dtype == torch.bfloat16 and t2v.vae.dtype == torch.float32
    assert t2v.text_encoder.dtype == torch.bfloat16


def test_missing_weights_raise_a_clear_error_and_fallback_uses_classic(
    tmp_path: Path, recorder: Callable[..., Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpika.engines import get_engine
    from openpika.engines.neural import NeuralEngine
    from openpika.settings import get_settings

    engine = NeuralEngine.from_settings(Settings(models_dir=tmp_path))
    task = all_tasks()["pikaffects"]
    with pytest.raises(EngineUnavailable, match=re.escape("openpika models pull wan2.1-i2v-480p")):
        engine.run(task, recorder().context())
    # The production path: get_engine("neural") reads the process settings.
    monkeypatch.setenv("OPENPIKA_MODELS_DIR", str(tmp_path))
    get_settings.cache_clear()
    get_engine.cache_clear()
    try:
        with pytest.raises(EngineUnavailable, match="neural: no model installed for pikaffects"):
            select_engine("neural", task)
        assert select_engine("neural-with-classic-fallback", task).name == "classic"
    finally:
        get_settings.cache_clear()
        get_engine.cache_clear()
