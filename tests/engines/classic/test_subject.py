"""Subject matting and clean plates on real photos from scikit-image."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from openpika.engines.classic import subject as subject_module
from openpika.engines.classic.plate import clean_plate
from openpika.engines.classic.subject import Box, estimated_eyes, find_subject


def _small(image: np.ndarray, short: int = 300) -> np.ndarray:
    scale = short / min(image.shape[:2])
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return _small(data.astronaut())


def test_person_face_eyes_and_matte(astronaut: np.ndarray) -> None:
    subject = find_subject(astronaut, seed=0)
    assert subject.face_kind == "human"
    face = subject.faces[0]
    # The astronaut's face is in the upper middle of the photo.
    assert 0.3 * 300 < face.center[0] < 0.6 * 300 and face.center[1] < 0.4 * 300
    assert all(face.x <= e.center[0] <= face.x + face.w for e in subject.eyes)
    assert subject.alpha.dtype == np.float32 and subject.alpha.shape == astronaut.shape[:2]
    assert float(subject.alpha.min()) >= 0.0 and float(subject.alpha.max()) <= 1.0
    # Face and the orange suit are subject; the top corners (flag, wall) are not.
    cx, cy = (int(v) for v in face.center)
    assert subject.mask[cy, cx] and subject.mask[int(0.75 * 300), int(0.3 * 300)]
    assert not subject.mask[5, 5] and not subject.mask[5, 295]
    # Soft only at the edge: most pixels are decisively in or out.
    decisive = ((subject.alpha < 0.05) | (subject.alpha > 0.95)).mean()
    assert decisive > 0.9


def test_object_without_face_is_found_near_its_colour() -> None:
    cup = _small(data.coffee())
    subject = find_subject(cup, seed=0)
    assert subject.face_kind == "none" and subject.faces == []
    h, w = cup.shape[:2]
    # The cup of coffee (centre-left) is the subject, the wooden table's corners are not.
    assert subject.mask[int(0.3 * h), int(0.35 * w)]
    assert not subject.mask[h - 3, w - 3] and not subject.mask[3, w - 3]
    assert 0.1 < subject.mask.mean() < 0.7


def test_deterministic_per_seed(astronaut: np.ndarray) -> None:
    a = find_subject(astronaut, seed=3)
    b = find_subject(astronaut, seed=3)
    assert np.array_equal(a.alpha, b.alpha) and a.bbox == b.bbox


def test_clean_plate_removes_subject_without_holes_or_halo(astronaut: np.ndarray) -> None:
    subject = find_subject(astronaut, seed=0)
    plate = clean_plate(astronaut, subject.mask)
    assert plate.shape == astronaut.shape and plate.dtype == np.uint8
    inside = subject.mask
    # The orange suit is gone: the fill takes the colours of the surroundings.
    suit = np.array([200, 90, 40], np.float32)
    orange_before = (np.linalg.norm(astronaut[inside].astype(np.float32) - suit, axis=1) < 60).mean()
    orange_after = (np.linalg.norm(plate[inside].astype(np.float32) - suit, axis=1) < 60).mean()
    assert orange_before > 0.2 and orange_after < orange_before / 3
    # No holes: nothing black or undefined where the subject was, unless the background is.
    assert plate[inside].max(axis=1).min() > 5 or astronaut[~inside].max(axis=1).min() <= 5
    # Far from the subject the plate is the photo itself.
    far = cv2.dilate(inside.astype(np.uint8), np.ones((31, 31), np.uint8)) == 0
    assert np.abs(plate[far].astype(int) - astronaut[far].astype(int)).max() == 0
    # Not a flat smear: the fill keeps some texture.
    assert float(cv2.Laplacian(cv2.cvtColor(plate, cv2.COLOR_RGB2GRAY), cv2.CV_32F)[inside].std()) > 0.5


def test_estimated_eyes_sit_in_upper_face() -> None:
    eyes = estimated_eyes(Box(100, 100, 100, 100))
    assert len(eyes) == 2
    assert eyes[0].center[0] < 150 < eyes[1].center[0]
    assert all(110 < e.center[1] < 150 for e in eyes)


def test_clean_plate_detail_depth_keeps_texture_only_near_the_border() -> None:
    # Grass is all texture: the fill continues it across a big hole, unless told to texture only a
    # band along the hole's border (the parallax tier never shows deeper).
    grass = cv2.resize(data.grass(), (400, 300), interpolation=cv2.INTER_AREA)
    image = cv2.cvtColor(grass, cv2.COLOR_GRAY2RGB)
    mask = np.zeros((300, 400), bool)
    mask[60:240, 80:320] = True

    def texture(plate: np.ndarray, rows: slice, cols: slice) -> float:
        gray = plate[rows, cols, 1].astype(np.float32)
        return float(np.abs(gray - cv2.GaussianBlur(gray, (0, 0), 2.0)).mean())

    full = clean_plate(image, mask, grow=0.0)
    banded = clean_plate(image, mask, grow=0.0, detail_depth=12.0)
    centre, band = (slice(130, 170), slice(180, 220)), (slice(60, 240), slice(82, 88))
    assert texture(full, *centre) > 2 * texture(banded, *centre)  # deep inside: smooth fill only
    assert texture(banded, *band) > 0.8 * texture(full, *band)  # along the border: the same texture
    outside = ~cv2.dilate(mask.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert np.array_equal(banded[outside], image[outside])  # untouched away from the hole


class _InlineExecutor:
    """A stand-in for ThreadPoolExecutor that runs each job at once on the calling thread."""

    def __init__(self, max_workers: int = 1) -> None:
        pass

    def __enter__(self) -> _InlineExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, fn, *args):  # type: ignore[no-untyped-def]
        from concurrent.futures import Future

        future: Future = Future()
        future.set_result(fn(*args))
        return future


@pytest.mark.parametrize("photo", ["coffee", "astronaut", "chelsea"])
def test_segmenting_beside_the_face_cascades_gives_the_sequential_matte(
    photo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GrabCut starts on a helper thread (guessing "no face") while the cascades run; its GMMs are
    # seeded from OpenCV's random generator, which must be per thread for this to be the same matte.
    image = _small(getattr(data, photo)())
    beside = find_subject(image, seed=4)
    monkeypatch.setattr(subject_module, "ThreadPoolExecutor", _InlineExecutor)
    alone = find_subject(image, seed=4)
    assert np.array_equal(beside.alpha, alone.alpha)
    assert (beside.bbox, beside.faces, beside.face_kind) == (alone.bbox, alone.faces, alone.face_kind)


def _cup_on_grass() -> tuple[np.ndarray, np.ndarray]:
    """A textured subject (the coffee photo inside an ellipse) on grass, and its true mask."""
    h, w = 400, 600
    grass = cv2.resize(data.grass(), (w, h), interpolation=cv2.INTER_AREA)
    background = np.dstack([grass * 0.5, grass * 0.8, grass * 0.4]).astype(np.uint8)
    truth = np.zeros((h, w), np.uint8)
    cv2.ellipse(truth, (280, 230), (110, 140), 15, 0, 360, 255, -1, cv2.LINE_AA)
    cup = cv2.resize(data.coffee(), (w, h), interpolation=cv2.INTER_AREA)
    a = truth[..., None] / 255.0
    return (cup * a + background * (1 - a)).round().astype(np.uint8), truth >= 128


def _grabcut_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[int, int], int, int]]:
    """The (label shape, iterations, mode) of every ``cv2.grabCut`` call from now on."""
    calls: list[tuple[tuple[int, int], int, int]] = []
    grabcut = cv2.grabCut

    def spy(image, mask, rect, bgd, fgd, iterations, mode):  # type: ignore[no-untyped-def]
        calls.append((mask.shape, iterations, mode))
        return grabcut(image, mask, rect, bgd, fgd, iterations, mode)

    monkeypatch.setattr(cv2, "grabCut", spy)
    return calls


def test_grabcut_starts_at_half_size_and_finds_the_true_outline(monkeypatch: pytest.MonkeyPatch) -> None:
    # GrabCut's first (slowest) iteration runs at half the analysis size and the last two at full
    # size from its labels: the matte must still be the subject's true outline.
    calls = _grabcut_calls(monkeypatch)
    image, truth = _cup_on_grass()
    mask = find_subject(image, seed=0).mask
    assert (mask & truth).sum() / (mask | truth).sum() > 0.97
    (coarse, c_iters, c_mode), (fine, f_iters, f_mode) = calls
    assert (c_iters, c_mode, f_iters, f_mode) == (1, cv2.GC_INIT_WITH_MASK, 2, cv2.GC_EVAL)
    assert max(fine) == subject_module.ANALYSIS_LONG_SIDE and coarse == (fine[0] // 2, fine[1] // 2)

    # A photo smaller than that is segmented at its own size, all three iterations.
    calls.clear()
    small = cv2.resize(image, (240, 160), interpolation=cv2.INTER_AREA)
    find_subject(small, seed=0)
    assert calls == [((160, 240), 3, cv2.GC_INIT_WITH_MASK)]


def test_a_subject_lost_at_half_size_is_segmented_at_full_size(monkeypatch: pytest.MonkeyPatch) -> None:
    # On this stained-tissue photo the half-size first iteration keeps no subject pixel; the three
    # iterations then run at full size and give exactly the matte they always gave.
    image = np.ascontiguousarray(data.immunohistochemistry())
    calls = _grabcut_calls(monkeypatch)
    recovered = find_subject(image, seed=1)
    assert [(shape, iterations) for shape, iterations, _ in calls] == [((160, 160), 1), ((320, 320), 3)]
    monkeypatch.setattr(subject_module, "COARSE_FROM_LONG_SIDE", 10**6)
    full_size_only = find_subject(image, seed=1)
    assert np.array_equal(recovered.alpha, full_size_only.alpha) and 0.1 < recovered.mask.mean() < 0.7
