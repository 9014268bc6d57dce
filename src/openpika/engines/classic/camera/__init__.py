"""Camera language: prompt parser, camera plans, easing and trajectories."""

from .parser import parse_prompt
from .plan import CameraPlan, Move, Segment

__all__ = ["CameraPlan", "Move", "Segment", "parse_prompt"]
