"""Classic pikaffects: 16 physically inspired animations of a photo's subject, no weights.

``render_effect(task, ctx)`` finds the subject and a clean background plate once (``scene``), then
hands them to the effect's builder, which precomputes what it can (meshes, shards, particles) and
returns a per-frame renderer. Frames are produced lazily; each one reports progress, which is also
a cancellation point. Everything random comes from generators seeded by the task's seed.

Families (one module each): ``deform`` (Inflate, Deflate, Squish, Crush, Poke, Melt), ``fragments``
(Explode, Crumble, Dissolve), ``motion`` (Levitate, Ta-da), ``split`` (Tear, Peel, Cake-ify) and
``face`` (Eye-pop, Decapitate). What each does and which prompt words steer it: docs/pikaffects.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import numpy as np

from ....errors import InputError
from ...base import Clip, RunContext
from ...tasks import EffectTask
from ..prefetch import drawn_ahead
from .scene import Renderer, Scene, prepare_scene

DEFAULT_SECONDS = 5.0
DEFAULT_FPS = 24
# Every effect holds the photo for this fraction of its clock before anything moves; those frames
# are the photo itself, bit for bit (a composite over the plate would differ at the matte's edge).
HOLD = 0.05

# Effect name -> (module, builder). Builders take the Scene and return a Renderer.
EFFECTS: dict[str, tuple[str, str]] = {
    "Inflate": ("deform", "inflate"),
    "Deflate": ("deform", "deflate"),
    "Squish": ("deform", "squish"),
    "Crush": ("deform", "crush"),
    "Poke": ("deform", "poke"),
    "Melt": ("deform", "melt"),
    "Explode": ("fragments", "explode"),
    "Crumble": ("fragments", "crumble"),
    "Dissolve": ("fragments", "dissolve"),
    "Levitate": ("motion", "levitate"),
    "Ta-da": ("motion", "tada"),
    "Tear": ("split", "tear"),
    "Peel": ("split", "peel"),
    "Cake-ify": ("split", "cakeify"),
    "Eye-pop": ("face", "eye_pop"),
    "Decapitate": ("face", "decapitate"),
}


def builder_for(effect: str) -> Callable[[Scene], Renderer]:
    if effect not in EFFECTS:
        raise InputError(
            ("body", "pikaffect"), f"unknown pikaffect {effect!r}; choose one of {sorted(EFFECTS)}"
        )
    module_name, function_name = EFFECTS[effect]
    module = importlib.import_module(f"{__name__}.{module_name}")
    builder: Callable[[Scene], Renderer] = getattr(module, function_name)
    return builder


def render_effect(task: EffectTask, ctx: RunContext) -> Clip:
    out = task.output
    builder = builder_for(task.effect)
    ctx.log(f"pikaffect {task.effect}: finding the subject")
    scene = prepare_scene(task, ctx)
    ctx.log(
        f"subject box {tuple(scene.bbox)}, faces found: {len(scene.subject.faces)} ({scene.subject.face_kind}); "
        f"{scene.controls.describe()}"
    )
    ctx.check_cancelled()
    renderer = builder(scene)
    n = out.num_frames

    def render(i: int) -> np.ndarray:
        t = i / max(1, n - 1)
        return scene.image.copy() if scene.clock(t) < HOLD else renderer(t)

    # Drawn ahead on two threads while the encoder takes the previous ones (renderers are pure
    # functions of t: builders draw every random number up front).
    return Clip(out.width, out.height, out.fps, n, drawn_ahead(render, n, ctx.progress))
