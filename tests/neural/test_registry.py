"""The model registry: defaults, the JSON config, routes per task, actionable messages (no torch)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from openpika.engines.neural import NeuralEngine
from openpika.engines.neural.registry import CONFIG_FILE_NAME, ModelRegistry, route_key
from openpika.engines.tasks import (
    EffectTask,
    ImageToVideoTask,
    KeyframesTask,
    OutputSpec,
    TextToVideoTask,
    Transition,
)
from openpika.settings import Settings

pytestmark = pytest.mark.neural
OUT = OutputSpec(32, 32, 24, 12)
IMAGE = np.zeros((32, 32, 3), np.uint8)


def test_defaults_follow_the_notes(tmp_path: Path) -> None:
    registry = ModelRegistry.load(tmp_path)
    assert registry.routes["image-to-video"].model == "wan2.2-ti2v-5b"
    assert registry.routes["text-to-video"].model == "wan2.2-ti2v-5b"
    assert registry.routes["pikaframes"].model == "wan2.1-flf2v"
    assert {registry.routes[k].model for k in ("pikascenes", "pikadditions", "pikaswaps")} == {"wan2.1-vace"}
    assert registry.routes["pikaffects"].model == "wan2.1-i2v-480p"
    turbo = registry.routes["image-to-video/turbo"]
    assert turbo.steps <= 8 and turbo.guidance_scale == 1.0
    assert registry.lora_for_effect("Squish").trigger == "sq41sh"
    assert "pikaframes/single-prompt" not in registry.routes
    assert (
        route_key("image-to-video", True) == "image-to-video/turbo"
        and route_key("pikaffects", True) == "pikaffects"
    )


def test_config_file_merges_over_defaults(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE_NAME).write_text(
        json.dumps(
            {
                "models": {"my-wan": {"repo_id": "me/my-wan", "native_width": 640}},
                "loras": {"turbo4": {"repo_id": "me/turbo", "base_model": "my-wan"}},
                "effects": {"Levitate": "turbo4"},
                "routes": {
                    "image-to-video/turbo": {"model": "my-wan", "loras": [["turbo4", 0.8]], "steps": 4},
                    "pikaframes/single-prompt": {},
                    "pikaswaps": None,
                },
            }
        )
    )
    registry = ModelRegistry.load(tmp_path)
    assert registry.models["my-wan"].native_width == 640 and registry.models["my-wan"].native_height == 480
    turbo = registry.routes["image-to-video/turbo"]
    assert (turbo.model, turbo.loras, turbo.steps, turbo.guidance_scale) == (
        "my-wan",
        (("turbo4", 0.8),),
        4,
        1.0,
    )
    assert registry.routes["pikaframes/single-prompt"].model == "ltx-video-0.9.7-distilled"
    assert "pikaswaps" not in registry.routes
    assert registry.lora_for_effect("Levitate").name == "turbo4"
    # one prompt for every transition picks the one-pass route; different prompts the per-transition one
    same = KeyframesTask(
        [IMAGE] * 3, [Transition(12, "x"), Transition(12, "x")], "", 0, OutputSpec(32, 32, 24, 25)
    )
    different = KeyframesTask([IMAGE] * 3, [Transition(12, "x"), Transition(12, "y")], "", 0, same.output)
    assert registry.route_for_task(same).key == "pikaframes/single-prompt"
    assert registry.route_for_task(different).key == "pikaframes"


def test_config_with_a_typo_is_refused_with_its_name(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE_NAME).write_text(json.dumps({"routes": {"pikaffects": {"step": 3}}}))
    with pytest.raises(ValueError, match="unknown fields \\['step'\\]"):
        ModelRegistry.load(tmp_path)
    assert "unknown fields" in (
        NeuralEngine(Settings(models_dir=tmp_path)).availability(EffectTask(IMAGE, "Squish", "", "", 0, OUT))
        or ""
    )


def test_missing_weights_answer_what_to_put_where(tmp_path: Path) -> None:
    engine = NeuralEngine(Settings(models_dir=tmp_path))
    why = engine.availability(ImageToVideoTask(IMAGE, "p", "", 0, OUT, "v2.2"))
    assert why is not None
    assert "Wan-AI/Wan2.2-TI2V-5B-Diffusers" in why and str(tmp_path / "wan2.2-ti2v-5b") in why
    assert "openpika models pull wan2.2-ti2v-5b" in why
    turbo = engine.availability(TextToVideoTask("p", "", 0, OUT, "v2", turbo=True)) or ""
    assert "fastwan2.2-ti2v-5b" in turbo
    effect = engine.availability(EffectTask(IMAGE, "Squish", "", "", 0, OUT)) or ""
    assert "wan2.1-i2v-480p" in effect and "openpika models pull squish" in effect
    no_lora = engine.availability(EffectTask(IMAGE, "Levitate", "", "", 0, OUT)) or ""
    assert "no effect LoRA is declared for the Pikaffect 'Levitate'" in no_lora
    assert not engine.supports(object()) and engine.availability(object()) is not None
