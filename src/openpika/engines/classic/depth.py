"""Depth without learned weights: a subject layer in front of a background plane.

A single photo gives no metric depth, but a few cues order the scene well enough for a camera
move to show convincing parallax:

* the **subject matte** (``subject.find_subject``: GrabCut seeded by saliency, centre and faces)
  separates the thing the photo is about from what lies behind it;
* **defocus**: a background much blurrier than the subject was far behind the focal plane, so it
  is pushed further back (more parallax between the two);
* **vertical position**: in most photos the bottom of the frame is ground near the camera and the
  top is far away, so the background is a plane tilted like a floor, nearer at the bottom; the
  tilt is weaker when a face says this is a portrait against a wall;
* **faces** (bundled Haar / LBP cascades, found by ``find_subject``) pin the subject's depth and
  give the point an orbit circles and a dolly zoom holds steady;
* **ground contact**: a subject whose base sits inside the frame stands on that floor, so its
  depth is the floor's depth at its base (its feet do not slide over the ground).

Depths are in scene units: the nearest subject sits at ~1, the far background at 2.2 - 4.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .subject import Subject, find_subject

ANALYSIS_LONG_SIDE = 360
FAR_NEAR = 2.2  # background depth when it is as sharp as the subject
FAR_FAR = 4.5  # background depth when it is clearly out of focus
GROUND_NEAR = 1.25  # depth of the bottom row of a full-strength ground plane
# A matte is trusted as a layer only where its outline follows real colour edges: a cut through
# fur or sky would tear the picture apart once the layers move. (Lab units across the outline: the
# median step. Mattes that cut through a face's fur measure 30-35 on `chelsea`, real outlines 46 and
# up on scikit-image's photos; a 35.1 cut showed seams when orbiting, hence 40.)
MIN_OUTLINE_CONTRAST = 40.0
MIN_OUTLINE_SUPPORT = 0.85
MIN_SUBJECT_COVERAGE = 0.015
MAX_SUBJECT_COVERAGE = 0.75


@dataclass(frozen=True)
class DepthEstimate:
    """Layers and planes for one image, in that image's pixel grid."""

    subject: Subject | None  # None: no confident subject, the whole image is one tilted plane
    background_far: float  # depth at the top row of the background plane
    background_near: float  # depth at the bottom row
    subject_depth: float
    pivot_px: tuple[float, float]  # what orbits circle and dolly zooms hold (pixels)
    pivot_depth: float
    cues: dict[str, float]

    def background_normal(self, k_src: np.ndarray, height: int) -> np.ndarray:
        """``n`` with ``n . X = 1`` for the background: inverse depth linear in the image row."""
        f, cy = float(k_src[1, 1]), float(k_src[1, 2])
        y_top, y_bottom = (0.0 - cy) / f, (height - 1 - cy) / f
        q_top, q_bottom = 1.0 / self.background_far, 1.0 / self.background_near
        slope = (q_bottom - q_top) / (y_bottom - y_top)
        return np.array([0.0, slope, q_top - slope * y_top])

    def subject_normal(self) -> np.ndarray:
        return np.array([0.0, 0.0, 1.0 / self.subject_depth])

    def pivot(self, k_src: np.ndarray) -> tuple[float, float, float]:
        """The pivot in scene coordinates."""
        ray = np.linalg.inv(k_src) @ np.array([self.pivot_px[0], self.pivot_px[1], 1.0])
        x, y, z = ray / ray[2] * self.pivot_depth
        return float(x), float(y), float(z)


def _sharpness(gray: np.ndarray, mask: np.ndarray) -> float:
    """Mean absolute Laplacian relative to local contrast inside ``mask`` (defocus cue)."""
    if mask.sum() < 50:
        return 0.0
    lap = np.abs(cv2.Laplacian(gray, cv2.CV_32F, ksize=3))
    contrast = cv2.blur(np.abs(gray - cv2.blur(gray, (9, 9))), (9, 9)) + 2.0
    return float((lap / contrast)[mask].mean())


def _is_fallback(alpha: np.ndarray) -> bool:
    """``find_subject`` answers a centred ellipse when it finds nothing; that is no subject."""
    h, w = alpha.shape
    ellipse = np.zeros((h, w), np.uint8)
    cv2.ellipse(ellipse, (w // 2, int(h * 0.55)), (int(w * 0.28), int(h * 0.33)), 0, 0, 360, 1, -1)
    mask = alpha >= 0.5
    union = np.logical_or(mask, ellipse > 0).sum()
    return union > 0 and np.logical_and(mask, ellipse > 0).sum() / union > 0.9


def outline_contrast(small: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """(fraction of the outline with a colour step > 10 Lab, median step) across the matte's
    outline, from the mean colours of thin bands just inside and just outside it."""
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    m = mask.astype(np.uint8)
    band = np.ones((7, 7), np.uint8)
    ring_in = (m - cv2.erode(m, band)).astype(np.float32)
    ring_out = (cv2.dilate(m, band) - m).astype(np.float32)

    def side(ring: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        weight = cv2.blur(ring, (9, 9))
        return cv2.blur(lab * ring[..., None], (9, 9)) / np.maximum(weight, 1e-3)[..., None], weight

    colour_in, near_in = side(ring_in)
    colour_out, near_out = side(ring_out)
    outline = cv2.morphologyEx(m, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    outline[:3], outline[-3:], outline[:, :3], outline[:, -3:] = (
        False,
        False,
        False,
        False,
    )  # the photo's edge
    outline &= (near_in > 0.05) & (near_out > 0.05)
    if outline.sum() < 20:
        return 0.0, 0.0
    step = np.linalg.norm(colour_in - colour_out, axis=2)[outline]
    return float((step > 10).mean()), float(np.median(step))


def estimate_depth(image: np.ndarray, seed: int = 0, subject: Subject | None = None) -> DepthEstimate:
    """Depth layers for an RGB uint8 image (deterministic per image and seed); ``subject`` is
    ``find_subject(image, seed)`` when the caller has it already."""
    h, w = image.shape[:2]
    if subject is None:
        subject = find_subject(image, seed=seed)
    coverage = float(subject.mask.mean()) if subject is not None else 0.0
    if subject is not None and (
        not MIN_SUBJECT_COVERAGE <= coverage <= MAX_SUBJECT_COVERAGE or _is_fallback(subject.alpha)
    ):
        subject = None

    scale = min(1.0, ANALYSIS_LONG_SIDE / max(h, w))
    small = cv2.resize(
        image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    sh, sw = gray.shape
    support, contrast = 0.0, 0.0
    if subject is not None:
        small_mask = cv2.resize(subject.alpha, (sw, sh), interpolation=cv2.INTER_AREA) >= 0.5
        support, contrast = outline_contrast(small, small_mask)
        if support < MIN_OUTLINE_SUPPORT or contrast < MIN_OUTLINE_CONTRAST:
            subject = None
    if subject is None:
        small_mask = np.zeros((sh, sw), bool)
    ring = cv2.dilate(small_mask.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    background = ~ring
    # Defocus: a blurry background was far behind the plane of focus.
    sharp_subject = _sharpness(gray, small_mask)
    sharp_background = _sharpness(gray, background)
    defocus = sharp_subject / sharp_background if subject is not None and sharp_background > 0 else 1.0
    far = FAR_NEAR + (FAR_FAR - FAR_NEAR) * float(np.clip((defocus - 1.0) / 2.0, 0.0, 1.0))
    # Vertical position: the floor nearer at the bottom, unless this is a portrait against a wall.
    rows = np.arange(sh)[:, None]
    top_sharp = _sharpness(gray, background & (rows < sh / 3))
    bottom_sharp = _sharpness(gray, background & (rows > 2 * sh / 3))
    texture_gradient = (
        float(np.log((bottom_sharp + 1e-3) / (top_sharp + 1e-3))) if top_sharp and bottom_sharp else 0.0
    )
    ground = 0.55 + 0.3 * float(np.clip(texture_gradient, -1.0, 1.0))
    if subject is not None and subject.faces:
        ground *= 0.4
    ground = float(np.clip(ground, 0.0, 1.0))
    q_far = 1.0 / far
    near = 1.0 / (q_far + ground * (1.0 / GROUND_NEAR - q_far))

    subject_depth = 1.0
    if subject is not None:
        base_row = (subject.bbox.y + subject.bbox.h) / h
        if base_row < 0.93 and not subject.faces:
            # It stands on the floor: its depth is the floor's depth where it touches it.
            floor_q = q_far + (1.0 / near - q_far) * base_row
            subject_depth = float(np.clip(1.0 / floor_q, 1.0, 0.6 * far))
        pivot_px = subject.faces[0].center if subject.faces else subject.centroid
        pivot_depth = subject_depth
    else:
        pivot_px = (w / 2.0, h / 2.0)
        pivot_depth = 1.0 / (q_far + (1.0 / near - q_far) * 0.5)

    cues = {
        "coverage": round(coverage, 3),
        "outline_support": round(support, 2),
        "outline_contrast": round(contrast, 1),
        "defocus": round(defocus, 2),
        "texture_gradient": round(texture_gradient, 2),
        "ground": round(ground, 2),
        "faces": float(len(subject.faces)) if subject is not None else 0.0,
    }
    return DepthEstimate(
        subject, far, near, subject_depth, (float(pivot_px[0]), float(pivot_px[1])), pivot_depth, cues
    )
