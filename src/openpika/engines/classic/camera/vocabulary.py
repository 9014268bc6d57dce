"""The camera-language vocabulary: the words for moves, directions, speeds, easing, effects.

Tables only; ``parser.py`` holds the logic that applies them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .easing import Easing
from .plan import Effect, Move, MoveKind

SEQUENCE = re.compile(
    r"\b(?:and then|then|afterwards?|after that|followed by|finally|before|next|ending with|and ends?(?: with)?)\b|;|->|→"
)
CLAUSE = re.compile(r",|\bwhile\b|\bas\b|\band\b|\bwith\b|\bplus\b|\bwhilst\b")
CAMERA_CONTEXT = re.compile(r"\b(?:camera|cam|shot|lens|pov|view|frame|framing|cinematograph\w*|angle)\b")
NEGATION = re.compile(r"\b(?:no|without|not|don'?t|doesn'?t|never|avoid|zero|any)\s+(?:\w+\s+){0,2}$")

H_DIRS = (
    (r"counter[- ]?clockwise|anti[- ]?clockwise", -1),
    (r"clockwise", +1),
    (r"(?:to the )?left(?:wards?)?", -1),
    (r"(?:to the )?right(?:wards?)?", +1),
)
V_DIRS = (
    (r"up(?:wards?)?|skyward|to the sky|higher", +1),
    (r"down(?:wards?)?|to the (?:ground|floor)|lower", -1),
)
D_DIRS = (
    (r"in|into|inwards?|forwards?|closer|towards?|onto|on", +1),
    (r"out|outwards?|back(?:wards?)?|away|wide|wider", -1),
)
R_DIRS = (
    (r"counter[- ]?clockwise|anti[- ]?clockwise|left", -1),
    (r"clockwise|right", +1),
)
DIRS: dict[str, tuple[tuple[str, int], ...]] = {"h": H_DIRS, "v": V_DIRS, "d": D_DIRS, "r": R_DIRS}
AXIS_OF_KIND: dict[MoveKind, str] = {
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
class Rule:
    pattern: re.Pattern[str]
    kind: MoveKind | None  # None: the direction decides (a generic "the camera moves left")
    direction: int | None  # fixed direction, or None to look for a direction word after the keyword
    default_direction: int = +1
    # 1: a move only with camera context, at clause start or with a direction right after it;
    # 2: only with camera context or a direction right after it ("rolling hills" is no roll).
    ambiguous: int = 0
    speed: float | None = None  # a speed the keyword itself implies ("whip pan", "crash zoom")
    easing: Easing | None = None


def rule(
    pattern: str,
    kind: MoveKind | None,
    direction: int | None = None,
    *,
    default: int = +1,
    ambiguous: int = 0,
    speed: float | None = None,
    easing: Easing | None = None,
) -> Rule:
    return Rule(re.compile(rf"\b(?:{pattern})\b"), kind, direction, default, ambiguous, speed, easing)


# Order matters: longer phrases first; each match blanks its text so "dolly zoom" is not also a zoom.
RULES: tuple[Rule, ...] = (
    rule(
        r"dolly[- ]?zoom(?:s|ing)?|vertigo(?: effect| shot)?|zolly|contra[- ]?zoom|trombone shot|hitchcock zoom",
        "dolly_zoom",
    ),
    rule(
        r"crash[- ]?zoom(?:s|ing)?|snap[- ]?zoom(?:s|ing)?|punch(?:es|ing)? in",
        "zoom",
        +1,
        speed=2.0,
        easing="ease_out",
    ),
    rule(r"whip[- ]?pan(?:s|ning|ned)?", "pan", None, speed=2.2, easing="ease_out"),
    rule(r"push(?:es|ing|ed)?[- ](?:in|into|forward|closer|towards?)|push[- ]in", "dolly", +1),
    rule(
        r"(?:fly|flies|flying)[- ](?:through|into|forward|towards?|over)|fly-?through|fly-?over", "dolly", +1
    ),
    rule(r"drone shot|aerial (?:shot|view|footage)|drone footage", "dolly", +1),
    rule(
        r"approach(?:es|ing)?|advanc(?:es|ing)|creep(?:s|ing)? (?:in|forward|closer)",
        "dolly",
        +1,
        ambiguous=1,
    ),
    rule(
        r"pull(?:s|ing|ed)?[- ]?(?:back|out|away)|pull-?back|pullback|back(?:s|ing)? away|retreat(?:s|ing)?",
        "dolly",
        -1,
    ),
    rule(r"track(?:s|ing)? (?:in|forward|closer)", "dolly", +1),
    rule(r"track(?:s|ing)? (?:out|back(?:ward)?)", "dolly", -1),
    rule(r"dolly(?:ing)?|dollies|dollied|dolly shot", "dolly"),
    rule(r"zoom(?:s|ing|ed)?", "zoom", ambiguous=1),
    rule(
        r"truck(?:s|ing)?|crab(?:s|bing)?|strafe(?:s)?|strafing|tracking shot|track(?:s|ing)?",
        "truck",
        ambiguous=1,
    ),
    rule(r"pan(?:s|ning|ned)?|sweep(?:s|ing)?|swivel(?:s|ing)?", "pan", ambiguous=1),
    rule(r"tilt(?:s|ing|ed)?", "tilt", ambiguous=1),
    # Only the camera looking: "she looks up at the camera" is the subject.
    rule(r"camera look(?:s|ing)? (?:up|down)", "tilt"),
    rule(r"turn(?:s|ing)? (?:to the )?(?:left|right)", "pan", ambiguous=1),
    rule(r"pedestal(?:s|ing)?|crane(?:s|ing)?(?: shot)?|boom(?:s|ing)?|jib(?:s|bing)?", "pedestal"),
    rule(
        r"ris(?:e|es|ing)|ascend(?:s|ing)?|lift(?:s|ing)? up|elevat(?:es|ing)|soar(?:s|ing)?",
        "pedestal",
        +1,
        ambiguous=2,
    ),
    rule(
        r"descend(?:s|ing)?|lower(?:s|ing)?|sink(?:s|ing)?|drop(?:s|ping)? down", "pedestal", -1, ambiguous=2
    ),
    rule(r"orbit(?:s|ing|al)?(?: shot)?|arc shot|360(?: shot| orbit)?", "orbit", ambiguous=1),
    rule(
        r"arc(?:s|ing)?|circl(?:e|es|ing)(?: around)?|revolv(?:e|es|ing)(?: around)?|rotat(?:e|es|ing) around",
        "orbit",
        ambiguous=2,
    ),
    rule(
        r"barrel roll|dutch (?:roll|angle|tilt)|roll(?:s|ing|ed)?|rotat(?:e|es|ing)|spin(?:s|ning)?",
        "roll",
        ambiguous=2,
    ),
    # Verbs whose direction decides the move: "the camera glides left" is a truck.
    rule(
        r"mov(?:e|es|ing)|glid(?:e|es|ing)|drift(?:s|ing)?|slid(?:e|es|ing)|travel(?:s|ling|ing)?|float(?:s|ing)?|push(?:es|ing)?",
        None,
        ambiguous=2,
    ),
)
GENERIC_KIND = {"h": "truck", "v": "pedestal", "d": "dolly"}

STATIC = re.compile(
    r"\b(?:static(?: shot| camera)?|locked[- ](?:off|down)|tripod|(?:fixed|still|stationary|motionless|steady) camera"
    r"|camera (?:is |stays |remains |holds )(?:still|static|steady|stationary|fixed|motionless)"
    r"|no camera (?:movement|motion|moves?)|camera (?:does not|doesn'?t) move|without camera (?:movement|motion))\b"
)
HANDHELD = re.compile(
    r"\b(?:hand[- ]?held|shaky(?: cam(?:era)?)?|camera shake|shaking camera|jittery|documentary[- ]style"
    r"|found[- ]footage|wobbl(?:y|ing) camera|camera shakes|shake)\b"
)
EASING_WORDS: tuple[tuple[re.Pattern[str], Easing], ...] = (
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
SPEED_WORDS: tuple[tuple[re.Pattern[str], float], ...] = (
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
INTENSIFIER = re.compile(r"\b(?:very|extremely|super|really|incredibly|ultra)[\s-]+$")

EFFECT_WORDS: dict[Effect, re.Pattern[str]] = {
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
NEGATIVE_EFFECT_WORDS: dict[Effect, re.Pattern[str]] = {
    "snow": re.compile(r"\bsnow\w*"),
    "rain": re.compile(r"\brain\w*"),
    "dust": re.compile(r"\b(?:dust|motes|particles)\b"),
    "sparkles": re.compile(r"\b(?:glitter|sparkl\w*|twinkl\w*|particles)\b"),
    "flicker": re.compile(r"\b(?:flicker\w*|strob\w*|flash\w*)\b"),
    "clouds": re.compile(r"\bclouds?\b"),
}
NEGATIVE_ALL_MOVES = re.compile(r"\b(?:camera (?:movement|motion|moves?)|moving camera|any movement)\b")

# Tasteful defaults for prompts that name no move: slow and subject-friendly.
DEFAULT_PLANS: tuple[tuple[Move, ...], ...] = (
    (Move("dolly", +1, 0.6),),
    (Move("dolly", -1, 0.6),),
    (Move("orbit", +1, 0.6),),
    (Move("orbit", -1, 0.6),),
    (Move("truck", +1, 0.6),),
    (Move("truck", -1, 0.6),),
    (Move("dolly", +1, 0.5), Move("pedestal", +1, 0.5)),
    (Move("dolly", +1, 0.5), Move("pan", +1, 0.3)),
)
