"""What a pikaffect's prompt and negative prompt can steer, read with plain word lists.

The prompt changes intensity ("slightly", "massively"), speed ("slowly", "quickly") and direction
("upward", "to the left"); the negative prompt suppresses named parts ("no debris", "no shadow").
Both are optional: an empty prompt gives the documented defaults (docs/pikaffects.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_GENTLE = ("slight", "slightly", "gentle", "gently", "subtle", "subtly", "a little", "soft", "softly", "mild")
_STRONG = (
    "massive",
    "massively",
    "huge",
    "hugely",
    "violent",
    "violently",
    "dramatic",
    "extreme",
    "big",
    "giant",
)
_SLOW = ("slow", "slowly", "gradual", "gradually", "lazily", "leisurely")
_FAST = ("fast", "quick", "quickly", "rapid", "rapidly", "sudden", "suddenly", "instantly")
_DIRECTIONS = {
    "upward": (0.0, -1.0),
    "upwards": (0.0, -1.0),
    "up": (0.0, -1.0),
    "skyward": (0.0, -1.0),
    "downward": (0.0, 1.0),
    "downwards": (0.0, 1.0),
    "down": (0.0, 1.0),
    "left": (-1.0, 0.0),
    "leftward": (-1.0, 0.0),
    "right": (1.0, 0.0),
    "rightward": (1.0, 0.0),
}
# Negative-prompt words and the effect parts they switch off.
SUPPRESSIBLE = {
    "debris": "debris",
    "particles": "debris",
    "dust": "debris",
    "crumbs": "debris",
    "sparks": "sparkle",
    "sparkle": "sparkle",
    "sparkles": "sparkle",
    "glitter": "sparkle",
    "shadow": "shadow",
    "shadows": "shadow",
    "wobble": "wobble",
    "wobbling": "wobble",
    "jiggle": "wobble",
    "bounce": "wobble",
    "blur": "blur",
    "motion blur": "blur",
    "drips": "drips",
    "dripping": "drips",
    "drip": "drips",
    "flash": "flash",
    "fire": "flash",
    "smoke": "flash",
    "cloth": "cloth",
    "knife": "knife",
    "finger": "finger",
    "outline": "outline",
    "border": "outline",
}


@dataclass(frozen=True)
class Controls:
    intensity: float = 1.0  # scales how far the effect goes (0.55 .. 1.45)
    speed: float = 1.0  # scales the effect clock (0.78 .. 1.3)
    direction: tuple[float, float] | None = None  # unit (dx, dy) in image coordinates (y down)
    suppressed: frozenset[str] = field(default_factory=frozenset)

    def allows(self, part: str) -> bool:
        return part not in self.suppressed

    def describe(self) -> str:
        bits = [f"intensity {self.intensity:.2f}", f"speed {self.speed:.2f}"]
        if self.direction is not None:
            bits.append(f"direction {self.direction}")
        if self.suppressed:
            bits.append("without " + ", ".join(sorted(self.suppressed)))
        return "; ".join(bits)


def _has(text: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}\b", text) is not None


def parse_controls(prompt: str, negative_prompt: str) -> Controls:
    text = (prompt or "").lower()
    intensity = 1.0
    if any(_has(text, w) for w in _GENTLE):
        intensity = 0.55
    elif any(_has(text, w) for w in _STRONG):
        intensity = 1.45
    speed = 1.0
    if any(_has(text, w) for w in _SLOW):
        speed = 0.78
    elif any(_has(text, w) for w in _FAST):
        speed = 1.3
    direction = None
    # The first direction word that appears wins ("explodes upward and outward" -> up).
    hits = [(m.start(), vec) for word, vec in _DIRECTIONS.items() for m in re.finditer(rf"\b{word}\b", text)]
    if hits:
        direction = min(hits)[1]
    negative = (negative_prompt or "").lower()
    suppressed = frozenset(part for word, part in SUPPRESSIBLE.items() if _has(negative, word))
    return Controls(intensity=intensity, speed=speed, direction=direction, suppressed=suppressed)
