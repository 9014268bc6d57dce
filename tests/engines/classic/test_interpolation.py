"""The interpolation package: the relatedness test picks the fallback for unrelated keyframes only,
prompts choose transitions, flow survives large and photometric change, timing curves behave."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from openpika.engines.base import RunContext
from openpika.engines.classic.interpolation import PairInterpolator, bidirectional_flow
from openpika.engines.classic.interpolation.fields import hypothesis_spread
from openpika.engines.classic.interpolation.relatedness import assess
from openpika.engines.classic.interpolation.timing import time_curves
from openpika.engines.classic.interpolation.transitions import DesignedTransition, transition_from_prompt
from openpika.engines.classic.keyframes import plan_transition, render_keyframes
from openpika.engines.tasks import KeyframesTask, OutputSpec, Transition

SIZE = (320, 180)


def _fit(image: np.ndarray) -> np.ndarray:
    return cv2.resize(image, SIZE, interpolation=cv2.INTER_AREA)


def _crop(image: np.ndarray, x: int, y: int, w: int, h: int) -> np.ndarray:
    return _fit(image[y : y + h, x : x + w])


def _related_pairs() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    astronaut = cv2.resize(data.astronaut(), (640, 640))
    coffee = data.coffee()
    a = _crop(astronaut, 40, 100, 480, 270)
    brighter = np.clip(_crop(astronaut, 70, 110, 480, 270).astype(np.float32) * 1.3 + 10, 0, 255).astype(
        np.uint8
    )
    return {
        "pan": (a, _crop(astronaut, 100, 130, 480, 270)),
        "zoom": (a, _crop(astronaut, 100, 134, 360, 203)),
        "relit": (a, brighter),
        "coffee-pan": (_crop(coffee, 0, 0, 480, 270), _crop(coffee, 90, 60, 480, 270)),
    }


def _unrelated_pairs() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {
        "astronaut-coffee": (_fit(data.astronaut()), _fit(data.coffee())),
        "rocket-chelsea": (_fit(data.rocket()), _fit(data.chelsea())),
        "motorcycle-astronaut": (_fit(data.stereo_motorcycle()[0]), _fit(data.astronaut())),
    }


@pytest.mark.parametrize("name", list(_related_pairs()))
def test_related_keyframes_morph(name: str) -> None:
    a, b = _related_pairs()[name]
    plan = plan_transition(a, b, None, seed=0, num_frames=24)
    assert plan.relatedness.related, plan.relatedness
    assert plan.kind == "morph"


@pytest.mark.parametrize("name", list(_unrelated_pairs()))
def test_unrelated_keyframes_get_a_designed_transition(name: str) -> None:
    a, b = _unrelated_pairs()[name]
    plan = plan_transition(a, b, None, seed=0, num_frames=24)
    assert not plan.relatedness.related, plan.relatedness
    assert plan.kind in {"dissolve", "whip_pan", "zoom_through", "slide", "fade_black"}


def test_relatedness_statistics_separate_the_two_kinds() -> None:
    related = [
        assess(f.gray_a, f.gray_b, f) for f in (bidirectional_flow(*p) for p in _related_pairs().values())
    ]
    unrelated = [
        assess(f.gray_a, f.gray_b, f) for f in (bidirectional_flow(*p) for p in _unrelated_pairs().values())
    ]
    assert min(r.inliers for r in related) > 3 * max(u.inliers for u in unrelated)


@pytest.mark.parametrize(
    ("prompt", "kind"),
    [
        ("a slow dissolve into the night", "dissolve"),
        ("Fade through black to the next shot", "fade_black"),
        ("whip pan to the city", "whip_pan"),
        ("the camera zooms through the window", "zoom_through"),
        ("slide to the next scene", "slide"),
        ("the cat morphs into a dog", "morph"),
        ("a cat sitting on a sofa", None),
        (None, None),
    ],
)
def test_prompt_chooses_the_transition(prompt: str | None, kind: str | None) -> None:
    assert transition_from_prompt(prompt) == kind


def test_prompt_overrides_the_automatic_choice() -> None:
    a, b = _related_pairs()["pan"]
    assert plan_transition(a, b, "dissolve", seed=0, num_frames=24).kind == "dissolve"
    c, d = _unrelated_pairs()["astronaut-coffee"]
    assert plan_transition(c, d, "morph between them", seed=0, num_frames=24).kind == "morph"


@pytest.mark.parametrize("kind", ["dissolve", "whip_pan", "zoom_through", "slide", "fade_black"])
def test_designed_transitions_start_and_end_on_the_keyframes(kind: str) -> None:
    a, b = _unrelated_pairs()["astronaut-coffee"]
    transition = DesignedTransition(a, b, kind, seed=1, num_frames=24)
    assert np.array_equal(transition.frame_at(0.0), a) and np.array_equal(transition.frame_at(1.0), b)
    middle = transition.frame_at(0.5)
    assert middle.shape == a.shape and middle.dtype == np.uint8
    assert not np.array_equal(middle, a) and not np.array_equal(middle, b)
    if kind == "fade_black":
        assert middle.max() < 10


def test_flow_handles_large_displacement_through_global_alignment() -> None:
    """A 60 px pan at 320 px wide (a fifth of the frame) is recovered to within a pixel."""
    wide = cv2.resize(data.astronaut(), (800, 800))
    a, b = _crop(wide, 0, 200, 600, 338), _crop(wide, 112, 200, 600, 338)
    flow = bidirectional_flow(a, b)
    scale = SIZE[0] / flow.size[0]
    inner = flow.forward[20:-20, 20:-100] * scale
    expected_dx = -112 * SIZE[0] / 600
    assert abs(float(np.median(inner[..., 0])) - expected_dx) < 1.0
    assert abs(float(np.median(inner[..., 1]))) < 1.0


def test_interpolated_middle_matches_the_true_middle_under_exposure_change() -> None:
    astronaut = cv2.resize(data.astronaut(), (640, 640))
    a = _crop(astronaut, 40, 100, 480, 270)
    b = np.clip(_crop(astronaut, 100, 130, 480, 270).astype(np.float32) * 1.3, 0, 255).astype(np.uint8)
    truth = np.clip(_crop(astronaut, 70, 115, 480, 270).astype(np.float32) * 1.15, 0, 255)
    middle = PairInterpolator(a, b).frame_at(0.5).astype(np.float32)
    inner = (slice(20, -20), slice(30, -30))
    assert float(np.abs(middle - truth)[inner].mean()) < 8.0


def test_time_curves_ease_at_the_ends_and_match_speed_at_interior_keyframes() -> None:
    slow, fast = 1.0, 3.0
    first, second = time_curves([slow, fast])
    du = 1e-4
    # Eased start and end of the whole video.
    assert first(du) / du < 0.01 and (1 - second(1 - du)) / du < 0.01
    # On-screen speed (slope x transition speed) is the same on both sides of the keyframe.
    left = (first(1.0) - first(1 - du)) / du * slow
    right = (second(du) - second(0.0)) / du * fast
    assert left == pytest.approx(right, rel=1e-2)
    # Monotone everywhere.
    us = np.linspace(0, 1, 200)
    assert all(np.diff([first(u) for u in us]) >= 0) and all(np.diff([second(u) for u in us]) >= 0)


def test_unrelated_set_is_rendered_with_a_designed_transition() -> None:
    a, b = _unrelated_pairs()["rocket-chelsea"]
    logs: list[str] = []
    task = KeyframesTask([a, b], [Transition(24, None)], "", 1, OutputSpec(SIZE[0], SIZE[1], 24, 25))
    frames = list(render_keyframes(task, RunContext(on_log=lambda m, level: logs.append(m))).frames)
    assert len(frames) == 25 and "unrelated" in logs[0] and "morph" not in logs[0]


def test_per_pixel_flow_choice_keeps_the_candidate_whose_samples_agree() -> None:
    # B is A shifted 6 px right. The true offsets to time 0.5 are -3 px (to A) and +3 px (to B);
    # a wrong candidate (no motion) is right nowhere on the textured image, and must lose there.
    astronaut = _fit(data.astronaut())
    image_b = np.roll(astronaut, 6, axis=1)
    interpolator = PairInterpolator(astronaut, image_b)
    h, w = interpolator.flow.forward.shape[:2]
    scale = w / SIZE[0]
    truth_a = np.zeros((h, w, 2), np.float32)
    truth_a[..., 0] = -3 * scale
    truth_b = -truth_a
    still = np.zeros((h, w, 2), np.float32)
    for candidates in ([(still, still), (truth_a, truth_b)], [(truth_a, truth_b), (still, still)]):
        to_a, to_b = interpolator._select(candidates)[:2]
        inner = (slice(10, -10), slice(10, -10))
        chose_truth = np.isclose(to_a[inner][..., 0], truth_a[inner][..., 0]) & np.isclose(
            to_b[inner][..., 0], truth_b[inner][..., 0]
        )
        share_true = float(np.mean(chose_truth))
        assert share_true > 0.9, share_true


def test_a_camera_zoom_between_keyframes_does_not_tear() -> None:
    # A 1.3x zoom: the true middle frame is the 1.15x view. Under a zoom the shortcut and the
    # projection are off by up to ~15 px at the frame's edge; chosen patch by patch (the per-pixel
    # choice) they tore the frame (24.6 dB here). The choice is skipped for such a camera move.
    photo = cv2.resize(data.astronaut(), (1024, 1024), interpolation=cv2.INTER_CUBIC)

    def view(zoom: float) -> np.ndarray:
        w, h = round(960 / zoom), round(540 / zoom)
        x, y = 512 - w // 2, 560 - h // 2
        return cv2.resize(photo[y : y + h, x : x + w], (640, 360), interpolation=cv2.INTER_AREA)

    interpolator = PairInterpolator(view(1.0), view(1.3))
    middle, truth = interpolator.frame_at(0.5), view(1.15)
    inner = (slice(30, -30), slice(50, -50))
    mse = float(np.mean((middle[inner].astype(np.float64) - truth[inner]) ** 2))
    assert 10 * np.log10(255**2 / mse) > 30.0


def _luma_samples(
    interpolator: PairInterpolator, to_a: np.ndarray, to_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The working-resolution luma of A and B sampled along a pair of offsets to time t."""
    flow = interpolator.flow
    return interpolator._sample(flow.gray_a, to_a), interpolator._sample(flow.gray_b, to_b)


def test_other_hypotheses_move_the_frame_only_where_they_differ_from_the_choice() -> None:
    def level(value: int) -> np.ndarray:
        return np.full((8, 8), value, np.uint8)

    share = np.full((8, 8), 0.5, np.float32)
    chosen = (level(10), level(20))
    # The same samples along every candidate: nothing to hedge.
    same = hypothesis_spread([chosen, chosen, chosen], chosen, share, 0.4)
    assert not same.any()
    # Candidates whose frames differ: the frame moves towards their mean (A 30, B 40 against the
    # chosen 10 and 20), by the given amount, in quarter levels.
    hypotheses = [chosen, (level(30), level(40)), (level(50), level(60))]
    spread = hypothesis_spread(hypotheses, chosen, share, 0.4)
    assert np.all(spread == round(4 * 0.4 * 20))
    # Where B carries the pixel alone, only B's samples count.
    hypotheses = [chosen, (level(10), level(50)), (level(10), level(50))]
    spread = hypothesis_spread(hypotheses, chosen, np.ones_like(share), 0.4)
    assert np.all(spread == round(4 * 0.4 * 20))


def test_a_blurred_frame_is_mixed_in_only_where_the_warped_keyframes_disagree() -> None:
    astronaut = _fit(data.astronaut())
    shifted = PairInterpolator(astronaut, np.roll(astronaut, 6, axis=1))
    # Both keyframes warped to the middle show the same thing away from the wrapped-around edge.
    to_a = np.zeros((*shifted.flow.forward.shape[:2], 2), np.float32)
    to_a[..., 0] = -3 * shifted.flow.size[0] / SIZE[0]
    share = np.full(to_a.shape[:2], 0.5, np.float32)
    amount = shifted._uncertainty(_luma_samples(shifted, to_a, -to_a), share)
    assert amount is None or float(amount[:, 30:-30].max()) < 0.05
    # Unrelated content under a forced morph: the samples disagree nearly everywhere.
    forced = PairInterpolator(astronaut, _fit(data.coffee()))
    still = np.zeros_like(to_a)
    amount = forced._uncertainty(_luma_samples(forced, still, still), share)
    assert amount is not None and float(np.mean(amount > 0.2)) > 0.5
    # A sample that carries a pixel alone (share 0 or 1) is never blurred.
    alone = forced._uncertainty(_luma_samples(forced, still, still), np.zeros_like(share))
    assert alone is None


def test_propagation_gives_a_smeared_motion_boundary_its_neighbours_motion() -> None:
    # A textured object (part of coffee) moves 12 px right over a still background (astronaut):
    # in the middle frame its left edge is at x = 66. Offsets to the middle smeared across that
    # edge over 16 px (as DIS smears them) are right for neither side there; one step of
    # propagation takes a neighbour's offsets where A and B sampled along them agree.
    background = _fit(data.astronaut())
    thing = _fit(data.coffee())[40:140, 100:200]
    image_a, image_b = background.copy(), background.copy()
    image_a[40:140, 60:160] = thing
    image_b[40:140, 72:172] = thing
    interpolator = PairInterpolator(image_a, image_b)
    h, w = interpolator.flow.forward.shape[:2]
    assert (w, h) == SIZE
    columns = np.arange(w, dtype=np.float32)
    truth = np.where(columns >= 66, -6.0, 0.0).astype(np.float32)  # offset to A, inside the object's rows
    to_a = np.zeros((h, w, 2), np.float32)
    to_a[40:140, :, 0] = -6.0 * np.clip((columns - 58) / 16, 0, 1)
    to_a[40:140, 166:, 0] = 0.0  # beyond the object's right edge: background
    to_a_after, to_b_after = interpolator._propagate(interpolator._select([(to_a, -to_a)]))[:2]
    band = (slice(50, 130), slice(68, 74))
    before = float(np.mean(np.abs(to_a[band][..., 0] - truth[band[1]])))
    after = float(np.mean(np.abs(to_a_after[band][..., 0] - truth[band[1]])))
    assert after < 0.5 * before, (before, after)
    assert np.array_equal(to_b_after, -to_a_after)  # pairs move together
    # Well inside the object the offsets are right already and stay as they are.
    inner = (slice(60, 120), slice(90, 140))
    assert np.array_equal(to_a_after[inner], to_a[inner])


def test_uneven_mixes_round_to_nearest_without_bias() -> None:
    from openpika.engines.classic.interpolation.fields import mix as _mix

    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)
    even = np.full((90, 160), 500.0, np.float32)  # weights out of 1000
    exact = (a.astype(np.float64) + b) / 2
    assert abs(float(np.mean(_mix(a, b, even) - exact))) < 0.02  # cv2.blendLinear alone: -0.25
    assert float(np.max(np.abs(_mix(a, b, even) - exact))) <= 0.5
    assert np.array_equal(_mix(a, b, np.zeros_like(even)), a)
    assert np.array_equal(_mix(a, b, np.full_like(even, 1000.0)), b)


def test_the_hedge_blurs_wider_where_the_two_samples_are_far_apart() -> None:
    # Fully hedged (blur amount 1) even mixes of two unrelated pictures: where A and B are sampled
    # 40 px apart (fast motion) the blurred copy is a wider Gaussian than where they coincide.
    interpolator = PairInterpolator(_fit(data.astronaut()), _fit(data.coffee()))
    h, w = interpolator.flow.forward.shape[:2]
    share = np.full((h, w), 0.5, np.float32)
    everywhere = np.ones((h, w), np.float32)
    still = np.zeros((h, w, 2), np.float32)
    apart = still.copy()
    apart[..., 0] = -20.0

    def detail(frame: np.ndarray) -> float:  # contrast left at the scale of a few pixels
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
        band = cv2.GaussianBlur(gray, (0, 0), 2.0) - cv2.GaussianBlur(gray, (0, 0), 8.0)
        return float(band[30:-30, 50:-50].var())

    slow = interpolator._blend(0.5, still, still, share, everywhere)
    fast = interpolator._blend(0.5, apart, -apart, share, everywhere)
    assert detail(fast) < 0.3 * detail(slow), (detail(fast), detail(slow))


def test_the_hedge_does_not_blur_wider_for_the_cameras_own_motion() -> None:
    # A camera pan of 40 px: A and B are sampled 40 px apart, but that is the camera's motion
    # (the homography), which the flow does not have to find; the blurred copy stays narrow.
    astronaut = _fit(data.astronaut())
    panned = PairInterpolator(astronaut, np.roll(astronaut, 40, axis=1))
    assert panned.flow.used_global
    h, w = panned.flow.forward.shape[:2]
    share = np.full((h, w), 0.5, np.float32)
    everywhere = np.ones((h, w), np.float32)
    apart = np.zeros((h, w, 2), np.float32)
    apart[..., 0] = -20.0

    def detail(frame: np.ndarray) -> float:
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
        band = cv2.GaussianBlur(gray, (0, 0), 2.0) - cv2.GaussianBlur(gray, (0, 0), 8.0)
        return float(band[30:-30, 60:-60].var())

    panned_detail = detail(panned._blend(0.5, apart, -apart, share, everywhere))
    still = PairInterpolator(astronaut, astronaut)
    still_detail = detail(still._blend(0.5, np.zeros_like(apart), np.zeros_like(apart), share, everywhere))
    assert panned_detail > 0.6 * still_detail, (panned_detail, still_detail)
