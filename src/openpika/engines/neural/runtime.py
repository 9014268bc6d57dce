"""Loading pipelines once per process, memory options, and one denoising call with progress,
cancellation and a per-request seed. This is the only module that touches torch and diffusers
(besides ``tiny``); it is imported when the neural engine first runs a task.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...settings import Settings
from ..base import RunContext
from .frames import to_uint8
from .loras import AdapterRequest, LoraManager
from .registry import ModelRegistry, ModelSpec, RouteSpec

# The pipeline class each call shape needs. A model folder is loaded once with the first class asked
# for; other classes share its components (no extra memory): the TI2V-5B folder serves both
# image-to-video (WanImageToVideoPipeline) and text-to-video (WanPipeline).
VIEW_CLASSES = {
    "wan-i2v": "WanImageToVideoPipeline",
    "wan-t2v": "WanPipeline",
    "wan-vace": "WanVACEPipeline",
    "ltx-condition": "LTXConditionPipeline",
}


@dataclass(frozen=True)
class DeviceOptions:
    device: str
    dtype: Any  # torch.dtype
    offload: str
    vae_tiling: bool
    cpu_threads: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> DeviceOptions:
        import torch

        device = settings.neural_device
        if device == "auto":
            if torch.cuda.is_available():
                device = "cuda"
            elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
                device = "mps"
            else:
                device = "cpu"
        if settings.neural_dtype == "auto":
            # bf16 on GPUs; CPUs compute fp32 much faster than bf16 and fp16 is unsafe for Wan.
            dtype = (
                torch.bfloat16
                if device.startswith("cuda")
                else torch.float16
                if device == "mps"
                else torch.float32
            )
        else:
            dtype = getattr(torch, settings.neural_dtype)
        return cls(
            device, dtype, settings.neural_offload, settings.neural_vae_tiling, settings.neural_cpu_threads
        )

    def describe(self) -> str:
        return f"device {self.device}, {str(self.dtype).removeprefix('torch.')}, offload {self.offload}"


def _view_of(base: Any, cls: Any) -> Any:
    """``cls`` built on ``base``'s very modules. Not ``from_pipe``: it casts every shared module to one
    dtype (fp32 by default), which would undo bf16 weights and the fp32 VAE of the base pipeline."""
    import inspect

    params = set(inspect.signature(cls.__init__).parameters) - {"self"}
    components = {name: module for name, module in base.components.items() if name in params}
    config = {name: base.config[name] for name in params - set(components) if name in base.config}
    view = cls(**components, **config)
    view.set_progress_bar_config(disable=True)
    return view


class PipelineRuntime:
    """Pipelines kept in memory (at most ``max_loaded`` model folders; the least recently used one is
    dropped when another is needed), their LoRAs, and the calls. Callers hold ``lock`` around use:
    one GPU runs one denoising loop at a time."""

    def __init__(self, registry: ModelRegistry, options: DeviceOptions, *, max_loaded: int = 1) -> None:
        self.registry = registry
        self.options = options
        self.max_loaded = max(1, max_loaded)
        self.loras = LoraManager()
        self.lock = threading.RLock()
        self._pipelines: OrderedDict[str, dict[str, Any]] = OrderedDict()  # model -> view -> pipeline
        self._schedulers: dict[tuple[str, float | None], Any] = {}
        self.loads = 0  # model folders loaded from disk so far
        if options.cpu_threads:
            import torch

            # Process-wide. On a shared or busy CPU, fewer threads avoid OpenMP spin-waiting.
            torch.set_num_threads(options.cpu_threads)

    # --- loading -------------------------------------------------------------------------------

    def pipeline(self, model: ModelSpec, view: str, log: Callable[[str], None]) -> Any:
        import diffusers

        views = self._pipelines.get(model.name)
        if views is None:
            self._evict_for(model.name, log)
            views = {view: self._load(model, view, log)}
            self._pipelines[model.name] = views
        self._pipelines.move_to_end(model.name)
        if view not in views:
            views[view] = _view_of(next(iter(views.values())), getattr(diffusers, VIEW_CLASSES[view]))
        return views[view]

    def _load(self, model: ModelSpec, view: str, log: Callable[[str], None]) -> Any:
        import diffusers
        import torch

        folder = model.folder(self.registry.models_dir)
        cls = getattr(diffusers, VIEW_CLASSES[view])
        started = time.monotonic()
        dtype: Any = self.options.dtype
        if model.family in ("wan", "wan-vace") and dtype != torch.float32:
            # The Wan authors keep the VAE (and CLIP) in fp32; bf16 decoding shows banding.
            dtype = {"default": dtype, "vae": torch.float32, "image_encoder": torch.float32}
        log(f"loading {model.name} from {folder} as {cls.__name__} ({self.options.describe()})")
        pipe = cls.from_pretrained(str(folder), dtype=dtype)
        pipe.set_progress_bar_config(disable=True)
        self._apply_memory_options(pipe, log)
        self.loads += 1
        log(f"loaded {model.name} in {time.monotonic() - started:.1f} s")
        return pipe

    def _apply_memory_options(self, pipe: Any, log: Callable[[str], None]) -> None:
        import torch

        device, offload = self.options.device, self.options.offload
        if offload != "none" and device == "cpu":
            log(f"offload {offload!r} ignored: the device is the CPU")
            offload = "none"
        if offload == "model":
            pipe.enable_model_cpu_offload(device=device)
        elif offload == "sequential":
            pipe.enable_sequential_cpu_offload(device=device)
        elif offload == "group":
            pipe.enable_group_offload(
                onload_device=torch.device(device),
                offload_device=torch.device("cpu"),
                offload_type="block_level",
                num_blocks_per_group=1,
                use_stream=device.startswith("cuda"),
            )
        else:
            pipe.to(device)
        vae = getattr(pipe, "vae", None)
        if self.options.vae_tiling and vae is not None and hasattr(vae, "enable_tiling"):
            vae.enable_tiling()

    def _evict_for(self, incoming: str, log: Callable[[str], None]) -> None:
        while len(self._pipelines) >= self.max_loaded:
            name, _views = self._pipelines.popitem(last=False)
            self.loras.forget(name)
            self._schedulers = {k: v for k, v in self._schedulers.items() if k[0] != name}
            log(f"unloading {name} to make room for {incoming}")
            del _views
            gc.collect()
            self._empty_device_cache()

    def _empty_device_cache(self) -> None:
        import torch

        if self.options.device.startswith("cuda") and torch.cuda.is_available():
            torch.cuda.empty_cache()

    def unload_loras(self, model: ModelSpec) -> None:
        views = self._pipelines.get(model.name)
        if views:
            self.loras.unload_all(next(iter(views.values())), model.name)

    # --- one call ------------------------------------------------------------------------------

    def _scheduler_for(self, pipe: Any, model: ModelSpec, flow_shift: float | None) -> Any:
        """The model's own scheduler, or a copy with the route's flow shift (cached per model)."""
        key = (model.name, flow_shift)
        if key not in self._schedulers:
            base = self._schedulers.setdefault((model.name, None), pipe.scheduler)
            if flow_shift is None:
                return base
            config = base.config
            patch = {"flow_shift": flow_shift} if "flow_shift" in config else {"shift": flow_shift}
            self._schedulers[key] = type(base).from_config(config, **patch)
        return self._schedulers[key]

    def generate(
        self,
        route: RouteSpec,
        view: str,
        kwargs: dict[str, Any],
        *,
        seed: int,
        ctx: RunContext,
        adapters: Sequence[AdapterRequest] = (),
        progress_span: tuple[float, float] = (0.0, 1.0),
        label: str = "",
    ) -> np.ndarray:
        """Run one pipeline call; returns (T, H, W, 3) uint8 frames."""
        import torch

        from ...errors import Cancelled

        model = self.registry.models[route.model]
        log = ctx.log
        pipe = self.pipeline(model, view, log)
        self.loras.apply(pipe, model.name, [*self._route_adapters(route), *adapters], log)
        pipe.scheduler = self._scheduler_for(pipe, model, route.flow_shift)
        steps = route.steps
        start, span = progress_span
        prefix = f"{label}: " if label else ""

        def on_step_end(
            pipeline: Any, step: int, timestep: Any, callback_kwargs: dict[str, Any]
        ) -> dict[str, Any]:
            done = step + 1
            log(f"{prefix}denoising step {done}/{steps}")
            if ctx.is_cancelled():
                # Stop now instead of finishing the loop and decoding: the interrupt flag is
                # diffusers' own, the exception skips the VAE decode.
                pipeline._interrupt = True
                raise Cancelled()
            ctx.progress(start + span * done / steps)
            return callback_kwargs

        call: dict[str, Any] = {
            "num_inference_steps": steps,
            "guidance_scale": route.guidance_scale,
            "output_type": "np",
            "callback_on_step_end": on_step_end,
            # A fresh CPU generator per call: the same seed gives the same video on any device.
            "generator": torch.Generator(device="cpu").manual_seed(seed % 2**64),
            **dict(route.call_kwargs),
            **kwargs,
        }
        if route.guidance_scale_2 is not None:
            call["guidance_scale_2"] = route.guidance_scale_2
        ctx.check_cancelled()
        started = time.monotonic()
        with torch.inference_mode():
            result = pipe(**call)
        frames = result.frames[0]
        if isinstance(frames, list):  # PIL output from pipelines that ignore output_type
            frames = np.stack([np.asarray(frame) for frame in frames])
        log(
            f"{prefix}generated {frames.shape[0]} frames of {frames.shape[2]}x{frames.shape[1]} in {time.monotonic() - started:.1f} s"
        )
        return to_uint8(np.asarray(frames))

    def _route_adapters(self, route: RouteSpec) -> list[AdapterRequest]:
        adapters = []
        for name, scale in route.loras:
            path = self.registry.loras[name].find_file(self.registry.models_dir)
            if path is not None:
                adapters.append(AdapterRequest(name, path, scale))
        return adapters
