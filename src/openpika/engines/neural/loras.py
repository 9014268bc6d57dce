"""LoRA adapters switched per request on a loaded pipeline, without reloading the base weights.

Each adapter is loaded once (``load_lora_weights(path, adapter_name=...)``, which also converts the
Wan-native / ComfyUI key format) and then only activated or deactivated: ``set_adapters`` for the
ones a request wants, ``disable_lora`` when it wants none. ``set_adapters`` resets every adapter it
names and treats missing weights as 1.0 (diffusers PR #14567), so the scales are always passed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class AdapterRequest:
    name: str
    path: Path
    scale: float


class LoraManager:
    """Tracks which adapters each loaded model holds. ``max_adapters`` bounds the memory they take:
    the least recently used adapter not needed now is deleted when the bound is passed."""

    def __init__(self, max_adapters: int = 8) -> None:
        self.max_adapters = max_adapters
        self._loaded: dict[str, OrderedDict[str, Path]] = {}
        self.loads = 0  # adapters loaded from disk so far (tests check reuse)

    def loaded(self, model_name: str) -> list[str]:
        return list(self._loaded.get(model_name, {}))

    def apply(
        self,
        pipe: Any,
        model_name: str,
        wanted: Sequence[AdapterRequest],
        log: Callable[[str], None] = lambda message: None,
    ) -> None:
        loaded = self._loaded.setdefault(model_name, OrderedDict())
        for adapter in wanted:
            if adapter.name in loaded and loaded[adapter.name] == adapter.path:
                loaded.move_to_end(adapter.name)
                continue
            if adapter.name in loaded:  # same name, new file: replace it
                pipe.delete_adapters([adapter.name])
                del loaded[adapter.name]
            extra = (
                {"load_into_transformer_2": True} if getattr(pipe, "transformer_2", None) is not None else {}
            )
            pipe.load_lora_weights(str(adapter.path), adapter_name=adapter.name, **extra)
            loaded[adapter.name] = adapter.path
            self.loads += 1
            log(f"loaded LoRA {adapter.name!r} from {adapter.path.name}")
        self._evict(pipe, loaded, keep={a.name for a in wanted}, log=log)
        if wanted:
            pipe.enable_lora()
            pipe.set_adapters([a.name for a in wanted], adapter_weights=[a.scale for a in wanted])
            log("LoRA active: " + ", ".join(f"{a.name} x{a.scale:g}" for a in wanted))
        elif loaded:
            pipe.disable_lora()

    def _evict(
        self, pipe: Any, loaded: OrderedDict[str, Path], keep: set[str], log: Callable[[str], None]
    ) -> None:
        for name in list(loaded):
            if len(loaded) <= self.max_adapters:
                break
            if name not in keep:
                pipe.delete_adapters([name])
                del loaded[name]
                log(f"unloaded LoRA {name!r} (more than {self.max_adapters} loaded)")

    def unload_all(self, pipe: Any, model_name: str) -> None:
        """Remove every adapter from the model: its output is the base model's again."""
        if self._loaded.pop(model_name, None):
            pipe.unload_lora_weights()

    def forget(self, model_name: str) -> None:
        """The model was evicted from memory; its adapters went with it."""
        self._loaded.pop(model_name, None)
