"""Tiny random-weight models of the real pipeline classes, built once per session (a few seconds),
and helpers to make tasks at tiny output sizes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openpika.engines.base import RunContext
from openpika.settings import Settings


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("diffusers")
    pytest.importorskip("ftfy")
    import torch

    from openpika.engines.neural.tiny import build_tiny_models

    torch.set_num_threads(1)  # as tiny_settings does for the engine: faster on a busy CPU
    return build_tiny_models(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture(scope="session")
def tiny_settings(tiny_models: Path) -> Settings:
    # All six folders stay loaded in the shared engine, so tests do not pay reloads.
    # One torch thread: tiny tensors gain nothing from more, and a busy CI CPU makes OpenMP spin.
    return Settings(engine="neural", models_dir=tiny_models, neural_max_loaded_models=8, neural_cpu_threads=1)


@pytest.fixture(scope="session")
def engine(tiny_settings: Settings) -> Any:
    from openpika.engines.neural import NeuralEngine

    return NeuralEngine.from_settings(tiny_settings)


class Recorder:
    """A RunContext that records logs and progress, and can cancel after N denoising steps."""

    def __init__(self, cancel_after_steps: int | None = None) -> None:
        self.logs: list[str] = []
        self.progress: list[float] = []
        self.cancel_after_steps = cancel_after_steps

    @property
    def steps(self) -> int:
        return sum("denoising step" in line for line in self.logs)

    def context(self) -> RunContext:
        def cancelled() -> bool:
            return self.cancel_after_steps is not None and self.steps >= self.cancel_after_steps

        return RunContext(
            on_log=lambda message, level: self.logs.append(message),
            on_progress=self.progress.append,
            is_cancelled=cancelled,
            min_progress_interval=0.0,
        )


@pytest.fixture
def recorder() -> Callable[..., Recorder]:
    return Recorder


def picture(width: int = 60, height: int = 40, seed: int = 0) -> np.ndarray:
    """A real photo (skimage's astronaut) cut to a small size, varied by seed."""
    import cv2
    from skimage import data

    image = data.astronaut() if seed % 2 == 0 else data.chelsea()
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
