"""Engines and how one is chosen for a task.

``select_engine`` applies the per-endpoint setting (classic, neural, neural-with-classic-fallback).
The neural engine is imported lazily so the base install never needs torch.
"""

from __future__ import annotations

from functools import cache

from ..errors import EngineUnavailable
from .base import Clip, Engine, RunContext


@cache
def get_engine(name: str) -> Engine:
    if name == "classic":
        from .classic import ClassicEngine

        return ClassicEngine()
    if name == "neural":
        from .neural import NeuralEngine

        return NeuralEngine()
    if name.startswith("fixture:"):
        from .fixtures import get_fixture_engine

        return get_fixture_engine(name.split(":", 1)[1])
    raise EngineUnavailable(f"unknown engine {name!r}")


def select_engine(choice: str, task: object) -> Engine:
    """The engine that will run ``task`` under an endpoint's engine choice, or EngineUnavailable
    with the reasons of every candidate."""
    candidates = {
        "classic": ["classic"],
        "neural": ["neural"],
        "neural-with-classic-fallback": ["neural", "classic"],
    }.get(choice, [choice])
    reasons = []
    for name in candidates:
        try:
            engine = get_engine(name)
        except (ImportError, EngineUnavailable) as exc:
            reasons.append(f"{name}: {exc}")
            continue
        why = engine.availability(task)
        if why is None:
            return engine
        reasons.append(f"{name}: {why}")
    raise EngineUnavailable("no engine can run this request. " + " | ".join(reasons))


__all__ = ["Clip", "Engine", "RunContext", "get_engine", "select_engine"]
