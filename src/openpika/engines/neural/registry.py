"""Which model serves which endpoint: the catalogue of open models, effect LoRAs and routes.

Layout of the models directory (``OPENPIKA_MODELS_DIR``)::

    <models_dir>/
      wan2.2-ti2v-5b/            one folder per pipeline, diffusers' save_pretrained format
      wan2.1-flf2v/
      ...
      loras/squish.safetensors   LoRA files (or loras/squish/<one file>.safetensors)
      openpika-models.json       optional: overrides of the defaults below

A *route* is what one family of endpoints runs: ``image-to-video``, ``image-to-video/turbo``,
``text-to-video``, ``text-to-video/turbo``, ``pikaframes``, ``pikaframes/single-prompt`` (optional,
used when every transition has the same prompt), ``pikascenes``, ``pikaffects``, ``pikadditions``,
``pikaswaps``. The engine gets tasks, not endpoint ids, so routes are picked from the task's type
and its ``turbo`` flag.

The JSON file merges over the defaults: ``models`` and ``loras`` entries (partial: only the fields
given change; new names add models), ``effects`` (Pikaffect name → LoRA name), ``routes`` (partial
per route; ``null`` removes a route) and ``route_defaults`` (fields applied to every route, used by
the tiny test models to run 2 steps). This module imports no torch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from ..tasks import (
    AdditionTask,
    EffectTask,
    ImageToVideoTask,
    KeyframesTask,
    ScenesTask,
    SwapTask,
    TextToVideoTask,
)

CONFIG_FILE_NAME = "openpika-models.json"
Family = Literal["wan", "wan-vace", "ltx"]


@dataclass(frozen=True)
class ModelSpec:
    """One pipeline folder. Sizes are the model's native format; requests are mapped onto it."""

    name: str
    repo_id: str | None
    family: Family
    native_width: int
    native_height: int
    num_frames: int  # the frame count the model was trained for (a 4k+1 / 8k+1 number)
    max_frames: int  # longest generation allowed; longer requests are generated at a lower fps
    fps: int
    size_multiple: int  # sides must be multiples of this (16 for Wan2.1, 32 for TI2V and LTX)
    frame_step: int  # frames must be frame_step*k + 1 (4 for Wan, 8 for LTX)
    description: str = ""

    def folder(self, models_dir: Path) -> Path:
        return models_dir / self.name

    def is_installed(self, models_dir: Path) -> bool:
        return (self.folder(models_dir) / "model_index.json").is_file()


@dataclass(frozen=True)
class LoraSpec:
    name: str
    repo_id: str | None
    base_model: str
    trigger: str = ""
    # ``{subject}`` is the request's prompt (or "the subject"); the trigger word is part of the text.
    prompt_template: str = "{subject}"
    scale: float = 1.0
    note: str = ""

    def find_file(self, models_dir: Path) -> Path | None:
        """``loras/<name>.safetensors``, or the single .safetensors file in ``loras/<name>/``."""
        direct = models_dir / "loras" / f"{self.name}.safetensors"
        if direct.is_file():
            return direct
        folder = models_dir / "loras" / self.name
        if folder.is_dir():
            found = sorted(folder.rglob("*.safetensors"))
            if found:
                return found[0]
        return None


@dataclass(frozen=True)
class RouteSpec:
    key: str
    model: str
    steps: int
    guidance_scale: float
    guidance_scale_2: float | None = None
    flow_shift: float | None = None  # replaces the scheduler's shift for this route
    loras: tuple[tuple[str, float], ...] = ()  # always-on adapters (a turbo LoRA), with scales
    call_kwargs: Mapping[str, Any] = field(default_factory=dict)  # passed to the pipeline as is


# Defaults follow shared/neural-notes.md §1-4. Columns: name, hub repo, family, native width, height,
# frames, max frames, fps, size multiple, frame step, description.
# fmt: off
DEFAULT_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        "wan2.2-ti2v-5b", "Wan-AI/Wan2.2-TI2V-5B-Diffusers", "wan", 1280, 704, 121, 121, 24, 32, 4,
        "Wan2.2 TI2V-5B: image- and text-to-video, 720p at 24 fps, fits a 24 GB GPU with offload.",
    ),
    ModelSpec(
        "fastwan2.2-ti2v-5b", "FastVideo/FastWan2.2-TI2V-5B-FullAttn-Diffusers", "wan", 1280, 704, 121, 121, 24, 32, 4,
        "FastWan2.2 TI2V-5B: the TI2V-5B distilled to 3 steps without guidance (turbo tier).",
    ),
    ModelSpec(
        "wan2.1-flf2v", "Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers", "wan", 1280, 720, 81, 81, 16, 16, 4,
        "Wan2.1 FLF2V-14B 720p: first-and-last-frame to video (pikaframes, one pass per transition).",
    ),
    ModelSpec(
        "wan2.1-vace", "Wan-AI/Wan2.1-VACE-14B-diffusers", "wan-vace", 832, 480, 81, 81, 16, 16, 4,
        "Wan2.1 VACE-14B: reference images, video and masks (pikascenes, pikadditions, pikaswaps).",
    ),
    ModelSpec(
        "wan2.1-i2v-480p", "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers", "wan", 832, 480, 81, 81, 16, 16, 4,
        "Wan2.1 I2V-14B 480p: base of the Remade effect LoRAs (pikaffects).",
    ),
    ModelSpec(
        "ltx-video-0.9.7-distilled", "Lightricks/LTX-Video-0.9.7-distilled", "ltx", 1216, 704, 121, 257, 30, 32, 8,
        "LTX-Video 0.9.7 13B distilled: optional one-pass pikaframes when one prompt suffices.",
    ),
)
# fmt: on

_EFFECT_BASE = "wan2.1-i2v-480p"
DEFAULT_LORAS: tuple[LoraSpec, ...] = (
    LoraSpec(
        "squish",
        "Remade-AI/Squish",
        _EFFECT_BASE,
        "sq41sh",
        "The video opens on {subject}. A pair of hands presses down on it, causing a sq41sh squish effect "
        "as it compresses and then bounces back.",
    ),
    LoraSpec(
        "inflate",
        "Remade-AI/Inflate",
        _EFFECT_BASE,
        "infl4t3",
        "The video opens on {subject}. Then infl4t3 inflates it, and it expands into a giant, puffy balloon.",
    ),
    LoraSpec(
        "deflate",
        "Remade-AI/Deflate",
        _EFFECT_BASE,
        "d3d1at3",
        "The video opens on {subject}. It begins to d3d1at3 deflate, sagging and flattening like a balloon "
        "losing its air.",
    ),
    LoraSpec(
        "cakeify",
        "Remade-AI/Cakeify",
        _EFFECT_BASE,
        "c4k3",
        "The video opens on {subject}. A knife, held by a hand, is coming into frame and hovering over it. "
        "The knife then begins cutting into it to c4k3 cakeify it, revealing that the inside is cake.",
    ),
    LoraSpec(
        "crush",
        "Remade-AI/Crush",
        _EFFECT_BASE,
        "c5us4",
        "The video opens on {subject}. A hydraulic press comes down and c5us4 crushes it flat.",
    ),
    LoraSpec(
        "explode",
        None,
        _EFFECT_BASE,
        "3xp105ion",
        "The video opens on {subject}. It then erupts in a 3xp105ion huge explosion of debris and fire.",
        note="Remade effect LoRA; no hub id verified here: place the file in loras/explode.safetensors.",
    ),
    LoraSpec(
        "melt",
        "Muapi/melt-it-acid-dissolve-i-wan-2.1-i2v-lora",
        _EFFECT_BASE,
        "m3lt1ng",
        "The video opens on {subject}. It starts m3lt1ng, dissolving into a dripping liquid puddle.",
        note="third-party LoRA, licence unclear: check before commercial use.",
    ),
)

# Pikaffects with a published effect LoRA. The others (Crumble, Decapitate, Dissolve, Eye-pop, Levitate,
# Peel, Poke, Ta-da, Tear) need a LoRA the operator trains or finds, declared in the JSON file.
DEFAULT_EFFECTS: dict[str, str] = {
    "Squish": "squish",
    "Inflate": "inflate",
    "Deflate": "deflate",
    "Cake-ify": "cakeify",
    "Crush": "crush",
    "Explode": "explode",
    "Melt": "melt",
}

DEFAULT_ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("image-to-video", "wan2.2-ti2v-5b", 50, 5.0),
    RouteSpec("image-to-video/turbo", "fastwan2.2-ti2v-5b", 3, 1.0),
    RouteSpec("text-to-video", "wan2.2-ti2v-5b", 50, 5.0),
    RouteSpec("text-to-video/turbo", "fastwan2.2-ti2v-5b", 3, 1.0),
    RouteSpec("pikaframes", "wan2.1-flf2v", 50, 5.5, flow_shift=5.0),
    RouteSpec("pikascenes", "wan2.1-vace", 50, 5.0),
    RouteSpec("pikaffects", "wan2.1-i2v-480p", 40, 6.0, flow_shift=5.0),
    RouteSpec("pikadditions", "wan2.1-vace", 50, 5.0),
    RouteSpec("pikaswaps", "wan2.1-vace", 50, 5.0),
)
OPTIONAL_ROUTE_TEMPLATES: dict[str, RouteSpec] = {
    # Enable with {"routes": {"pikaframes/single-prompt": {}}} once the LTX folder is installed.
    "pikaframes/single-prompt": RouteSpec(
        "pikaframes/single-prompt",
        "ltx-video-0.9.7-distilled",
        8,
        1.0,
        call_kwargs={"decode_timestep": 0.05, "decode_noise_scale": 0.025, "image_cond_noise_scale": 0.0},
    ),
}

ROUTE_KINDS = (
    "image-to-video",
    "text-to-video",
    "pikaframes",
    "pikascenes",
    "pikaffects",
    "pikadditions",
    "pikaswaps",
)


def route_key(kind: str, turbo: bool = False) -> str:
    """Route of an endpoint kind (``EndpointSpec.kind``) and tier."""
    return f"{kind}/turbo" if turbo and kind in ("image-to-video", "text-to-video") else kind


def route_key_for_task(task: object) -> str | None:
    if isinstance(task, ImageToVideoTask):
        return route_key("image-to-video", task.turbo)
    if isinstance(task, TextToVideoTask):
        return route_key("text-to-video", task.turbo)
    kinds: dict[type, str] = {
        KeyframesTask: "pikaframes",
        ScenesTask: "pikascenes",
        EffectTask: "pikaffects",
        AdditionTask: "pikadditions",
        SwapTask: "pikaswaps",
    }
    return kinds.get(type(task))


def _merge(base: Any, patch: Mapping[str, Any], kind: str, name: str) -> Any:
    known = {f.name for f in fields(base)}
    unknown = set(patch) - known
    if unknown:
        raise ValueError(f"{CONFIG_FILE_NAME}: {kind} {name!r} has unknown fields {sorted(unknown)}")
    values = dict(patch)
    if "loras" in values:
        values["loras"] = tuple((str(n), float(s)) for n, s in values["loras"])
    return replace(base, **values)


@dataclass
class ModelRegistry:
    models_dir: Path
    models: dict[str, ModelSpec]
    loras: dict[str, LoraSpec]
    effects: dict[str, str]
    routes: dict[str, RouteSpec]
    config_file: Path | None = None

    @classmethod
    def load(cls, models_dir: Path, config_file: Path | None = None) -> ModelRegistry:
        """Defaults, merged with ``config_file`` (or ``<models_dir>/openpika-models.json`` if present)."""
        models = {m.name: m for m in DEFAULT_MODELS}
        loras = {lo.name: lo for lo in DEFAULT_LORAS}
        effects = dict(DEFAULT_EFFECTS)
        routes = {r.key: r for r in DEFAULT_ROUTES}
        path = config_file or models_dir / CONFIG_FILE_NAME
        if config_file is None and not path.is_file():
            return cls(models_dir, models, loras, effects, routes, None)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the neural model config {path}: {exc}") from exc
        for name, patch in data.get("models", {}).items():
            base = models.get(name) or ModelSpec(name, None, "wan", 832, 480, 81, 81, 16, 16, 4)
            models[name] = _merge(base, patch, "model", name)
        for name, patch in data.get("loras", {}).items():
            base_lora = loras.get(name) or LoraSpec(name, None, _EFFECT_BASE)
            loras[name] = _merge(base_lora, patch, "lora", name)
        effects.update(data.get("effects", {}))
        for key, patch in data.get("routes", {}).items():
            if patch is None:
                routes.pop(key, None)
                continue
            base_route = routes.get(key) or OPTIONAL_ROUTE_TEMPLATES.get(key)
            if base_route is None:
                if "model" not in patch:
                    raise ValueError(f"{path}: new route {key!r} needs a 'model'")
                base_route = RouteSpec(key, patch["model"], 30, 5.0)
            routes[key] = _merge(base_route, patch, "route", key)
        defaults = data.get("route_defaults") or {}
        if defaults:
            routes = {key: _merge(route, defaults, "route_defaults", key) for key, route in routes.items()}
        return cls(models_dir, models, loras, effects, routes, path)

    # --- questions the engine and the CLI ask --------------------------------------------------------

    def route_for_task(self, task: object) -> RouteSpec | None:
        key = route_key_for_task(task)
        if key is None:
            return None
        if isinstance(task, KeyframesTask):
            single = self.routes.get("pikaframes/single-prompt")
            if single is not None and len({t.prompt for t in task.transitions}) == 1:
                return single
        return self.routes.get(key)

    def lora_for_effect(self, effect: str) -> LoraSpec | None:
        name = self.effects.get(effect)
        return self.loras.get(name) if name else None

    def pull_hint(self, name: str) -> str:
        return f"(openpika models pull {name})"

    def route_problems(self, route: RouteSpec) -> list[str]:
        """What is missing for ``route`` to run, as actionable sentences (empty: ready)."""
        problems = []
        model = self.models.get(route.model)
        if model is None:
            return [
                f"route {route.key} names unknown model {route.model!r}: declare it in {CONFIG_FILE_NAME}"
            ]
        if not model.is_installed(self.models_dir):
            source = f"{model.repo_id} " if model.repo_id else ""
            problems.append(
                f"no model installed for {route.key}: put {source}(diffusers format) in "
                f"{model.folder(self.models_dir)} {self.pull_hint(model.name)}"
            )
        for lora_name, _scale in route.loras:
            problems.extend(self.lora_problems(lora_name, route.key))
        return problems

    def lora_problems(self, lora_name: str, route_key_: str) -> list[str]:
        lora = self.loras.get(lora_name)
        if lora is None:
            return [f"route {route_key_} names unknown LoRA {lora_name!r}: declare it in {CONFIG_FILE_NAME}"]
        if lora.find_file(self.models_dir) is None:
            where = self.models_dir / "loras" / f"{lora.name}.safetensors"
            how = self.pull_hint(lora.name) if lora.repo_id else "(no known hub source: copy the file there)"
            return [f"LoRA {lora.name!r} is not installed: put it in {where} {how}"]
        return []

    def effect_problems(self, effect: str) -> list[str]:
        lora = self.lora_for_effect(effect)
        if lora is None:
            return [
                f"no effect LoRA is declared for the Pikaffect {effect!r}: add one to {CONFIG_FILE_NAME} "
                f'("loras": {{"<name>": {{"trigger": ..., "prompt_template": ...}}}}, "effects": {{"{effect}": "<name>"}})'
            ]
        return self.lora_problems(lora.name, "pikaffects")

    def pullable(self) -> dict[str, str]:
        """Names ``openpika models pull`` accepts, with their hub repo ids."""
        names = {m.name: m.repo_id for m in self.models.values() if m.repo_id}
        names.update({lo.name: lo.repo_id for lo in self.loras.values() if lo.repo_id})
        return names
