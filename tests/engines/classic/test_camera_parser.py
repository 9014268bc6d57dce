"""The camera-language parser on a table of realistic prompts.

Each row: prompt, negative prompt, and the expected segments as "kind+/kind-" tokens (segments
separated by " | ", concurrent moves by " & "), "static" for a locked-off shot, or "default" for a
prompt that names no move. Speeds, handheld and effects are checked where the row says so.
"""

from __future__ import annotations

import pytest

from openpika.engines.classic.camera import CameraPlan, parse_prompt
from openpika.engines.classic.camera.trajectory import Trajectory


def _shape(plan: CameraPlan) -> str:
    if plan.source == "default":
        return "default"
    if plan.is_static:
        return "static"
    return " | ".join(
        " & ".join(f"{m.kind}{'+' if m.direction > 0 else '-'}" for m in segment.moves)
        for segment in plan.segments
    )


TABLE: list[tuple[str, str, str]] = [
    # The seed example and plain single moves.
    ("Camera slow dolly out", "", "dolly-"),
    ("Slow dolly in towards the lighthouse", "", "dolly+"),
    ("The camera pushes in on her face as she smiles", "", "dolly+"),
    ("Pull back to reveal the whole valley", "", "dolly-"),
    ("Zoom in on the cat's eyes", "", "zoom+"),
    ("zooming out from the city skyline at night", "", "zoom-"),
    ("Camera pans left across the mountain range", "", "pan-"),
    ("slow pan to the right over the beach", "", "pan+"),
    ("Tilt up from the street to the top of the skyscraper", "", "tilt+"),
    ("The camera tilts down to the river below", "", "tilt-"),
    ("Truck left along the market stalls", "", "truck-"),
    ("tracking shot moving right past the parked cars", "", "truck+"),
    ("Crane up above the crowd", "", "pedestal+"),
    ("pedestal down to eye level with the child", "", "pedestal-"),
    ("The camera rises slowly above the forest canopy", "", "pedestal+"),
    ("Orbit around the statue to the left", "", "orbit-"),
    ("A slow arc shot around the dancer, moving right", "", "orbit+"),
    ("camera rolls clockwise", "", "roll+"),
    ("Dutch roll counterclockwise as the hero falls", "", "roll-"),
    ("Dolly zoom on the man standing in the hallway", "", "dolly_zoom+"),
    ("Vertigo effect, dolly out zoom in on the detective", "", "dolly_zoom-"),
    ("the camera glides forward through the corridor", "", "dolly+"),
    ("The camera moves left slowly", "", "truck-"),
    ("whip pan right to the door", "", "pan+"),
    ("crash zoom into the villain's face", "", "zoom+"),
    # Combinations and sequences.
    ("Slow dolly out while panning left", "", "dolly- & pan-"),
    ("zoom in, then pan right", "", "zoom+ | pan+"),
    ("Pan left, then tilt up to the sky, finally push in on the moon", "", "pan- | tilt+ | dolly+"),
    ("Crane down and dolly in toward the door", "", "pedestal- & dolly+"),
    ("truck right as the camera tilts up slightly", "", "truck+ & tilt+"),
    ("orbit left around the car followed by a slow zoom out", "", "orbit- | zoom-"),
    ("Dolly in while zooming out on the runner", "", "dolly_zoom+"),
    ("The camera slowly drifts right, then cranes up over the rooftops", "", "truck+ | pedestal+"),
    # Words that describe the subject, not the camera.
    ("She tilts her head and smiles at the sunset", "", "default"),
    ("The race car zooms past the crowd", "", "default"),
    ("Rolling hills under a golden sky", "", "default"),
    ("A dog runs across the field", "", "default"),
    ("A cat looks up at the camera and blinks", "", "default"),
    ("Aerial view of a city at night, slow flyover", "", "dolly+"),
    ("Cinematic drone shot over the snowy mountains", "", "dolly+"),
    ("Portrait of an old fisherman, cinematic lighting", "", "default"),
    ("", "", "default"),
    # Static and handheld.
    ("Static shot of a candle on a table", "", "static"),
    ("locked-off camera, waves crash on the rocks", "", "static"),
    ("The camera stays still while the leaves fall", "", "static"),
    ("Handheld shot walking through the busy market", "", "static"),
    # Negatives: in the prompt and in negative_prompt.
    ("No zoom, gentle pan left over the lake", "", "pan-"),
    ("slow zoom in while panning right", "zoom", "pan+"),
    ("Dolly in on the flowers", "camera movement", "static"),
    ("Pan right across the harbour", "blurry, low quality, pan", "default"),
]


@pytest.mark.parametrize(("prompt", "negative", "expected"), TABLE)
def test_parser_table(prompt: str, negative: str, expected: str) -> None:
    assert _shape(parse_prompt(prompt, negative, seed=3)) == expected


def test_table_is_large_enough() -> None:
    assert len(TABLE) >= 40


@pytest.mark.parametrize(
    ("prompt", "low", "high"),
    [
        ("Camera slow dolly out", 0.4, 0.6),
        ("very slow zoom in", 0.2, 0.45),
        ("gentle pan left", 0.4, 0.6),
        ("dolly in", 0.9, 1.1),
        ("fast dolly in", 1.5, 1.9),
        ("rapid zoom out", 1.7, 2.1),
        ("subtle push in", 0.3, 0.5),
    ],
)
def test_speed_words(prompt: str, low: float, high: float) -> None:
    (move,) = parse_prompt(prompt).moves
    assert low <= move.speed <= high


def test_speed_word_spans_the_clauses_it_governs() -> None:
    plan = parse_prompt("slow dolly out while panning left")
    assert [m.speed for m in plan.moves] == [0.5, 0.5]
    plan = parse_prompt("fast zoom in and a slow pan right")
    assert [m.speed for m in plan.moves] == [1.7, 0.5]


def test_easing_words() -> None:
    assert parse_prompt("dolly in at a constant speed").moves[0].easing == "linear"
    assert parse_prompt("zoom in, easing in").moves[0].easing == "ease_in"
    assert parse_prompt("dolly out that slows down and settles").moves[0].easing == "ease_out"
    assert parse_prompt("dolly in").moves[0].easing == "ease_in_out"


def test_handheld_and_its_negative() -> None:
    assert parse_prompt("handheld pan left").handheld > 0
    assert parse_prompt("handheld pan left", "camera shake").handheld == 0
    assert parse_prompt("subtle handheld shot").handheld < parse_prompt("very shaky handheld shot").handheld


def test_effects_only_where_asked() -> None:
    assert parse_prompt("snow falling on a quiet street").effects == {"snow"}
    assert parse_prompt("a snowy mountain at dawn").effects == frozenset()  # snow on the ground, not falling
    assert parse_prompt("rain pouring on the window, slow push in").effects == {"rain"}
    assert parse_prompt("dust motes in the sunbeam").effects == {"dust"}
    assert parse_prompt("glitter sparkles around the dress").effects == {"sparkles"}
    assert parse_prompt("candlelight flickering on her face").effects == {"flicker"}
    assert parse_prompt("snow falling", "snow").effects == frozenset()
    assert parse_prompt("glitter and dust in the air", "particles").effects == frozenset()


def test_default_move_depends_on_seed_and_respects_negatives() -> None:
    chosen = {parse_prompt("a red barn in a field", seed=s).describe() for s in range(8)}
    assert len(chosen) > 3
    for seed in range(8):
        plan = parse_prompt("a red barn in a field", "dolly, orbit", seed=seed)
        assert plan.source == "default"
        assert all(m.kind not in ("dolly", "orbit") for m in plan.moves)


def test_seed_example_moves_the_camera_back() -> None:
    plan = parse_prompt("Camera slow dolly out")
    trajectory = Trajectory(plan, 5.0)
    start, end = trajectory.pose(0.0), trajectory.pose(5.0)
    assert start.centre[2] == 0.0
    assert end.centre[2] < -0.05  # moved away from the scene
    assert end.focal == pytest.approx(1.0)  # a dolly, not a zoom


def test_sequence_segments_split_the_time() -> None:
    trajectory = Trajectory(parse_prompt("zoom in, then pan right"), 4.0)
    halfway, end = trajectory.pose(2.0), trajectory.pose(4.0)
    assert halfway.focal > 1.1 and abs(halfway.rotation[0, 2]) < 1e-9  # zoomed, not yet panned
    assert end.focal == pytest.approx(halfway.focal) and end.rotation[0, 2] > 0.02  # then panned right
