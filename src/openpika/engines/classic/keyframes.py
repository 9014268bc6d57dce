"""Classic pikaframes: one continuous video through every keyframe, moving between them.

Frame layout (the "+1" convention, fixed by ``KeyframesTask``): transition i owns
``task.transitions[i].num_frames`` frames starting with keyframe i itself, and the last keyframe gets
one extra final frame, so ``num_frames == sum(transition frames) + 1`` and keyframe i is frame
``sum(num_frames of transitions before i)``, identical to the fitted keyframe.

Each keyframe is first fitted to the output size by cover-crop: scaled until it covers the frame,
then centre-cropped (a keyframe of another aspect loses its overflowing edges, never gets bars).

Per pair of consecutive keyframes, the plan is made up front (it is cheap: one flow pair each):
- the transition's prompt may name a transition (``interpolation.transitions``); otherwise
- related keyframes (same scene, judged from feature matches and flow consistency) morph along
  motion-compensated optical flow; unrelated ones get a designed transition chosen for the pair.
Timing follows ``interpolation.timing``: eased at both ends of the video, with continuous on-screen
speed through interior keyframes. Frames are rendered lazily, a few ahead on helper threads
(``prefetch``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from ..base import Clip, RunContext
from ..tasks import KeyframesTask
from .interpolation import PairInterpolator, bidirectional_flow
from .interpolation.flow import PairFlow
from .interpolation.relatedness import Relatedness, assess
from .interpolation.timing import TimeCurve, time_curves
from .interpolation.transitions import DesignedTransition, choose_designed, transition_from_prompt
from .prefetch import drawn_ahead


@dataclass
class TransitionPlan:
    kind: str  # "morph" or a designed transition's name
    reason: str  # why: "prompt", "related", "unrelated"
    flow: PairFlow
    relatedness: Relatedness
    speed: float | None  # mean on-screen motion in output pixels per frame (morphs only)


def fit_keyframe(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Cover-crop: scale ``image`` to cover width x height, then crop the centre."""
    h, w = image.shape[:2]
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    image = np.ascontiguousarray(image[..., :3], dtype=np.uint8)
    scale = max(width / w, height / h)
    new_w, new_h = max(width, round(w * scale)), max(height, round(h * scale))
    if (new_w, new_h) != (w, h):
        interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
        image = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    x0, y0 = (new_w - width) // 2, (new_h - height) // 2
    return np.ascontiguousarray(image[y0 : y0 + height, x0 : x0 + width])


def plan_transition(image_a: np.ndarray, image_b: np.ndarray, prompt: str | None, seed: int,
                    num_frames: int) -> TransitionPlan:  # fmt: skip
    """Analyse one pair of fitted keyframes and decide how to move from A to B."""
    flow = bidirectional_flow(image_a, image_b)
    relatedness = assess(flow.gray_a, flow.gray_b, flow)
    asked = transition_from_prompt(prompt)
    if asked is not None:
        kind, reason = asked, "prompt"
    elif relatedness.related:
        kind, reason = "morph", "related"
    else:
        kind, reason = choose_designed(image_a, image_b, seed), "unrelated"
    speed = None
    if kind == "morph":
        to_output = image_a.shape[1] / flow.size[0]
        magnitude = float(np.linalg.norm(flow.forward, axis=2).mean()) * to_output
        speed = magnitude / max(1, num_frames)
    return TransitionPlan(kind, reason, flow, relatedness, speed)


def render_keyframes(task: KeyframesTask, ctx: RunContext) -> Clip:
    out = task.output
    if len(task.keyframes) != len(task.transitions) + 1:
        raise ValueError(f"{len(task.keyframes)} keyframes need {len(task.keyframes) - 1} transitions, "
                         f"got {len(task.transitions)}")  # fmt: skip
    expected = sum(t.num_frames for t in task.transitions) + 1
    if out.num_frames != expected:
        raise ValueError(
            f"output.num_frames must be sum(transition frames) + 1 = {expected}, got {out.num_frames}"
        )

    keyframes = [fit_keyframe(k, out.width, out.height) for k in task.keyframes]
    plans: list[TransitionPlan] = []
    for i, transition in enumerate(task.transitions):
        ctx.check_cancelled()
        plan = plan_transition(
            keyframes[i], keyframes[i + 1], transition.prompt, task.seed + i, transition.num_frames
        )
        r = plan.relatedness
        ctx.log(f"transition {i + 1}: {plan.kind} ({plan.reason}; inliers {r.inliers}, "
                f"consistent {r.consistent_share:.2f}, warp ncc {r.warp_ncc:.2f})")  # fmt: skip
        plans.append(plan)
    curves = time_curves([p.speed for p in plans])

    # Frame index -> (transition, frame within it); the last frame is the last keyframe itself.
    owners = [(i, j) for i, transition in enumerate(task.transitions) for j in range(transition.num_frames)]
    renderers: dict[int, PairInterpolator | DesignedTransition] = {}
    made = threading.Lock()

    def renderer(i: int) -> PairInterpolator | DesignedTransition:
        # Made on first use, once: the render threads share it. Frames are asked for in order, a
        # few at a time, so a late frame of the previous transition may still come after this
        # one's first: that one is kept, the ones before it are let go (each holds
        # full-resolution maps).
        with made:
            if i not in renderers:
                for done in [k for k in renderers if k < i - 1]:
                    del renderers[done]
                renderers[i] = _renderer(
                    plans[i], keyframes[i], keyframes[i + 1], task.seed + i, task.transitions[i].num_frames
                )
            return renderers[i]

    def render(index: int) -> np.ndarray:
        if index == len(owners):
            return keyframes[-1].copy()
        i, j = owners[index]
        return renderer(i).frame_at(_tau(curves[i], j, task.transitions[i].num_frames))

    # Drawn ahead on two threads while the encoder takes the previous ones: ~20 % faster end to end
    # on 2 cores than one thread drawing with OpenCV's own pool (benchmarks/interpolation.py
    # --render-only), and the same frames (each is a pure function of its index).
    return Clip(
        out.width, out.height, out.fps, out.num_frames, drawn_ahead(render, out.num_frames, ctx.progress)
    )


def _tau(curve: TimeCurve, index: int, num_frames: int) -> float:
    return 0.0 if index == 0 else curve(index / num_frames)


def _renderer(plan: TransitionPlan, image_a: np.ndarray, image_b: np.ndarray, seed: int,
              num_frames: int) -> PairInterpolator | DesignedTransition:  # fmt: skip
    if plan.kind == "morph":
        return PairInterpolator(image_a, image_b, plan.flow)
    return DesignedTransition(image_a, image_b, plan.kind, seed, num_frames)
