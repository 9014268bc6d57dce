"""The classic engine: computer vision and graphics on the CPU, no weights, deterministic per seed.

One module per task family; this class only dispatches. Families not built yet answer
EngineUnavailable with a sentence that says so (never fake output).
"""

from __future__ import annotations

from ...errors import EngineUnavailable
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

_NOT_BUILT = {
    TextToVideoTask: "text-to-video needs a generative model: the classic engine cannot invent a scene from text. "
    "Install open weights and set OPENPIKA_ENGINE=neural (see README, 'Running with open weights').",
}


class ClassicEngine:
    name = "classic"

    def supports(self, task: object) -> bool:
        return isinstance(
            task,
            ImageToVideoTask
            | KeyframesTask
            | EffectTask
            | ScenesTask
            | AdditionTask
            | SwapTask
            | TextToVideoTask,
        )

    def availability(self, task: object) -> str | None:
        for kind, why in _NOT_BUILT.items():
            if isinstance(task, kind):
                return why
        return None

    def run(self, task: object, ctx: RunContext) -> Clip:
        why = self.availability(task)
        if why is not None:
            raise EngineUnavailable(why)
        # Imported lazily: each family pulls in its own heavy helpers.
        if isinstance(task, ImageToVideoTask):
            from .image_to_video import render_image_to_video

            return render_image_to_video(task, ctx)
        if isinstance(task, KeyframesTask):
            from .keyframes import render_keyframes

            return render_keyframes(task, ctx)
        if isinstance(task, EffectTask):
            from .effects import render_effect

            return render_effect(task, ctx)
        if isinstance(task, ScenesTask):
            from .scenes import render_scenes

            return render_scenes(task, ctx)
        if isinstance(task, AdditionTask):
            from .compositing import render_addition

            return render_addition(task, ctx)
        if isinstance(task, SwapTask):
            from .compositing import render_swap

            return render_swap(task, ctx)
        raise EngineUnavailable(f"the classic engine has no renderer for {type(task).__name__}")
