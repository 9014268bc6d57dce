"""The main subject of a photo and the background behind it, without learned weights.

Public API (stable; image-to-video parallax and pikaffects both use it)::

    subject = find_subject(image, seed=0)      # image: RGB uint8 HxWx3
    subject.alpha   # float32 HxW in [0, 1], soft matte (edge-aware, follows hair/fur edges)
    subject.mask    # bool HxW, alpha >= 0.5
    subject.bbox    # Box(x, y, w, h) of the mask, in image pixels
    subject.faces   # list[Box]: faces found by cascades (people first, then cats)
    subject.eyes    # list[Box]: eyes found inside those faces (may be empty)
    subject.face_kind  # "human" | "cat" | "none"

The clean plate behind the subject is ``plate.clean_plate(image, subject.mask)``.

How: everything is analysed at reduced resolution (long side 320) for speed. A prior says where the
subject probably is: colour distinctiveness against the image border (the border is usually
background) times a centre prior, plus detected faces (and the body below a face). GrabCut, seeded
from that prior, finds the hard segmentation (its first iteration at half size: ``_grabcut``); the
largest plausible component is kept and its holes filled. The matte is brought back to full
resolution with a fast guided filter whose guide is the full-resolution image, so the edge follows
real image edges instead of a blocky upsampled mask.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

import cv2
import numpy as np

from .opencv_threads import single_threaded_opencv

ANALYSIS_LONG_SIDE = 320
# GrabCut's first iteration runs at half size only for analysis images this large (the photo's own
# size when smaller than ANALYSIS_LONG_SIDE): at half of a smaller one, subjects can shrink away.
COARSE_FROM_LONG_SIDE = 288
FaceKind = Literal["human", "cat", "none"]


class Box(NamedTuple):
    x: int
    y: int
    w: int
    h: int

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2.0, self.y + self.h / 2.0)

    def scaled(self, factor: float) -> Box:
        return Box(*(round(v * factor) for v in self))


@dataclass
class Subject:
    alpha: np.ndarray  # float32 HxW in [0, 1]
    bbox: Box
    faces: list[Box] = field(default_factory=list)
    eyes: list[Box] = field(default_factory=list)
    face_kind: FaceKind = "none"

    @property
    def mask(self) -> np.ndarray:
        return self.alpha >= 0.5

    @property
    def centroid(self) -> tuple[float, float]:
        """Alpha-weighted centre of mass (x, y) in image pixels."""
        total = float(self.alpha.sum()) or 1.0
        ys, xs = np.indices(self.alpha.shape, dtype=np.float32)
        return float((xs * self.alpha).sum() / total), float((ys * self.alpha).sum() / total)


# ----------------------------------------------------------------------------- cascades

_CASCADES: dict[str, cv2.CascadeClassifier] = {}


def _cascade(name: str) -> cv2.CascadeClassifier | None:
    """OpenCV 4.x wheels ship Haar cascades; scikit-image ships an LBP face cascade as a fallback."""
    if name in _CASCADES:
        return _CASCADES[name]
    candidates: list[Path] = []
    haar_dir = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if haar_dir:
        candidates.append(Path(haar_dir) / name)
    if name == "haarcascade_frontalface_default.xml":
        import skimage

        candidates.append(Path(skimage.__file__).parent / "data" / "lbpcascade_frontalface_opencv.xml")
    for path in candidates:
        if path.exists():
            classifier = cv2.CascadeClassifier(str(path))
            if not classifier.empty():
                _CASCADES[name] = classifier
                return classifier
    return None


def _detect(name: str, gray: np.ndarray, min_size: int, neighbours: int = 5) -> list[Box]:
    classifier = _cascade(name)
    if classifier is None or min(gray.shape) < min_size:
        return []
    found = classifier.detectMultiScale(
        gray, scaleFactor=1.1, minNeighbors=neighbours, minSize=(min_size, min_size)
    )
    boxes = [Box(int(x), int(y), int(w), int(h)) for (x, y, w, h) in (found if len(found) else [])]
    return sorted(boxes, key=lambda b: -b.w * b.h)


def detect_faces(gray: np.ndarray) -> tuple[list[Box], list[Box], FaceKind]:
    """Faces and eyes in a grayscale image (analysis scale). People first, then cats."""
    min_face = max(24, min(gray.shape) // 10)
    eq = cv2.equalizeHist(gray)
    faces = _detect("haarcascade_frontalface_default.xml", eq, min_face, 6)
    kind: FaceKind = "human"
    if not faces:
        faces = _detect("haarcascade_frontalcatface_extended.xml", eq, min_face, 4)
        kind = "cat"
    if not faces:
        return [], [], "none"
    scored: list[tuple[Box, list[Box]]] = []
    for face in faces[:4]:
        # Eyes live in the upper part of a face; searching only there avoids nostrils and mouths.
        top = eq[face.y : face.y + int(face.h * 0.6), face.x : face.x + face.w]
        found = _detect("haarcascade_eye.xml", top, max(8, face.w // 8), 4) if kind == "human" else []
        found = [b for b in found if b.w < face.w * 0.45][:2]
        scored.append((face, [Box(face.x + b.x, face.y + b.y, b.w, b.h) for b in found]))
    # A face whose eyes are found is far more likely real than a bigger face without any.
    if any(found for _, found in scored):
        scored = [item for item in scored if item[1]]
    elif kind == "human":
        # A "face" in which no eye can be found is far more often a false alarm (fur, fabric)
        # than a real face: trusting it would put eyes and heads in the wrong place.
        return [], [], "none"
    scored = scored[:2]
    return [f for f, _ in scored], [e for _, found in scored for e in found], kind


def estimated_eyes(face: Box) -> list[Box]:
    """Where eyes sit in a frontal face box when the eye cascade finds none (usual proportions)."""
    size = max(4, int(face.w * 0.22))
    cy = face.y + face.h * 0.40
    return [Box(int(face.x + face.w * fx - size / 2), int(cy - size / 2), size, size) for fx in (0.31, 0.69)]


# ----------------------------------------------------------------------------- segmentation


def _saliency_prior(small: np.ndarray, seed: int) -> np.ndarray:
    """Colour distance to the border's colours (k-means of the border), times a centre prior."""
    h, w = small.shape[:2]
    lab: np.ndarray = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab = cv2.GaussianBlur(lab, (0, 0), 2.0)
    band = max(2, min(h, w) // 24)
    border = np.concatenate(
        [
            lab[:band].reshape(-1, 3),
            lab[-band:].reshape(-1, 3),
            lab[:, :band].reshape(-1, 3),
            lab[:, -band:].reshape(-1, 3),
        ]
    )
    k = 6
    cv2.setRNGSeed(seed % 2**31)  # a C int; k-means++ draws from OpenCV's RNG
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 15, 1.0)
    _, _, centres = cv2.kmeans(border, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)  # type: ignore[call-overload]
    # Distance to the nearest border colour: squared distances per channel plane (the same float32
    # sums as a norm over the colour axis, without its strided reduction), one square root.
    planes = cv2.split(lab)
    nearest = np.full((h, w), np.inf, np.float32)
    for c in centres:
        total = np.square(planes[0] - c[0])
        total += np.square(planes[1] - c[1])
        total += np.square(planes[2] - c[2])
        np.minimum(nearest, total, out=nearest)
    dist = np.sqrt(nearest)
    dist /= max(1e-6, float(np.percentile(dist, 99)))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    centre = np.exp(-(((xs - w / 2) / (0.42 * w)) ** 2 + ((ys - h * 0.55) / (0.5 * h)) ** 2))
    prior = np.clip(dist, 0, 1) * (0.35 + 0.65 * centre)
    return cv2.GaussianBlur(prior, (0, 0), 3.0)


def _segment(small: np.ndarray, faces: list[Box], seed: int) -> np.ndarray:
    h, w = small.shape[:2]
    prior = _saliency_prior(small, seed)
    hi, lo = np.percentile(prior, [80, 45])
    gc = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    gc[prior >= lo] = cv2.GC_PR_FGD if prior.mean() < 0.5 else cv2.GC_PR_BGD
    gc[prior >= hi] = cv2.GC_PR_FGD
    for face in faces:
        # A face is certainly subject; the body under it probably is.
        body = (face.x - face.w // 2, face.y + face.h, face.x + face.w + face.w // 2, h)
        gc[max(0, body[1]) : body[3], max(0, body[0]) : body[2]][
            gc[max(0, body[1]) : body[3], max(0, body[0]) : body[2]] == cv2.GC_PR_BGD
        ] = cv2.GC_PR_FGD
        # A person is rarely wider than ~4 face widths or taller above the head than half a face.
        gc[:, : max(0, int(face.x - 1.5 * face.w))] = cv2.GC_BGD
        gc[:, int(face.x + 2.5 * face.w) :] = cv2.GC_BGD
        gc[: max(0, int(face.y - 0.5 * face.h))] = cv2.GC_BGD
        cx, cy = face.center
        cv2.ellipse(
            gc,
            (int(cx), int(cy)),
            (max(1, face.w * 3 // 8), max(1, face.h * 3 // 8)),
            0,
            0,
            360,
            cv2.GC_FGD,
            -1,
        )
        # The neck joins head and body (dark collars would otherwise cut the person in two).
        neck_x0, neck_x1 = int(face.x + 0.3 * face.w), int(face.x + 0.7 * face.w)
        gc[int(cy) : min(h, int(face.y + 1.6 * face.h)), max(0, neck_x0) : neck_x1] = cv2.GC_FGD
        # Collar and shoulders just under the chin belong to the person too.
        collar = (int(cx), int(face.y + 1.4 * face.h))
        cv2.ellipse(
            gc, collar, (max(1, int(0.6 * face.w)), max(1, int(0.3 * face.h))), 0, 0, 360, cv2.GC_FGD, -1
        )
    band = max(2, min(h, w) // 40)
    gc[:band] = cv2.GC_BGD
    gc[:, :band] = cv2.GC_BGD
    gc[:, -band:] = cv2.GC_BGD
    if not faces:
        gc[-band:] = cv2.GC_BGD  # a person's body may run off the bottom; other subjects rarely do
    bgr = small[:, :, ::-1].copy()
    try:
        hard = _grabcut(bgr, gc, seed)
    except cv2.error:  # GrabCut refuses a mask without both subject and background samples
        hard = prior >= hi
    return _clean_mask(hard, faces)


def _grabcut(bgr: np.ndarray, gc: np.ndarray, seed: int) -> np.ndarray:
    """GrabCut's three iterations from the labels ``gc``: the first at half size where it can.

    The first iteration is the slow one (its colour models still separate subject and background
    poorly, so the max-flow searches long) and the later ones start from its labels: run at half
    size it costs a quarter, and the two at full size that follow re-learn the models and settle
    the edge at full resolution (``find_subject`` 1.2-3.2x faster on eight of ten bundled photos
    at 1920 px, level on the other two, where the fallback below runs). Only the first: GrabCut's smoothness term is not scale-free (boundaries shrink with
    the scale, areas with its square), and all iterations at half size let some subjects shrink
    away. Where even the one does (nothing left of the subject), the three run at full size.
    """
    if max(gc.shape) >= COARSE_FROM_LONG_SIDE:
        hard = _grabcut_from_half_size(bgr, gc, seed)
        if hard is not None:
            return hard
    bgd, fgd = _seeded_models(seed)
    cv2.grabCut(bgr, gc, (0, 0, 1, 1), bgd, fgd, 3, cv2.GC_INIT_WITH_MASK)
    return (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)


def _seeded_models(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Empty background and subject colour models for GrabCut, with OpenCV's RNG (which its GMM
    initialisation draws from; a C int seed) seeded so the matte is deterministic."""
    cv2.setRNGSeed(seed % 2**31)
    return np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)


def _grabcut_from_half_size(bgr: np.ndarray, gc: np.ndarray, seed: int) -> np.ndarray | None:
    """The first iteration on a half-size copy, two more at full size from its labels; None (and
    ``gc`` untouched) if the half-size one fails or keeps no subject pixel."""
    h, w = gc.shape
    size = (w // 2, h // 2)
    coarse = cv2.resize(gc, size, interpolation=cv2.INTER_NEAREST)
    bgd, fgd = _seeded_models(seed)
    try:
        small = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
        cv2.grabCut(small, coarse, (0, 0, 1, 1), bgd, fgd, 1, cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # the halved labels lost one side's samples
        return None
    subject = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_NEAREST) % 2 == 1  # (PR_)FGD
    free = (gc == cv2.GC_PR_BGD) | (gc == cv2.GC_PR_FGD)
    if not subject[free].any():
        return None
    gc[free] = np.where(subject[free], cv2.GC_PR_FGD, cv2.GC_PR_BGD)
    cv2.grabCut(bgr, gc, (0, 0, 1, 1), bgd, fgd, 2, cv2.GC_EVAL)
    return (gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)


def _clean_mask(hard: np.ndarray, faces: list[Box]) -> np.ndarray:
    """Keep the largest component (and any holding a face), fill holes, smooth the outline."""
    h, w = hard.shape
    m: np.ndarray = hard.astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    m = cv2.morphologyEx(m, cv2.MORPH_OPEN, kernel)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    if count <= 1:
        return _fallback_mask(h, w)
    keep = {1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))}
    for face in faces:
        cx, cy = face.center
        label = int(labels[min(h - 1, int(cy)), min(w - 1, int(cx))])
        if label:
            keep.add(label)
    m = np.isin(labels, list(keep)).astype(np.uint8)
    # Fill holes: flood the background from the border; what it cannot reach is inside the subject.
    flood = np.pad(1 - m, 1, constant_values=1)
    ff_mask = np.zeros((h + 4, w + 4), np.uint8)
    cv2.floodFill(flood, ff_mask, (0, 0), 2)
    m[flood[1:-1, 1:-1] == 1] = 1
    m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, kernel)
    area = m.mean()
    if area < 0.02 or area > 0.9:
        return _fallback_mask(h, w)
    return m.astype(bool)


def _fallback_mask(h: int, w: int) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    cv2.ellipse(m, (w // 2, int(h * 0.55)), (int(w * 0.28), int(h * 0.33)), 0, 0, 360, 1, -1)
    return m.astype(bool)


def _guided_upsample(
    alpha_small: np.ndarray, image: np.ndarray, radius: int = 3, eps: float = 2e-3
) -> np.ndarray:
    """Fast guided filter (He & Sun 2015): coefficients at low resolution, applied at full."""
    h, w = image.shape[:2]
    sh, sw = alpha_small.shape
    guide_full = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    guide_full /= 255.0
    guide = cv2.resize(guide_full, (sw, sh), interpolation=cv2.INTER_AREA)
    ksize = (2 * radius + 1, 2 * radius + 1)
    mean_i = cv2.blur(guide, ksize)
    mean_p = cv2.blur(alpha_small, ksize)
    cov_ip = cv2.blur(guide * alpha_small, ksize) - mean_i * mean_p
    var_i = cv2.blur(guide * guide, ksize) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    a = cv2.resize(cv2.blur(a, ksize), (w, h), interpolation=cv2.INTER_LINEAR)
    b = cv2.resize(cv2.blur(b, ksize), (w, h), interpolation=cv2.INTER_LINEAR)
    # In place from here: full-size temporaries cost more than the arithmetic.
    alpha: np.ndarray = a * guide_full
    alpha += b
    return np.clip(alpha, 0.0, 1.0, out=alpha)


def find_subject(image: np.ndarray, seed: int = 0) -> Subject:
    """Find the main subject of an RGB uint8 image. Deterministic for a given image and seed."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 image, got {image.shape} {image.dtype}")
    h, w = image.shape[:2]
    scale = min(1.0, ANALYSIS_LONG_SIDE / max(h, w))
    small = cv2.resize(
        image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    # GrabCut (one core, the longest step) starts at once on the guess that the photo shows no
    # face, while the face cascades run beside it on the other core; a face found means segmenting
    # again with it. (OpenCV's random generator, which seeds GrabCut, is per thread: the guess is
    # the mask a sequential run gives. OpenCV's own threads would only fight over the two cores.)
    with single_threaded_opencv(), ThreadPoolExecutor(max_workers=1) as pool:
        guess = pool.submit(_segment, small, [], seed)
        faces_s, eyes_s, kind = detect_faces(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
        hard = _segment(small, faces_s, seed) if faces_s else guess.result()
    soft = cv2.GaussianBlur(hard.astype(np.float32), (0, 0), 0.8)
    alpha = _guided_upsample(soft, image) if scale < 1.0 else soft
    # Sharpen the guided result's ramp a little so the matte is soft only across a few pixels
    # (in place: ``alpha`` is a float32 array of this function's own).
    alpha -= 0.5
    alpha *= 1.6
    alpha += 0.5
    np.clip(alpha, 0.0, 1.0, out=alpha)
    bbox = Box(*cv2.boundingRect((alpha >= 0.5).view(np.uint8)))
    if bbox.w == 0:
        alpha = cv2.resize(_fallback_mask(*small.shape[:2]).astype(np.float32), (w, h))
        bbox = Box(*cv2.boundingRect((alpha >= 0.5).view(np.uint8)))
    inv = 1.0 / scale
    return Subject(
        alpha=alpha,
        bbox=bbox,
        faces=[f.scaled(inv) for f in faces_s],
        eyes=[e.scaled(inv) for e in eyes_s],
        face_kind=kind,
    )
