"""What the camera does in a clip, as data: moves grouped into segments, plus the life to add.

Sign conventions (camera's point of view, +1 / -1):

========== ===================== =====================
kind       +1                    -1
========== ===================== =====================
dolly      in (towards scene)    out (pull back)
zoom       in (longer lens)      out
pan        right                 left
tilt       up                    down
truck      right                 left
pedestal   up (crane/boom up)    down
orbit      right (arc rightward) left
roll       clockwise             counter-clockwise
dolly_zoom dolly in + zoom out   dolly out + zoom in
========== ===================== =====================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .easing import Easing

MoveKind = Literal["dolly", "zoom", "pan", "tilt", "truck", "pedestal", "orbit", "roll", "dolly_zoom"]
MOVE_KINDS: tuple[MoveKind, ...] = (
    "dolly",
    "zoom",
    "pan",
    "tilt",
    "truck",
    "pedestal",
    "orbit",
    "roll",
    "dolly_zoom",
)
Effect = Literal["snow", "rain", "dust", "sparkles", "flicker", "clouds"]
PARTICLE_EFFECTS: tuple[Effect, ...] = ("snow", "rain", "dust", "sparkles")
PlanSource = Literal["prompt", "default", "static"]


@dataclass(frozen=True)
class Move:
    kind: MoveKind
    direction: int  # +1 or -1, see the table above
    speed: float = 1.0  # 1 = a normal move; 0.5 = slow; 1.7 = fast
    easing: Easing = "ease_in_out"


@dataclass(frozen=True)
class Segment:
    """Moves that happen at the same time ("dolly out while panning left")."""

    moves: tuple[Move, ...]


@dataclass(frozen=True)
class CameraPlan:
    """Segments play one after another, each taking an equal share of the clip."""

    segments: tuple[Segment, ...] = ()
    handheld: float = 0.0  # shake intensity; 0 = a steady camera
    effects: frozenset[Effect] = field(default_factory=frozenset)
    source: PlanSource = "prompt"

    @property
    def moves(self) -> tuple[Move, ...]:
        return tuple(m for s in self.segments for m in s.moves)

    @property
    def is_static(self) -> bool:
        return not self.segments

    def describe(self) -> str:
        """A short human-readable summary, for the job log."""
        parts = []
        for seg in self.segments:
            parts.append(
                " + ".join(f"{m.kind}{'+' if m.direction > 0 else '-'}x{m.speed:.2g}" for m in seg.moves)
            )
        text = " then ".join(parts) or "static"
        if self.handheld:
            text += f", handheld {self.handheld:.2g}"
        if self.effects:
            text += ", " + ", ".join(sorted(self.effects))
        return f"{text} ({self.source})"
