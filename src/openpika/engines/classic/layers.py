"""Layer compositing primitives shared by scenes, additions and swaps.

A *layer* is an RGB image with a float alpha. Layers are placed into a frame through a 2x3 affine
matrix (layer pixels -> frame pixels) and blended only inside the destination's bounding box, so a
small object on a 1080p frame costs a small warp, not a full-frame one.

Also here: Lab colour matching (so an inserted object takes the scene's light), soft contact
shadows, and the subject cut-out used to lift an object off its photo.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

Affine = np.ndarray  # (2, 3) float64: layer pixel -> frame pixel


@dataclass
class Cutout:
    """An object lifted off its photo, cropped to its matte's bounding box."""

    rgb: np.ndarray  # (h, w, 3) uint8
    alpha: np.ndarray  # (h, w) float32 in [0, 1]
    coverage: float  # fraction of the source photo the matte covers (before cropping)
    confidence: float  # cutout.matte_confidence: ~0.5 a cut through texture, >0.9 a clean outline
    origin: tuple[int, int] = (0, 0)  # top-left of the crop in the source photo
    touches_bottom: bool = False  # the subject runs off the photo's bottom edge (a bust, a torso)

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])


def compose(outer: Affine, inner: Affine) -> Affine:
    """The affine that applies ``inner`` first, then ``outer``."""
    a = np.vstack([outer, [0.0, 0.0, 1.0]])
    b = np.vstack([inner, [0.0, 0.0, 1.0]])
    return (a @ b)[:2]


def similarity(scale: float, angle_deg: float = 0.0, tx: float = 0.0, ty: float = 0.0) -> Affine:
    """Scale and rotate about the origin, then translate."""
    theta = np.deg2rad(angle_deg)
    c, s = scale * np.cos(theta), scale * np.sin(theta)
    return np.array([[c, -s, tx], [s, c, ty]], dtype=np.float64)


def affine_scale(m: Affine) -> float:
    return float(np.sqrt(abs(np.linalg.det(m[:, :2]))))


def apply_affine(m: Affine, x: float, y: float) -> tuple[float, float]:
    return (
        float(m[0, 0] * x + m[0, 1] * y + m[0, 2]),
        float(m[1, 0] * x + m[1, 1] * y + m[1, 2]),
    )


def _destination_box(
    frame_shape: tuple[int, ...], h: int, w: int, m: Affine
) -> tuple[int, int, int, int, Affine] | None:
    """The frame box an (h, w) layer lands in through ``m``, and ``m`` re-based to that box."""
    fh, fw = frame_shape[:2]
    corners = np.array([[0, 0, 1], [w, 0, 1], [0, h, 1], [w, h, 1]], dtype=np.float64) @ m.T
    x0 = max(0, int(np.floor(corners[:, 0].min())) - 1)
    y0 = max(0, int(np.floor(corners[:, 1].min())) - 1)
    x1 = min(fw, int(np.ceil(corners[:, 0].max())) + 1)
    y1 = min(fh, int(np.ceil(corners[:, 1].max())) + 1)
    if x1 <= x0 or y1 <= y0:
        return None
    local = m.copy()
    local[:, 2] -= (x0, y0)
    return x0, y0, x1, y1, local


def warp_layer_into(
    frame: np.ndarray,
    rgb: np.ndarray,
    alpha: np.ndarray,
    m: Affine,
    opacity: float = 1.0,
    grain: tuple[float, np.random.Generator] | None = None,
) -> tuple[int, int, int, int] | None:
    """Blend ``rgb``/``alpha`` into ``frame`` (in place) through ``m``; returns the touched box
    (x0, y0, x1, y1) or None when the layer falls outside the frame. ``grain`` (sigma in grey
    levels, generator) adds fresh luma noise over the layer so it shares the footage's grain."""
    box = _destination_box(frame.shape, alpha.shape[0], alpha.shape[1], m)
    if box is None:
        return None
    x0, y0, x1, y1, local = box
    size = (x1 - x0, y1 - y0)
    # Shrinking layers need area-like filtering or their edges shimmer from frame to frame.
    flags = cv2.INTER_AREA if affine_scale(m) < 0.8 else cv2.INTER_LINEAR
    src = cv2.warpAffine(rgb, local, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    a = cv2.warpAffine(alpha, local, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    a = a * opacity if opacity != 1.0 else a
    if grain is not None and grain[0] > 0.0:
        sigma, rng = grain
        noise = rng.standard_normal(a.shape, dtype=np.float32) * sigma
        src = np.clip(src.astype(np.float32) + noise[..., None], 0, 255).astype(np.uint8)
    blend_into(frame[y0:y1, x0:x1], src, a)
    return x0, y0, x1, y1


def grain_level(frame: np.ndarray) -> float:
    """The footage's noise, in grey levels: a robust (median-based) spread of its finest detail.
    Below about one level the footage is clean and nothing needs adding."""
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    fine = gray - cv2.GaussianBlur(gray, (0, 0), 1.0)
    sigma = 1.4826 * float(np.median(np.abs(fine)))
    return 0.0 if sigma < 1.0 else min(sigma, 6.0)


def prescale_layer(rgb: np.ndarray, alpha: np.ndarray, m: Affine) -> tuple[np.ndarray, np.ndarray, Affine]:
    """Shrink a layer once, with area filtering, to about the size it is shown at (plus headroom for
    a camera push), and return the matching affine. Warps cannot area-filter, so without this a
    large photo shown small would alias and shimmer, and every frame would pay for its full size."""
    shown = affine_scale(m)
    if shown >= 0.8:
        return rgb, alpha, m
    k = min(1.0, shown * 1.3)
    size = (max(2, round(rgb.shape[1] * k)), max(2, round(rgb.shape[0] * k)))
    kx, ky = size[0] / rgb.shape[1], size[1] / rgb.shape[0]
    small_rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    small_alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
    unscale = np.array([[1.0 / kx, 0.0, 0.0], [0.0, 1.0 / ky, 0.0]])
    return small_rgb, small_alpha, compose(m, unscale)


def blend_into(dst: np.ndarray, src: np.ndarray, alpha: np.ndarray) -> None:
    """dst = dst*(1-a) + src*a, in place, uint8 in and out (one fused OpenCV pass)."""
    a = np.ascontiguousarray(np.clip(alpha, 0.0, 1.0), dtype=np.float32)
    dst[...] = cv2.blendLinear(np.ascontiguousarray(src), np.ascontiguousarray(dst), a, 1.0 - a)


def darken_into(dst: np.ndarray, shade: np.ndarray) -> None:
    """Multiply ``dst`` by (1 - shade), shade in [0, 1]: shadows darken, they never paint grey."""
    keep = np.ascontiguousarray(1.0 - np.clip(shade, 0.0, 1.0), dtype=np.float32)
    dst[...] = cv2.blendLinear(np.ascontiguousarray(dst), np.zeros_like(dst), keep, 1.0 - keep)


@lru_cache(maxsize=64)
def _shadow_sprite(width: int) -> tuple[np.ndarray, float, float]:
    """The shade of a contact shadow under an object ``width`` px wide, and the sprite pixel that
    sits under the object's base centre. Cached: objects keep their size for many frames."""
    rx = max(2.0, 0.55 * width)
    ry = max(1.5, 0.09 * width)
    pad = rx * 0.6 + 4
    ox, oy = rx + pad, ry + pad
    yy, xx = np.mgrid[0 : int(2 * oy) + 1, 0 : int(2 * ox) + 1].astype(np.float32)
    # Elliptical distance; the shadow falls a little below the base line, as from overhead light.
    d2 = ((xx - ox) / rx) ** 2 + ((yy - oy - 0.25 * ry) / ry) ** 2
    shade = np.exp(-d2 * 1.6) * 0.6 + np.exp(-d2 * 9.0) * 0.5
    return shade.astype(np.float32), ox, oy


def contact_shadow(frame: np.ndarray, cx: float, base_y: float, width: float, strength: float = 0.5) -> None:
    """A soft elliptical shadow under an object standing at (cx, base_y): a wide penumbra plus a
    tight dark core where the object meets the ground. Darkens ``frame`` in place."""
    key = max(4, round(width / 8.0) * 8)  # sprite sizes in 8 px steps, scaled the rest
    sprite, ox, oy = _shadow_sprite(key)
    s = width / key
    box = _destination_box(
        frame.shape, sprite.shape[0], sprite.shape[1], similarity(s, 0.0, cx - s * ox, base_y - s * oy)
    )
    if box is None:
        return
    x0, y0, x1, y1, local = box
    shade = cv2.warpAffine(
        sprite, local, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )
    darken_into(frame[y0:y1, x0:x1], shade * strength)


def _lab(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def _rgb(lab: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_Lab2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def match_colour(
    rgb: np.ndarray,
    weight: np.ndarray,
    reference: np.ndarray,
    strength: float = 0.5,
) -> np.ndarray:
    """Move ``rgb``'s Lab mean/std (over pixels weighted by ``weight``) part of the way towards the
    ``reference`` pixels' statistics. Partial on purpose: a full transfer would repaint a red object
    green on grass; half of it gives the object the scene's light and white balance."""
    if strength <= 0.0:
        return rgb
    lab = _lab(rgb)
    w = weight.astype(np.float32).reshape(-1)
    if w.sum() < 1.0:
        return rgb
    flat = lab.reshape(-1, 3)
    mean = (flat * w[:, None]).sum(0) / w.sum()
    std = np.sqrt(((flat - mean) ** 2 * w[:, None]).sum(0) / w.sum()) + 1e-3
    ref = _lab(reference.reshape(-1, 1, 3)).reshape(-1, 3)
    ref_mean, ref_std = ref.mean(0), ref.std(0) + 1e-3
    # Lightness follows the scene more than hue does: an object keeps its own colour.
    strengths = np.array([strength, 0.6 * strength, 0.6 * strength], np.float32)
    target_mean = mean + (ref_mean - mean) * strengths
    # Contrast is matched more gently than the mean, and never inverted or blown up.
    ratio = np.clip((ref_std / std) ** (strength * 0.6), 0.75, 1.33)
    out = (lab - mean) * ratio + target_mean
    out[..., 0] = np.clip(out[..., 0], 0, 100)
    return _rgb(out)


def cover_fit(
    image: np.ndarray, width: int, height: int, focus: tuple[float, float] = (0.5, 0.5)
) -> tuple[np.ndarray, Affine]:
    """Scale ``image`` to cover width x height and crop it (no bars, no distortion), keeping the
    ``focus`` point (fractions of the image) as central as the crop allows. Also returns the
    image-pixel -> result-pixel affine."""
    h, w = image.shape[:2]
    scale = max(width / w, height / h)
    nw, nh = max(width, round(w * scale)), max(height, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    resized = cv2.resize(image, (nw, nh), interpolation=interp)
    x0 = int(np.clip(round(focus[0] * nw - width / 2), 0, nw - width))
    y0 = int(np.clip(round(focus[1] * nh - height / 2), 0, nh - height))
    fit = np.array([[nw / w, 0.0, -x0], [0.0, nh / h, -y0]], dtype=np.float64)
    return np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width]), fit


def border_uniformity(image: np.ndarray) -> float:
    """Mean Lab standard deviation of the image's outer band: low for a product shot on a plain
    backdrop, high for a photo of a scene."""
    small = _downscale(image, 160)
    h, w = small.shape[:2]
    band = max(2, min(h, w) // 16)
    lab = _lab(small)
    ring = np.concatenate(
        [
            lab[:band].reshape(-1, 3),
            lab[-band:].reshape(-1, 3),
            lab[:, :band].reshape(-1, 3),
            lab[:, -band:].reshape(-1, 3),
        ]
    )
    return float(ring.std(0).mean())


def _downscale(image: np.ndarray, max_side: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale >= 1.0:
        return image
    return cv2.resize(
        image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill enclosed background pockets of a binary mask (boolean result)."""
    h, w = mask.shape
    padded = np.zeros((h + 2, w + 2), np.uint8)
    padded[1:-1, 1:-1] = (mask > 0).astype(np.uint8)
    flood = padded.copy()
    cv2.floodFill(flood, np.zeros((h + 4, w + 4), np.uint8), (0, 0), 1)
    holes = flood == 0
    return np.asarray(((padded > 0) | holes)[1:-1, 1:-1], dtype=bool)
