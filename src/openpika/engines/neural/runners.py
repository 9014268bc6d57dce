"""One function per task family: map the typed task onto pipeline calls and the result back onto the
requested output (size, frame count, fps). Each returns (T, H, W, 3) uint8 frames that match
``task.output`` exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from ...errors import EngineError, EngineUnavailable
from ..base import RunContext
from ..tasks import (
    AdditionTask,
    EffectTask,
    ImageToVideoTask,
    KeyframesTask,
    OutputSpec,
    ScenesTask,
    SwapTask,
    TextToVideoTask,
)
from .frames import GenerationFormat, fit_cover, generation_format, region_mask, resample_clip, sample_video
from .loras import AdapterRequest
from .registry import ModelSpec, RouteSpec
from .runtime import PipelineRuntime

# Where an added object goes, and what a swap regenerates when no mask came with the task:
# the lower middle of the frame, where subjects usually stand (left, top, right, bottom).
ADDITION_BOX = (0.3, 0.35, 0.7, 0.95)
SWAP_BOX = (0.2, 0.15, 0.8, 0.95)
# Pikascenes' ingredients mode: how strongly the reference images steer VACE.
SCENES_CONDITIONING = {"precise": 1.0, "creative": 0.7}


def _pil(image: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(image[..., :3]).astype(np.uint8), "RGB")


def _family_view(model: ModelSpec, allowed: dict[str, str], route: RouteSpec) -> str:
    view = allowed.get(model.family)
    if view is None:
        raise EngineUnavailable(
            f"route {route.key} uses {model.name} ({model.family}), which cannot serve it: "
            f"choose a model of family {' or '.join(allowed)} in openpika-models.json"
        )
    return view


def _finish(
    frames: np.ndarray, fmt: GenerationFormat, out: OutputSpec, model: ModelSpec, ctx: RunContext
) -> np.ndarray:
    if (frames.shape[2], frames.shape[1], len(frames)) != (fmt.width, fmt.height, fmt.num_frames):
        raise EngineError(
            f"{model.name} returned {len(frames)} frames of {frames.shape[2]}x{frames.shape[1]}, "
            f"expected {fmt.describe()}"
        )
    if (fmt.width, fmt.height, fmt.num_frames, fmt.fps) != (out.width, out.height, out.num_frames, out.fps):
        ctx.log(
            f"resampling {model.name}'s {fmt.describe()} to {out.width}x{out.height}, "
            f"{out.num_frames} frames at {out.fps} fps"
        )
    return resample_clip(
        frames,
        width=out.width,
        height=out.height,
        num_out=out.num_frames,
        source_fps=fmt.fps,
        out_fps=out.fps,
    )


def _plan(out: OutputSpec, model: ModelSpec, ctx: RunContext) -> GenerationFormat:
    fmt = generation_format(out.width, out.height, out.seconds, model)
    if fmt.fps < model.fps - 1e-6:
        ctx.log(
            f"{model.name} generates at most {model.max_frames} frames: {out.seconds:.3g} s are generated at "
            f"{fmt.fps:.3g} fps and interpolated to {out.fps} fps",
            "WARN",
        )
    return fmt


def run_image_to_video(
    rt: PipelineRuntime, route: RouteSpec, task: ImageToVideoTask, ctx: RunContext
) -> np.ndarray:
    model = rt.registry.models[route.model]
    view = _family_view(model, {"wan": "wan-i2v", "ltx": "ltx-condition"}, route)
    fmt = _plan(task.output, model, ctx)
    image = _pil(fit_cover(task.image, fmt.width, fmt.height))
    kwargs: dict[str, Any] = {
        "prompt": task.prompt,
        "negative_prompt": task.negative_prompt or None,
        "height": fmt.height,
        "width": fmt.width,
        "num_frames": fmt.num_frames,
    }
    if view == "ltx-condition":
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        kwargs.update(conditions=[LTXVideoCondition(image=image, frame_index=0)], frame_rate=round(fmt.fps))
    else:
        kwargs["image"] = image
    frames = rt.generate(route, view, kwargs, seed=task.seed, ctx=ctx)
    return _finish(frames, fmt, task.output, model, ctx)


def run_text_to_video(
    rt: PipelineRuntime, route: RouteSpec, task: TextToVideoTask, ctx: RunContext
) -> np.ndarray:
    model = rt.registry.models[route.model]
    view = _family_view(model, {"wan": "wan-t2v"}, route)
    fmt = _plan(task.output, model, ctx)
    kwargs = {
        "prompt": task.prompt,
        "negative_prompt": task.negative_prompt or None,
        "height": fmt.height,
        "width": fmt.width,
        "num_frames": fmt.num_frames,
    }
    frames = rt.generate(route, view, kwargs, seed=task.seed, ctx=ctx)
    return _finish(frames, fmt, task.output, model, ctx)


def run_effect(rt: PipelineRuntime, route: RouteSpec, task: EffectTask, ctx: RunContext) -> np.ndarray:
    model = rt.registry.models[route.model]
    view = _family_view(model, {"wan": "wan-i2v"}, route)
    lora = rt.registry.lora_for_effect(task.effect)
    path = lora.find_file(rt.registry.models_dir) if lora else None
    if lora is None or path is None:
        raise EngineUnavailable(" ".join(rt.registry.effect_problems(task.effect)))
    subject = task.prompt.strip() or "the subject"
    prompt = lora.prompt_template.format(subject=subject)
    if lora.trigger and lora.trigger not in prompt:
        prompt = f"{lora.trigger} {prompt}"
    ctx.log(f"effect {task.effect}: LoRA {lora.name} (trigger {lora.trigger!r})")
    fmt = _plan(task.output, model, ctx)
    kwargs = {
        "prompt": prompt,
        "negative_prompt": task.negative_prompt or None,
        "image": _pil(fit_cover(task.image, fmt.width, fmt.height)),
        "height": fmt.height,
        "width": fmt.width,
        "num_frames": fmt.num_frames,
    }
    adapters = [AdapterRequest(lora.name, path, lora.scale)]
    frames = rt.generate(route, view, kwargs, seed=task.seed, ctx=ctx, adapters=adapters)
    return _finish(frames, fmt, task.output, model, ctx)


def run_keyframes(rt: PipelineRuntime, route: RouteSpec, task: KeyframesTask, ctx: RunContext) -> np.ndarray:
    model = rt.registry.models[route.model]
    view = _family_view(model, {"wan": "wan-i2v", "ltx": "ltx-condition"}, route)
    if view == "ltx-condition":
        return _keyframes_one_pass(rt, route, model, task, ctx)
    out = task.output
    pieces: list[np.ndarray] = []
    count = len(task.transitions)
    for index, transition in enumerate(task.transitions):
        seconds = transition.num_frames / out.fps
        fmt = generation_format(out.width, out.height, seconds, model, inclusive=True)
        first = _pil(fit_cover(task.keyframes[index], fmt.width, fmt.height))
        last = _pil(fit_cover(task.keyframes[index + 1], fmt.width, fmt.height))
        kwargs = {
            "prompt": transition.prompt or "",
            "negative_prompt": task.negative_prompt or None,
            "image": first,
            "last_image": last,
            "height": fmt.height,
            "width": fmt.width,
            "num_frames": fmt.num_frames,
        }
        label = f"transition {index + 1}/{count}"
        ctx.log(f"{label}: {fmt.describe()} for {transition.num_frames} output frames")
        frames = rt.generate(
            route,
            view,
            kwargs,
            seed=task.seed + index,
            ctx=ctx,
            progress_span=(index / count, 1 / count),
            label=label,
        )
        # Both ends pinned: keyframe i lands on the segment's first frame and keyframe i+1 on the
        # frame that the next segment starts with, so the joined clip has no seam or repeat.
        segment = resample_clip(
            frames,
            width=out.width,
            height=out.height,
            num_out=transition.num_frames + 1,
            source_fps=fmt.fps,
            out_fps=out.fps,
            align_ends=True,
        )
        pieces.append(segment if index == count - 1 else segment[:-1])
    return np.concatenate(pieces)


def _keyframes_one_pass(
    rt: PipelineRuntime, route: RouteSpec, model: ModelSpec, task: KeyframesTask, ctx: RunContext
) -> np.ndarray:
    """LTX: every keyframe as a condition at its frame index in one generation (one prompt)."""
    from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

    out = task.output
    total = out.num_frames - 1
    fmt = generation_format(out.width, out.height, total / out.fps, model, inclusive=True)
    starts = np.cumsum([0] + [t.num_frames for t in task.transitions])
    indices = [round(int(s) * (fmt.num_frames - 1) / total) for s in starts]
    conditions = [
        LTXVideoCondition(image=_pil(fit_cover(image, fmt.width, fmt.height)), frame_index=index)
        for image, index in zip(task.keyframes, indices, strict=True)
    ]
    ctx.log(f"one pass for {len(task.keyframes)} keyframes at generated frames {indices}: {fmt.describe()}")
    kwargs = {
        "conditions": conditions,
        "prompt": task.transitions[0].prompt or "",
        "negative_prompt": task.negative_prompt or None,
        "height": fmt.height,
        "width": fmt.width,
        "num_frames": fmt.num_frames,
        "frame_rate": round(fmt.fps),
    }
    frames = rt.generate(route, "ltx-condition", kwargs, seed=task.seed, ctx=ctx)
    return resample_clip(
        frames,
        width=out.width,
        height=out.height,
        num_out=out.num_frames,
        source_fps=fmt.fps,
        out_fps=out.fps,
        align_ends=True,
    )


def run_scenes(rt: PipelineRuntime, route: RouteSpec, task: ScenesTask, ctx: RunContext) -> np.ndarray:
    model = rt.registry.models[route.model]
    view = _family_view(model, {"wan-vace": "wan-vace"}, route)
    fmt = _plan(task.output, model, ctx)
    # VACE fits each reference into the frame itself (letterboxed), so the images go in whole.
    kwargs = {
        "prompt": task.prompt,
        "negative_prompt": task.negative_prompt or None,
        "reference_images": [_pil(image) for image in task.images],
        "conditioning_scale": SCENES_CONDITIONING.get(task.mode, 1.0),
        "height": fmt.height,
        "width": fmt.width,
        "num_frames": fmt.num_frames,
    }
    frames = rt.generate(route, view, kwargs, seed=task.seed, ctx=ctx)
    return _finish(frames, fmt, task.output, model, ctx)


def _video_edit(
    rt: PipelineRuntime,
    route: RouteSpec,
    task: AdditionTask | SwapTask,
    fmt: GenerationFormat,
    reference: np.ndarray | None,
    mask: np.ndarray,
    prompt: str,
    ctx: RunContext,
) -> np.ndarray:
    model = rt.registry.models[route.model]
    view = _family_view(model, {"wan-vace": "wan-vace"}, route)
    video = sample_video(task.video.frames, task.video.fps, fmt)
    kwargs: dict[str, Any] = {
        "prompt": prompt,
        "negative_prompt": task.negative_prompt or None,
        "video": [_pil(frame) for frame in video],
        "mask": [Image.fromarray(m, "L") for m in mask],
        "height": fmt.height,
        "width": fmt.width,
        "num_frames": fmt.num_frames,
    }
    if reference is not None:
        kwargs["reference_images"] = [_pil(reference)]
    frames = rt.generate(route, view, kwargs, seed=task.seed, ctx=ctx)
    return _finish(frames, fmt, task.output, model, ctx)


def run_addition(rt: PipelineRuntime, route: RouteSpec, task: AdditionTask, ctx: RunContext) -> np.ndarray:
    model = rt.registry.models[route.model]
    fmt = _plan(task.output, model, ctx)
    mask = region_mask(fmt, ADDITION_BOX)
    prompt = task.prompt or "add the object from the reference image into the scene"
    return _video_edit(rt, route, task, fmt, task.object_image, mask, prompt, ctx)


def run_swap(rt: PipelineRuntime, route: RouteSpec, task: SwapTask, ctx: RunContext) -> np.ndarray:
    model = rt.registry.models[route.model]
    fmt = _plan(task.output, model, ctx)
    given = task.extra.get("mask")
    if isinstance(given, np.ndarray):
        # A region mask from the worker (T, H, W) or (H, W), any size: brought to the generation format.
        masks = given if given.ndim == 3 else given[None]
        picked = sample_video(np.repeat(masks[..., None], 3, axis=-1), task.video.fps, fmt)[..., 0]
        mask = np.where(picked > 127, 255, 0).astype(np.uint8)
    else:
        ctx.log(
            f"no mask for region {task.modify_region!r}: regenerating the central region "
            "(the neural engine has no text-to-mask model)",
            "WARN",
        )
        mask = region_mask(fmt, SWAP_BOX)
    prompt = task.prompt or (f"replace {task.modify_region}" if task.modify_region else "")
    return _video_edit(rt, route, task, fmt, task.image, mask, prompt, ctx)
