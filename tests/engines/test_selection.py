"""Engine choice per endpoint, and honest refusals: the classic engine never fakes text-to-video."""

from __future__ import annotations

import pytest

from openpika.engines import select_engine
from openpika.engines.base import RunContext
from openpika.engines.classic import ClassicEngine
from openpika.engines.tasks import OutputSpec, TextToVideoTask
from openpika.errors import EngineUnavailable


def _t2v() -> TextToVideoTask:
    return TextToVideoTask("a lighthouse at dusk", "", 1, OutputSpec(64, 64, 24, 24), "v2.2")


def test_classic_text_to_video_is_refused_with_how_to_get_it() -> None:
    engine = ClassicEngine()
    assert engine.supports(_t2v())
    why = engine.availability(_t2v())
    assert why is not None and "generative model" in why and "OPENPIKA_ENGINE=neural" in why
    with pytest.raises(EngineUnavailable, match="generative model"):
        engine.run(_t2v(), RunContext())
    with pytest.raises(EngineUnavailable) as info:
        select_engine("classic", _t2v())
    assert info.value.status_code == 503 and "classic:" in info.value.message


def test_unknown_engine_choice_is_a_clear_error() -> None:
    with pytest.raises(EngineUnavailable, match="unknown engine 'gpu-magic'"):
        select_engine("gpu-magic", _t2v())
