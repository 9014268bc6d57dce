"""Read a prompt the way a cinematographer would: camera moves, their speed and easing, sequences.

The prompt is split into *segments* on sequence words ("then", "followed by", "finally"), each
segment into *clauses* on "while", "as", "and", commas. Moves are found by a table of patterns;
a speed word ("slow", "fast", "very gently") applies to the moves of its clause, and a clause with
no speed word inherits the previous clause's ("slow dolly out while panning left" is slow
throughout). Words that usually describe the subject rather than the camera ("tilts her head",
"the car zooms past", "rolling hills") only count as moves when the clause talks about the camera,
the move word opens the clause, or a direction follows it at once.

``negative_prompt`` removes what it names: "camera shake" removes the handheld shake, "zoom"
removes zooms, "camera movement" makes the shot static, "snow" removes snowfall. "no zoom" or
"without panning" inside the prompt does the same.

With no camera words at all, a tasteful default move is picked from the seed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .easing import Easing
from .plan import MOVE_KINDS, PARTICLE_EFFECTS, CameraPlan, Effect, Move, MoveKind, Segment
from .vocabulary import (
    AXIS_OF_KIND,
    CAMERA_CONTEXT,
    CLAUSE,
    DEFAULT_PLANS,
    DIRS,
    EASING_WORDS,
    EFFECT_WORDS,
    GENERIC_KIND,
    HANDHELD,
    INTENSIFIER,
    NEGATION,
    NEGATIVE_ALL_MOVES,
    NEGATIVE_EFFECT_WORDS,
    RULES,
    SEQUENCE,
    SPEED_WORDS,
    STATIC,
)


def _normalise(text: str) -> str:
    text = text.lower().replace("’", "'")
    return re.sub(r"\s+", " ", text).strip()


def _find_direction(text: str, axis: str, after: int, before: int) -> int | None:
    """The first direction word of the axis within a few words after the keyword, or just before it."""
    window_after = text[after : after + 44]
    best: tuple[int, int] | None = None
    for pattern, sign in DIRS[axis]:
        m = re.search(rf"^\s*(?:\w+\s+){{0,4}}?(?:{pattern})\b", window_after)
        if m and (best is None or m.end() < best[0]):
            best = (m.end(), sign)
    if best is not None:
        return best[1]
    window_before = text[max(0, before - 14) : before]
    for pattern, sign in DIRS[axis]:
        if re.search(rf"\b(?:{pattern})\s*$", window_before):
            return sign
    return None


def _direction_right_after(text: str, axis: str, after: int) -> bool:
    window = text[after : after + 20]
    return any(
        re.match(rf"\s*(?:slowly |quickly |gently )?(?:{pattern})\b", window) for pattern, _ in DIRS[axis]
    )


def _generic_direction(text: str, after: int) -> tuple[MoveKind, int] | None:
    window = text[after : after + 24]
    found: list[tuple[int, MoveKind, int]] = []
    for axis, kind in GENERIC_KIND.items():
        for pattern, sign in DIRS[axis]:
            if axis == "d" and pattern.startswith("in|"):
                pattern = r"in|inwards?|forwards?|closer|towards? (?:the|her|him|them|it)"
            m = re.search(rf"^\s*(?:\w+\s+){{0,1}}?(?:{pattern})\b", window)
            if m:
                found.append((m.end(), kind, sign))  # type: ignore[arg-type]
    if not found:
        return None
    _, kind, sign = min(found)
    return kind, sign


def _clause_speed(clause: str) -> float | None:
    for pattern, speed in SPEED_WORDS:
        m = pattern.search(clause)
        if m:
            if INTENSIFIER.search(clause[: m.start()]):
                return speed * 0.7 if speed < 1 else speed * 1.25
            return speed
    return None


def _clause_easing(clause: str) -> Easing | None:
    for pattern, easing in EASING_WORDS:
        if pattern.search(clause):
            return easing
    return None


@dataclass
class _ClauseMoves:
    moves: list[tuple[MoveKind, int, float | None, Easing | None]]
    banned: set[MoveKind]


def _moves_in_clause(clause: str) -> _ClauseMoves:
    found: list[tuple[int, MoveKind, int, float | None, Easing | None]] = []
    banned: set[MoveKind] = set()
    camera_context = bool(CAMERA_CONTEXT.search(clause))
    text = clause
    for rule in RULES:
        for m in list(rule.pattern.finditer(text)):
            if not m.group(0).strip():
                continue
            kind = rule.kind
            direction = rule.direction
            if kind is None:
                generic = _generic_direction(text, m.end())
                if generic is None or not camera_context:
                    continue
                kind, direction = generic
            axis = AXIS_OF_KIND[kind]
            if direction is None:
                direction = _find_direction(text, axis, m.end(), m.start())
            if rule.ambiguous and not camera_context:
                at_start = (
                    rule.ambiguous == 1
                    and not re.sub(
                        r"\b(?:a|an|the|very|slow(?:ly)?|fast|quick|gentle|gently|smooth|subtle|steady|slight)\b",
                        "",
                        text[: m.start()],
                    ).strip()
                )
                immediate = _direction_right_after(text, axis, m.end())
                if not (at_start or immediate):
                    continue
            negated = bool(NEGATION.search(text[: m.start()]))
            text = text[: m.start()] + " " * (m.end() - m.start()) + text[m.end() :]
            if negated:
                banned.add(kind)
                continue
            found.append((m.start(), kind, direction or rule.default_direction, rule.speed, rule.easing))
    found.sort()
    return _ClauseMoves([(k, d, s, e) for _, k, d, s, e in found], banned)


def _merge_dolly_zoom(moves: list[Move]) -> list[Move]:
    """A dolly and an opposite zoom together are a dolly zoom ("dolly in while zooming out")."""
    by_kind = {m.kind: m for m in moves}
    dolly, zoom, vertigo = by_kind.get("dolly"), by_kind.get("zoom"), by_kind.get("dolly_zoom")
    if dolly is None or zoom is None or (vertigo is None and dolly.direction == zoom.direction):
        return moves
    base = vertigo or dolly
    merged = Move("dolly_zoom", dolly.direction, base.speed, base.easing)
    rest = [m for m in moves if m.kind not in ("dolly", "zoom", "dolly_zoom")]
    return [merged, *rest]


def _parse_segments(prompt: str) -> tuple[list[Segment], set[MoveKind]]:
    segments: list[Segment] = []
    banned: set[MoveKind] = set()
    for seg_text in SEQUENCE.split(prompt):
        moves: list[Move] = []
        inherited_speed: float | None = None
        # Easing describes the whole move: "zoom in, easing in" eases the zoom.
        segment_easing = _clause_easing(seg_text)
        for clause in CLAUSE.split(seg_text):
            clause = clause.strip()
            if not clause:
                continue
            speed = _clause_speed(clause)
            inherited_speed = speed if speed is not None else inherited_speed
            found = _moves_in_clause(clause)
            banned |= found.banned
            for kind, direction, rule_speed, rule_easing in found.moves:
                same = [i for i, existing in enumerate(moves) if existing.kind == kind]
                if same:
                    # "pan left, panning slowly" names one pan; a later speed word refines it.
                    if speed is not None and moves[same[0]].speed == 1.0:
                        moves[same[0]] = replace(moves[same[0]], speed=speed)
                    continue
                moves.append(
                    Move(
                        kind,
                        direction,
                        rule_speed if rule_speed is not None and speed is None else (inherited_speed or 1.0),
                        rule_easing or segment_easing or "ease_in_out",
                    )
                )
        moves = _merge_dolly_zoom(moves)
        if moves:
            segments.append(Segment(tuple(moves)))
    return segments, banned


def _handheld_intensity(prompt: str) -> float:
    m = HANDHELD.search(prompt)
    if not m or NEGATION.search(prompt[: m.start()]):
        return 0.0
    if re.search(r"\b(?:very shaky|violent|frantic|heavy|chaotic)\b", prompt):
        return 1.6
    if re.search(
        r"\b(?:subtle|slight(?:ly)?|gentle|light|soft)\b", prompt[max(0, m.start() - 20) : m.end() + 10]
    ):
        return 0.5
    return 1.0


def _effects(prompt: str) -> set[Effect]:
    found: set[Effect] = set()
    for effect, pattern in EFFECT_WORDS.items():
        m = pattern.search(prompt)
        if m and not NEGATION.search(prompt[: m.start()]):
            found.add(effect)
    if "snow" in found and "rain" in found and not re.search(r"\brain(?:ing|fall|drops)?\b", prompt):
        found.discard("rain")
    return found


def _negative_bans(negative: str) -> tuple[set[MoveKind], bool, set[Effect]]:
    """Moves, handheld shake and effects that the negative prompt names."""
    banned: set[MoveKind] = set()
    if NEGATIVE_ALL_MOVES.search(negative):
        banned |= set(MOVE_KINDS)
    for kind, pattern in (
        ("zoom", r"\bzoom\w*"),
        ("dolly_zoom", r"\b(?:zoom\w*|dolly\w*|vertigo)"),
        ("dolly", r"\b(?:dolly\w*|dollies|push[- ]in|pull[- ]?back)"),
        ("pan", r"\bpan(?:s|ning|ned)?\b"),
        ("tilt", r"\btilt\w*"),
        ("truck", r"\b(?:truck\w*|tracking)"),
        ("pedestal", r"\b(?:pedestal|crane|boom)\w*"),
        ("orbit", r"\b(?:orbit\w*|arc shot)"),
        ("roll", r"\b(?:roll\w*|rotation|rotating|dutch)"),
    ):
        if re.search(pattern, negative):
            banned.add(kind)  # type: ignore[arg-type]
    no_shake = bool(re.search(r"\b(?:shak\w*|jitter\w*|hand[- ]?held|wobbl\w*)", negative))
    effects: set[Effect] = {e for e, p in NEGATIVE_EFFECT_WORDS.items() if p.search(negative)}
    return banned, no_shake, effects


def parse_prompt(prompt: str, negative_prompt: str = "", seed: int = 0) -> CameraPlan:
    """The camera plan a cinematographer would read from ``prompt`` (never raises)."""
    text = _normalise(prompt or "")
    negative = _normalise(negative_prompt or "")
    segments, banned = _parse_segments(text)
    neg_banned, no_shake, neg_effects = _negative_bans(negative)
    banned |= neg_banned
    handheld = 0.0 if no_shake else _handheld_intensity(text)
    effects = frozenset(e for e in _effects(text) if e not in neg_effects)
    if "particles" in negative:
        effects = frozenset(e for e in effects if e not in PARTICLE_EFFECTS)

    named_any = bool(segments) or bool(banned)
    segments = [
        Segment(kept) for s in segments if (kept := tuple(m for m in s.moves if m.kind not in banned))
    ]
    if STATIC.search(text):
        return CameraPlan((), handheld, effects, "static")
    if segments:
        return CameraPlan(tuple(segments), handheld, effects, "prompt")
    if handheld or (named_any and not _allowed_defaults(banned)):
        return CameraPlan((), handheld, effects, "static" if not handheld else "prompt")
    choices = _allowed_defaults(banned)
    chosen = choices[abs(int(seed)) % len(choices)]
    return CameraPlan((Segment(chosen),), handheld, effects, "default")


def _allowed_defaults(banned: set[MoveKind]) -> list[tuple[Move, ...]]:
    return [plan for plan in DEFAULT_PLANS if not any(m.kind in banned for m in plan)]
