"""Classic image-to-video: what a camera can do to a still scene, read from the prompt.

Two tiers:

* **turbo** (``fal-ai/pika/v2/turbo/image-to-video``): the image is one plane and no depth is
  estimated; every frame is a single affine warp (the plane's homography to first order: a dolly
  reads as a push, a truck as a slide) and the clip is encoded with the fastest x264 preset
  (``settings.x264_preset_turbo``). With nothing drawn over the picture, the warp is done on the
  Y, U and V planes and the clip hands the encoder I420 frames (``Clip.pixel_format``).
* **parallax** (v2.1, v2.2): the image is split into a subject layer in front of a tilted
  background plane (``depth.py``) and each layer moves with its own depth (``parallax.py``), so a
  dolly is not a zoom and an orbit turns the subject against its background.

Framing: the source is cover-fitted to the output's aspect and the shot is cropped just enough
(``overscan``) that no frame ever samples outside the image; a move that would need more margin,
or reveal more hidden background than the fill supports, is scaled down rather than shown broken.
Frames are rendered at output size from a source pre-shrunk (INTER_AREA) to about the largest
magnification the move needs, so there is no aliasing shimmer and never an upscaled small render.
Frames are rendered ahead on helper threads (``prefetch.py``) while the encoder works, each a pure
function of its index and the seed, so the output is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import cv2
import numpy as np

from ...settings import get_settings
from ..base import Clip, RunContext
from ..tasks import ImageToVideoTask
from .atmosphere import Atmosphere, SkyDrift, find_sky
from .camera import CameraPlan, parse_prompt
from .camera.trajectory import Pose, Trajectory, plane_homographies
from .depth import estimate_depth
from .layer_render import affine_inverse_map, composite
from .parallax import (
    MAX_OVERSCAN,
    MAX_REVEAL,
    Framing,
    Layer,
    output_framing,
    required_overscan,
    reveal_fraction,
    source_intrinsics,
    start_layers,
)
from .prefetch import drawn_ahead
from .resample import PaddedPlane, warp_affine_linear
from .subject import find_subject

TURBO_PLANE_DEPTH = 1.6  # a single plane this far away: a dolly pushes in ~10 %, like a gentle zoom
# The most magnification headroom kept in the source (a fast push-in needs about this much).
SOURCE_HEADROOM = 1.5
AMOUNTS = (1.0, 0.8, 0.64, 0.5, 0.4, 0.3, 0.2)
FIT_SAMPLES = 25


@dataclass
class _Shot:
    layers: list[Layer]
    framing: Framing
    trajectory: Trajectory


def _peak_magnification(plan: CameraPlan, task: ImageToVideoTask, src_w: int, src_h: int) -> float:
    """How much larger than the cover fit a near (depth 1) or far (depth 3) plane gets in the move;
    for turbo, its one plane."""
    out = task.output
    cover = max(out.width / src_w, out.height / src_h)
    centre = np.array([(src_w - 1) / 2.0, (src_h - 1) / 2.0, 1.0])
    peak = 1.0
    for depth in (TURBO_PLANE_DEPTH,) if task.turbo else (1.0, 3.0):
        plane = Layer(np.zeros((1, 1, 3), np.uint8), np.array([0.0, 0.0, 1.0 / depth]))
        shot = _fit_shot(
            plan,
            out.seconds,
            task.seed,
            plane,
            None,
            (0.0, 0.0, 1.0),
            (src_w, src_h),
            (out.width, out.height),
        )
        poses = [shot.trajectory.pose(float(t)) for t in np.linspace(0.0, out.seconds, FIT_SAMPLES)]
        homs = plane_homographies(poses, plane.normal, shot.framing.k_src, shot.framing.k_out)
        p = homs @ centre
        w = p[:, 2, None, None]
        jac = (homs[:, :2, :2] * w - p[:, :2, None] * homs[:, 2, None, :2]) / (w * w)
        peak = max(peak, float(np.sqrt(np.abs(np.linalg.det(jac))).max()) / cover)
    return peak


def _working_image(image: np.ndarray, plan: CameraPlan, task: ImageToVideoTask) -> np.ndarray:
    """Shrink a large source once (INTER_AREA) to what the frame shows at the move's peak: every
    later step (matting, plate, warps) then costs no more than the output needs, and no frame
    magnifies the source past its own resolution."""
    h, w = image.shape[:2]
    out = task.output
    headroom = min(SOURCE_HEADROOM, 1.05 * _peak_magnification(plan, task, w, h))
    factor = max(out.width / w, out.height / h) * headroom
    if factor >= 1.0:
        return image
    size = (max(2, round(w * factor)), max(2, round(h * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _fit_shot(
    plan: CameraPlan,
    duration: float,
    seed: int,
    background: Layer,
    subject: Layer | None,
    pivot_of: tuple[float, float, float],
    src_size: tuple[int, int],
    out_size: tuple[int, int],
) -> _Shot:
    """The largest fraction of the move the image supports, and the crop margin it needs."""
    src_w, src_h = src_size
    out_w, out_h = out_size
    times = np.linspace(0.0, duration, FIT_SAMPLES)
    for amount in AMOUNTS:
        trajectory = Trajectory(plan, duration, pivot=pivot_of, amount=amount, seed=seed)
        poses: list[Pose] = [trajectory.pose(float(t)) for t in times]
        normals = [background.normal] + ([subject.normal] if subject is not None else [])
        overscan = required_overscan(poses, normals, src_w, src_h, out_w, out_h)
        framing = output_framing(src_w, src_h, out_w, out_h, overscan)
        reveal = reveal_fraction(poses, framing, background.normal, subject)
        if overscan <= MAX_OVERSCAN and reveal <= MAX_REVEAL:
            break
    layers = [background] + ([subject] if subject is not None else [])
    return _Shot(layers, framing, trajectory)


def _turbo_shot(image: np.ndarray, plan: CameraPlan, task: ImageToVideoTask) -> _Shot:
    out = task.output
    h, w = image.shape[:2]
    normal = np.array([0.0, 0.0, 1.0 / TURBO_PLANE_DEPTH])
    return _fit_shot(
        plan,
        out.seconds,
        task.seed,
        Layer(image, normal),
        None,
        (0.0, 0.0, TURBO_PLANE_DEPTH),
        (w, h),
        (out.width, out.height),
    )


def _parallax_shot(image: np.ndarray, plan: CameraPlan, task: ImageToVideoTask, ctx: RunContext) -> _Shot:
    out = task.output
    h, w = image.shape[:2]
    found = find_subject(image, seed=task.seed)
    ctx.check_cancelled()
    # The plate and the subject layer are made on helper threads while the depth cues are weighed
    # here; if the cues reject the subject, that work is dropped.
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="openpika-layers")
    try:
        job = start_layers(pool, image, found.alpha, task.seed)
        estimate = estimate_depth(image, seed=task.seed, subject=found)
        ctx.check_cancelled()
        k_src = source_intrinsics(w, h)
        background_normal = estimate.background_normal(k_src, h)
        if estimate.subject is None:
            background, subject = Layer(image, background_normal), None
        else:
            background, subject = job.layers(
                background_normal, estimate.subject_normal(), ctx.check_cancelled
            )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    ctx.log(
        f"depth: subject {'found' if subject is not None else 'none'} at {estimate.subject_depth:.2f}, "
        f"background {estimate.background_far:.2f}-{estimate.background_near:.2f}, cues {estimate.cues}"
    )
    return _fit_shot(
        plan,
        out.seconds,
        task.seed,
        background,
        subject,
        estimate.pivot(k_src),
        (w, h),
        (out.width, out.height),
    )


def _sky_drift(shot: _Shot, plan: CameraPlan, fps: int, seed: int, ctx: RunContext) -> SkyDrift | None:
    """Clouds drifting in the background layer's sky, when the prompt asks and a sky is there."""
    if "clouds" not in plan.effects:
        return None
    background = shot.layers[0]
    sky = find_sky(background.rgb)
    if sky is not None and len(shot.layers) > 1:
        # The plate's filled-in subject area looks like smooth sky; it must not drift.
        subject = shot.layers[1]
        x0, y0 = subject.offset
        sh, sw = subject.rgb.shape[:2]
        covered = np.zeros(sky.shape, np.uint8)
        covered[y0 : y0 + sh, x0 : x0 + sw] = subject.rgb[..., 3] > 5
        sky[cv2.dilate(covered, np.ones((15, 15), np.uint8)) > 0] = 0.0
    if sky is None:
        ctx.log("clouds asked for, but no clear sky found: leaving the sky still")
        return None
    return SkyDrift(background.rgb, sky, fps, direction=1 if seed % 2 == 0 else -1)


@dataclass
class _I420Source:
    """The turbo tier's single plane as I420 planes (Y full size, U and V half size), converted
    once: each frame is then three plane warps straight into the encoder's format, about 20 %
    cheaper than an RGB warp plus a per-frame RGB -> I420 conversion. The planes are padded for
    ``resample``'s separable fast path, which most moves take."""

    y: PaddedPlane
    u: PaddedPlane
    v: PaddedPlane

    @classmethod
    def of(cls, rgb: np.ndarray) -> _I420Source:
        h, w = rgb.shape[:2]
        planes = _i420_planes(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420), w, h)
        y, u, v = (PaddedPlane.of(plane, max_scale=SOURCE_HEADROOM) for plane in planes)
        return cls(y, u, v)


def _i420_planes(buffer: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y, U and V planes of an I420 buffer of shape (height * 3 // 2, width)."""
    flat = buffer.reshape(-1)
    luma, chroma = width * height, (width // 2) * (height // 2)
    return (
        flat[:luma].reshape(height, width),
        flat[luma : luma + chroma].reshape(height // 2, width // 2),
        flat[luma + chroma : luma + 2 * chroma].reshape(height // 2, width // 2),
    )


def _warp_i420(source: _I420Source, luma_map: np.ndarray, width: int, height: int) -> np.ndarray:
    """One turbo frame in I420: ``luma_map`` (output -> source, 2x3) warps Y; the chroma planes
    take the same map in their own half-size pixel grid (sample ``q`` sits at luma ``2q + 0.5``)."""
    frame = np.empty((height * 3 // 2, width), np.uint8)
    y, u, v = _i420_planes(frame, width, height)
    chroma_map = luma_map.copy()
    chroma_map[:, 2] = (luma_map[:, :2] @ np.array([0.5, 0.5]) + luma_map[:, 2] - 0.5) / 2.0
    for plane, out, matrix in ((source.y, y, luma_map), (source.u, u, chroma_map), (source.v, v, chroma_map)):
        warp_affine_linear(plane, matrix, out)
    return frame


def render_image_to_video(task: ImageToVideoTask, ctx: RunContext) -> Clip:
    out = task.output
    plan = parse_prompt(task.prompt, task.negative_prompt, task.seed)
    tier = "turbo (single plane)" if task.turbo else "parallax (subject + background layers)"
    ctx.log(f"camera: {plan.describe()}; tier: {tier}")
    preset = get_settings().x264_preset_turbo if task.turbo else None

    life = Atmosphere(plan, out.width, out.height, out.fps, task.seed)
    # Turbo with nothing to draw over the picture renders straight into the encoder's I420.
    direct_i420 = task.turbo and not life.active and "clouds" not in plan.effects

    def frames() -> Iterator[np.ndarray]:
        # Setup runs on the first frame request, so the worker's progress and cancel cover it.
        image = _working_image(np.ascontiguousarray(task.image[..., :3]), plan, task)
        if direct_i420:  # I420 needs even sizes; a row or column of the source is not missed
            image = image[: image.shape[0] // 2 * 2, : image.shape[1] // 2 * 2]
        shot = _turbo_shot(image, plan, task) if task.turbo else _parallax_shot(image, plan, task, ctx)
        ctx.check_cancelled()
        drift = _sky_drift(shot, plan, out.fps, task.seed, ctx)
        planes = _I420Source.of(shot.layers[0].rgb) if direct_i420 else None
        last = max(1, out.num_frames - 1)

        def render(index: int) -> np.ndarray:
            t = out.seconds * index / last
            if planes is not None:
                hom = shot.framing.homography(shot.trajectory.pose(t), shot.layers[0].normal)
                return _warp_i420(
                    planes, affine_inverse_map(hom, out.width, out.height), out.width, out.height
                )
            layers = shot.layers
            if drift is not None:
                layers = [replace(layers[0], rgb=drift.layer(index)), *layers[1:]]
            frame = composite(layers, shot.trajectory.pose(t), shot.framing, affine=task.turbo)
            return life.apply(frame, index)

        yield from drawn_ahead(render, out.num_frames, ctx.progress)

    return Clip(
        out.width,
        out.height,
        out.fps,
        out.num_frames,
        frames(),
        encoder_preset=preset,
        pixel_format="yuv420p" if direct_i420 else "rgb24",
    )
