"""Time-warp per transition: eased at the ends of the video, continuous speed through keyframes.

Each transition i maps its local frame position u in [0, 1] to an interpolation time tau(u) by a
cubic Hermite curve with tau(0)=0, tau(1)=1 and end slopes m0, m1 (monotone for slopes in [0, 3]).
Slopes are zero at the first and last keyframe (start from rest, come to rest). At an interior
keyframe the on-screen speed is made equal on both sides: with v_i the mean speed of transition i
(its median flow magnitude over its frames), both sides move at the Catmull-Rom speed
(v_i + v_{i+1}) / 2, i.e. slope (v_i + v_{i+1}) / (2 v_i) on the left and ... / (2 v_{i+1}) on the
right. A designed transition (dissolve, whip pan...) has no motion speed and eases to rest.
"""

from __future__ import annotations

from dataclasses import dataclass

_MAX_SLOPE = 3.0  # the largest end slope that keeps a cubic Hermite time curve monotone
_STILL = 1e-3  # a transition slower than this (pixels per frame) counts as having no motion


@dataclass(frozen=True)
class TimeCurve:
    start_slope: float
    end_slope: float

    def __call__(self, u: float) -> float:
        u = min(1.0, max(0.0, u))
        u2, u3 = u * u, u * u * u
        tau = (u3 - 2 * u2 + u) * self.start_slope + (-2 * u3 + 3 * u2) + (u3 - u2) * self.end_slope
        return min(1.0, max(0.0, tau))


def time_curves(speeds: list[float | None]) -> list[TimeCurve]:
    """One curve per transition from each one's mean speed (pixels per frame; None: designed)."""
    count = len(speeds)
    slopes = [[0.0, 0.0] for _ in range(count)]
    for i in range(count - 1):  # the interior keyframe between transitions i and i+1
        left, right = speeds[i], speeds[i + 1]
        if left is None or right is None:
            continue  # a designed transition on either side: both come to rest at the keyframe
        if left < _STILL or right < _STILL:
            slopes[i][1] = slopes[i + 1][0] = 1.0
            continue
        shared = 0.5 * (left + right)
        slopes[i][1] = min(_MAX_SLOPE, shared / left)
        slopes[i + 1][0] = min(_MAX_SLOPE, shared / right)
    return [TimeCurve(start, end) for start, end in slopes]
