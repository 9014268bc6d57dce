"""The neural engine: open video models through diffusers, one runner per task family.

The engine object lives as long as the worker process (``get_engine`` caches it), so it holds the
loaded pipelines and LoRAs and reuses them across requests. torch and diffusers are imported on the
first ``run``; ``availability`` answers without them, so the base install can report what is
missing.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from ...errors import EngineUnavailable
from ...settings import Settings, get_settings
from ..base import Clip, RunContext
from ..tasks import (
    AdditionTask,
    EffectTask,
    ImageToVideoTask,
    KeyframesTask,
    ScenesTask,
    SwapTask,
    TextToVideoTask,
)
from .registry import ModelRegistry, route_key_for_task

NEURAL_PACKAGES = ("torch", "diffusers", "transformers", "accelerate", "peft", "ftfy")
INSTALL_HINT = "install the neural extra: pip install 'openpika[neural]'"


def missing_packages() -> list[str]:
    return [name for name in NEURAL_PACKAGES if importlib.util.find_spec(name) is None]


class NeuralEngine:
    name = "neural"

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._registry: ModelRegistry | None = None
        self._runtime: Any = None  # PipelineRuntime, built on first run (imports torch)
        self._init_lock = threading.Lock()  # worker threads share this engine (get_engine caches it)

    @classmethod
    def from_settings(cls, settings: Settings) -> NeuralEngine:
        return cls(settings)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = get_settings()
        return self._settings

    @property
    def registry(self) -> ModelRegistry:
        if self._registry is None:
            self._registry = ModelRegistry.load(self.settings.models_dir, self.settings.neural_config_file)
        return self._registry

    @property
    def runtime(self) -> Any:
        """The PipelineRuntime (loaded pipelines, LoRAs); created on first use."""
        with self._init_lock:
            if self._runtime is None:
                self._runtime = self._new_runtime()
        return self._runtime

    def _new_runtime(self) -> Any:
        from .runtime import DeviceOptions, PipelineRuntime

        options = DeviceOptions.from_settings(self.settings)
        return PipelineRuntime(self.registry, options, max_loaded=self.settings.neural_max_loaded_models)

    # --- the Engine protocol -------------------------------------------------------------------

    def supports(self, task: object) -> bool:
        return route_key_for_task(task) is not None

    def availability(self, task: object) -> str | None:
        key = route_key_for_task(task)
        if key is None:
            return f"the neural engine does not run {type(task).__name__}"
        missing = missing_packages()
        if missing:
            return f"{INSTALL_HINT} (missing: {', '.join(missing)})"
        try:
            registry = self.registry
        except ValueError as exc:
            return str(exc)
        route = registry.route_for_task(task)
        if route is None:
            return f"no neural model is configured for {key}: add a route for it in openpika-models.json"
        problems = registry.route_problems(route)
        if isinstance(task, EffectTask):
            problems += registry.effect_problems(task.effect)
        return " ".join(problems) or None

    def run(self, task: object, ctx: RunContext) -> Clip:
        why = self.availability(task)
        if why is not None:
            raise EngineUnavailable(why)
        route = self.registry.route_for_task(task)
        assert route is not None  # availability checked it
        runner = _runner_for(task)
        runtime = self.runtime
        ctx.log(
            f"neural engine: route {route.key} → {route.model}, {route.steps} steps, guidance {route.guidance_scale:g}"
        )
        ctx.check_cancelled()
        with runtime.lock:
            frames = runner(runtime, route, task, ctx)
        output = task.output  # type: ignore[attr-defined]
        expected = (output.num_frames, output.height, output.width, 3)
        if frames.shape != expected:  # a runner bug, never the caller's fault
            raise RuntimeError(f"neural runner returned frames {frames.shape}, expected {expected}")
        ctx.progress(1.0)
        turbo = bool(getattr(task, "turbo", False))
        return Clip(
            width=output.width,
            height=output.height,
            fps=output.fps,
            num_frames=output.num_frames,
            frames=_frames(frames),
            encoder_preset=self.settings.x264_preset_turbo if turbo else None,
        )


def _frames(frames: np.ndarray) -> Any:
    return (frame for frame in frames)


def _runner_for(task: object) -> Callable[..., np.ndarray]:
    from . import runners

    table: dict[type, Callable[..., np.ndarray]] = {
        ImageToVideoTask: runners.run_image_to_video,
        TextToVideoTask: runners.run_text_to_video,
        KeyframesTask: runners.run_keyframes,
        ScenesTask: runners.run_scenes,
        EffectTask: runners.run_effect,
        AdditionTask: runners.run_addition,
        SwapTask: runners.run_swap,
    }
    return table[type(task)]
