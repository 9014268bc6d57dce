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
from dataclasses import dataclass

from .easing import Easing
from .plan import PARTICLE_EFFECTS, CameraPlan, Effect, Move, MoveKind, Segment

_SEQUENCE = re.compile(
    r"\b(?:and then|then|afterwards?|after that|followed by|finally|before|next|ending with|and ends?(?: with)?)\b|;|->|→"
)
_CLAUSE = re.compile(r",|\bwhile\b|\bas\b|\band\b|\bwith\b|\bplus\b|\bwhilst\b")
_CAMERA_CONTEXT = re.compile(r"\b(?:camera|cam|shot|lens|pov|view|frame|framing|cinematograph\w*|angle)\b")
_NEGATION = re.compile(r"\b(?:no|without|not|don'?t|doesn'?t|never|avoid|zero|any)\s+(?:\w+\s+){0,2}$")

_H_DIRS = (
    (r"counter[- ]?clockwise|anti[- ]?clockwise", -1),
    (r"clockwise", +1),
    (r"(?:to the )?left(?:wards?)?", -1),
    (r"(?:to the )?right(?:wards?)?", +1),
)
_V_DIRS = (
    (r"up(?:wards?)?|skyward|to the sky|higher", +1),
    (r"down(?:wards?)?|to the (?:ground|floor)|lower", -1),
)
_D_DIRS = (
    (r"in|into|inwards?|forwards?|closer|towards?|onto|on", +1),
    (r"out|outwards?|back(?:wards?)?|away|wide|wider", -1),
)
_R_DIRS = (
    (r"counter[- ]?clockwise|anti[- ]?clockwise|left", -1),
    (r"clockwise|right", +1),
)
_DIRS: dict[str, tuple[tuple[str, int], ...]] = {"h": _H_DIRS, "v": _V_DIRS, "d": _D_DIRS, "r": _R_DIRS}
_AXIS_OF_KIND: dict[MoveKind, str] = {
    "dolly": "d",
    "zoom": "d",
    "dolly_zoom": "d",
    "pan": "h",
    "truck": "h",
    "orbit": "h",
    "tilt": "v",
    "pedestal": "v",
    "roll": "r",
}


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    kind: MoveKind | None  # None: the direction decides (a generic "the camera moves left")
    direction: int | None  # fixed direction, or None to look for a direction word after the keyword
    default_direction: int = +1
    # 1: a move only with camera context, at clause start or with a direction right after it;
    # 2: only with camera context or a direction right after it ("rolling hills" is no roll).
    ambiguous: int = 0
    speed: float | None = None  # a speed the keyword itself implies ("whip pan", "crash zoom")
    easing: Easing | None = None


def _rule(
    pattern: str,
    kind: MoveKind | None,
    direction: int | None = None,
    *,
    default: int = +1,
    ambiguous: int = 0,
    speed: float | None = None,
    easing: Easing | None = None,
) -> _Rule:
    return _Rule(re.compile(rf"\b(?:{pattern})\b"), kind, direction, default, ambiguous, speed, easing)


# Order matters: longer phrases first; each match blanks its text so "dolly zoom" is not also a zoom.
_RULES: tuple[_Rule, ...] = (
    _rule(
        r"dolly[- ]?zoom(?:s|ing)?|vertigo(?: effect| shot)?|zolly|contra[- ]?zoom|trombone shot|hitchcock zoom",
        "dolly_zoom",
    ),
    _rule(
        r"crash[- ]?zoom(?:s|ing)?|snap[- ]?zoom(?:s|ing)?|punch(?:es|ing)? in",
        "zoom",
        +1,
        speed=2.0,
        easing="ease_out",
    ),
    _rule(r"whip[- ]?pan(?:s|ning|ned)?", "pan", None, speed=2.2, easing="ease_out"),
    _rule(r"push(?:es|ing|ed)?[- ](?:in|into|forward|closer|towards?)|push[- ]in", "dolly", +1),
    _rule(r"(?:fly|flies|flying)[- ](?:through|into|forward|towards?)|fly-?through", "dolly", +1),
    _rule(
        r"approach(?:es|ing)?|advanc(?:es|ing)|creep(?:s|ing)? (?:in|forward|closer)",
        "dolly",
        +1,
        ambiguous=1,
    ),
    _rule(
        r"pull(?:s|ing|ed)?[- ]?(?:back|out|away)|pull-?back|pullback|back(?:s|ing)? away|retreat(?:s|ing)?",
        "dolly",
        -1,
    ),
    _rule(r"track(?:s|ing)? (?:in|forward|closer)", "dolly", +1),
    _rule(r"track(?:s|ing)? (?:out|back(?:ward)?)", "dolly", -1),
    _rule(r"dolly(?:ing)?|dollies|dollied|dolly shot", "dolly"),
    _rule(r"zoom(?:s|ing|ed)?", "zoom", ambiguous=1),
    _rule(
        r"truck(?:s|ing)?|crab(?:s|bing)?|strafe(?:s)?|strafing|tracking shot|track(?:s|ing)?",
        "truck",
        ambiguous=1,
    ),
    _rule(r"pan(?:s|ning|ned)?|sweep(?:s|ing)?|swivel(?:s|ing)?", "pan", ambiguous=1),
    _rule(r"tilt(?:s|ing|ed)?", "tilt", ambiguous=1),
    _rule(r"look(?:s|ing)? (?:up|down)", "tilt", ambiguous=1),
    _rule(r"turn(?:s|ing)? (?:to the )?(?:left|right)", "pan", ambiguous=1),
    _rule(r"pedestal(?:s|ing)?|crane(?:s|ing)?(?: shot)?|boom(?:s|ing)?|jib(?:s|bing)?", "pedestal"),
    _rule(
        r"ris(?:e|es|ing)|ascend(?:s|ing)?|lift(?:s|ing)? up|elevat(?:es|ing)|soar(?:s|ing)?",
        "pedestal",
        +1,
        ambiguous=2,
    ),
    _rule(
        r"descend(?:s|ing)?|lower(?:s|ing)?|sink(?:s|ing)?|drop(?:s|ping)? down", "pedestal", -1, ambiguous=2
    ),
    _rule(r"orbit(?:s|ing|al)?(?: shot)?|arc shot|360(?: shot| orbit)?", "orbit", ambiguous=1),
    _rule(
        r"arc(?:s|ing)?|circl(?:e|es|ing)(?: around)?|revolv(?:e|es|ing)(?: around)?|rotat(?:e|es|ing) around",
        "orbit",
        ambiguous=2,
    ),
    _rule(
        r"barrel roll|dutch (?:roll|angle|tilt)|roll(?:s|ing|ed)?|rotat(?:e|es|ing)|spin(?:s|ning)?",
        "roll",
        ambiguous=2,
    ),
    # Verbs whose direction decides the move: "the camera glides left" is a truck.
    _rule(
        r"mov(?:e|es|ing)|glid(?:e|es|ing)|drift(?:s|ing)?|slid(?:e|es|ing)|travel(?:s|ling|ing)?|float(?:s|ing)?|push(?:es|ing)?",
        None,
        ambiguous=2,
    ),
)
_GENERIC_KIND = {"h": "truck", "v": "pedestal", "d": "dolly"}

_STATIC = re.compile(
    r"\b(?:static(?: shot| camera)?|locked[- ](?:off|down)|tripod|(?:fixed|still|stationary|motionless|steady) camera"
    r"|camera (?:is |stays |remains |holds )(?:still|static|steady|stationary|fixed|motionless)"
    r"|no camera (?:movement|motion|moves?)|camera (?:does not|doesn'?t) move|without camera (?:movement|motion))\b"
)
_HANDHELD = re.compile(
    r"\b(?:hand[- ]?held|shaky(?: cam(?:era)?)?|camera shake|shaking camera|jittery|documentary[- ]style"
    r"|found[- ]footage|wobbl(?:y|ing) camera|camera shakes|shake)\b"
)
_EASING_WORDS: tuple[tuple[re.Pattern[str], Easing], ...] = (
    (
        re.compile(
            r"\bease[sd]? in and out\b|\bease[- ]in[- ]out\b|\bsmooth(?:ly)?\b|\beased\b|\bfluid(?:ly)?\b"
        ),
        "ease_in_out",
    ),
    (re.compile(r"\b(?:ease[sd]?|easing) in\b|\baccelerat\w*|\bspeeds? up\b|\bbuilds? up\b"), "ease_in"),
    (
        re.compile(r"\bease[sd]? out\b|\bdecelerat\w*|\bslows? down\b|\bcomes? to (?:a )?rest\b|\bsettl\w*"),
        "ease_out",
    ),
    (
        re.compile(r"\blinear(?:ly)?\b|\bconstant(?: speed)?\b|\bsteady\b|\bsteadily\b|\bmechanical\b"),
        "linear",
    ),
)
_SPEED_WORDS: tuple[tuple[re.Pattern[str], float], ...] = (
    (re.compile(r"\b(?:subtle|subtly|slight(?:ly)?|barely|minimal|tiny|imperceptibl[ey])\b"), 0.4),
    (
        re.compile(
            r"\b(?:slow(?:ly)?|gentle|gently|leisurely|lazy|lazily|soft(?:ly)?|calm(?:ly)?|unhurried)\b"
        ),
        0.5,
    ),
    (re.compile(r"\b(?:gradual(?:ly)?|measured)\b"), 0.65),
    (re.compile(r"\b(?:moderate(?:ly)?|medium|normal)\b"), 1.0),
    (re.compile(r"\b(?:dramatic(?:ally)?|bold|energetic|dynamic)\b"), 1.5),
    (re.compile(r"\b(?:fast|quick(?:ly)?|swift(?:ly)?|brisk(?:ly)?|speedy)\b"), 1.7),
    (
        re.compile(r"\b(?:rapid(?:ly)?|sudden(?:ly)?|aggressive(?:ly)?|frantic(?:ally)?|violent(?:ly)?)\b"),
        1.9,
    ),
)
_INTENSIFIER = re.compile(r"\b(?:very|extremely|super|really|incredibly|ultra)[\s-]+$")

_EFFECT_WORDS: dict[Effect, re.Pattern[str]] = {
    "snow": re.compile(
        r"\b(?:snowing|snowfall|snowflakes?|blizzard|flurr(?:y|ies)|falling snow|snow (?:is )?(?:falls?|falling|drifting)|snowstorm)\b"
    ),
    "rain": re.compile(r"\b(?:rain(?:ing|fall|y|drops?|storm)?|downpour|drizzl\w*|pouring)\b"),
    "dust": re.compile(
        r"\b(?:dust(?: motes| particles)?|motes|floating particles|particles|pollen|ash(?:es)? (?:falls?|falling)|spores|embers|haze particles)\b"
    ),
    "sparkles": re.compile(
        r"\b(?:glitter\w*|sparkl\w*|twinkl\w*|glimmer\w*|glint\w*|fairy dust|stardust|fireflies|firefly)\b"
    ),
    "flicker": re.compile(
        r"\b(?:flicker\w*|candle ?light|candlelit|fire ?light|strobe\w*|flashing lights?|lightning)\b"
    ),
    "clouds": re.compile(
        r"\b(?:clouds? (?:drift|move|roll|pass|float|flow|sweep|race)\w*|(?:drifting|moving|rolling|passing|floating|racing) clouds?"
        r"|time[- ]?lapse (?:of )?(?:the )?(?:sky|clouds))\b"
    ),
}
# In a negative prompt, these remove effects (generic words remove every particle kind).
_NEGATIVE_EFFECT_WORDS: dict[Effect, re.Pattern[str]] = {
    "snow": re.compile(r"\bsnow\w*"),
    "rain": re.compile(r"\brain\w*"),
    "dust": re.compile(r"\b(?:dust|motes|particles)\b"),
    "sparkles": re.compile(r"\b(?:glitter|sparkl\w*|twinkl\w*|particles)\b"),
    "flicker": re.compile(r"\b(?:flicker\w*|strob\w*|flash\w*)\b"),
    "clouds": re.compile(r"\bclouds?\b"),
}
_NEGATIVE_ALL_MOVES = re.compile(r"\b(?:camera (?:movement|motion|moves?)|moving camera|any movement)\b")

# Tasteful defaults for prompts that name no move: slow and subject-friendly.
_DEFAULT_PLANS: tuple[tuple[Move, ...], ...] = (
    (Move("dolly", +1, 0.6),),
    (Move("dolly", -1, 0.6),),
    (Move("orbit", +1, 0.6),),
    (Move("orbit", -1, 0.6),),
    (Move("truck", +1, 0.6),),
    (Move("truck", -1, 0.6),),
    (Move("dolly", +1, 0.5), Move("pedestal", +1, 0.5)),
    (Move("dolly", +1, 0.5), Move("pan", +1, 0.3)),
)


def _normalise(text: str) -> str:
    text = text.lower().replace("’", "'")
    return re.sub(r"\s+", " ", text).strip()


def _find_direction(text: str, axis: str, after: int, before: int) -> int | None:
    """The first direction word of the axis within a few words after the keyword, or just before it."""
    window_after = text[after : after + 44]
    best: tuple[int, int] | None = None
    for pattern, sign in _DIRS[axis]:
        m = re.search(rf"^\s*(?:\w+\s+){{0,4}}?(?:{pattern})\b", window_after)
        if m and (best is None or m.end() < best[0]):
            best = (m.end(), sign)
    if best is not None:
        return best[1]
    window_before = text[max(0, before - 14) : before]
    for pattern, sign in _DIRS[axis]:
        if re.search(rf"\b(?:{pattern})\s*$", window_before):
            return sign
    return None


def _direction_right_after(text: str, axis: str, after: int) -> bool:
    window = text[after : after + 20]
    return any(
        re.match(rf"\s*(?:slowly |quickly |gently )?(?:{pattern})\b", window) for pattern, _ in _DIRS[axis]
    )


def _generic_direction(text: str, after: int) -> tuple[MoveKind, int] | None:
    window = text[after : after + 24]
    found: list[tuple[int, MoveKind, int]] = []
    for axis, kind in _GENERIC_KIND.items():
        for pattern, sign in _DIRS[axis]:
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
    for pattern, speed in _SPEED_WORDS:
        m = pattern.search(clause)
        if m:
            if _INTENSIFIER.search(clause[: m.start()]):
                return speed * 0.7 if speed < 1 else speed * 1.25
            return speed
    return None


def _clause_easing(clause: str) -> Easing | None:
    for pattern, easing in _EASING_WORDS:
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
    camera_context = bool(_CAMERA_CONTEXT.search(clause))
    text = clause
    for rule in _RULES:
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
            axis = _AXIS_OF_KIND[kind]
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
            negated = bool(_NEGATION.search(text[: m.start()]))
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
    for seg_text in _SEQUENCE.split(prompt):
        moves: list[Move] = []
        inherited_speed: float | None = None
        # Easing describes the whole move: "zoom in, easing in" eases the zoom.
        segment_easing = _clause_easing(seg_text)
        for clause in _CLAUSE.split(seg_text):
            clause = clause.strip()
            if not clause:
                continue
            speed = _clause_speed(clause)
            inherited_speed = speed if speed is not None else inherited_speed
            found = _moves_in_clause(clause)
            banned |= found.banned
            for kind, direction, rule_speed, rule_easing in found.moves:
                if any(existing.kind == kind for existing in moves):
                    continue  # "pan left, panning slowly" names one pan
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
    m = _HANDHELD.search(prompt)
    if not m or _NEGATION.search(prompt[: m.start()]):
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
    for effect, pattern in _EFFECT_WORDS.items():
        m = pattern.search(prompt)
        if m and not _NEGATION.search(prompt[: m.start()]):
            found.add(effect)
    if "snow" in found and "rain" in found and not re.search(r"\brain(?:ing|fall|drops)?\b", prompt):
        found.discard("rain")
    return found


def _negative_bans(negative: str) -> tuple[set[MoveKind], bool, set[Effect]]:
    """Moves, handheld shake and effects that the negative prompt names."""
    banned: set[MoveKind] = set()
    if _NEGATIVE_ALL_MOVES.search(negative):
        banned |= {"dolly", "zoom", "pan", "tilt", "truck", "pedestal", "orbit", "roll", "dolly_zoom"}
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
    effects: set[Effect] = {e for e, p in _NEGATIVE_EFFECT_WORDS.items() if p.search(negative)}
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
    if _STATIC.search(text):
        return CameraPlan((), handheld, effects, "static")
    if segments:
        return CameraPlan(tuple(segments), handheld, effects, "prompt")
    if handheld or (named_any and not _allowed_defaults(banned)):
        return CameraPlan((), handheld, effects, "static" if not handheld else "prompt")
    choices = _allowed_defaults(banned)
    chosen = choices[abs(int(seed)) % len(choices)]
    return CameraPlan((Segment(chosen),), handheld, effects, "default")


def _allowed_defaults(banned: set[MoveKind]) -> list[tuple[Move, ...]]:
    return [plan for plan in _DEFAULT_PLANS if not any(m.kind in banned for m in plan)]
