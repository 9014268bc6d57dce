"""Camera trajectories: a plan becomes a camera pose at every instant, and a pose becomes a
homography per scene plane.

Scene units: the camera starts at the origin looking down +z, x right, y down; the subject sits at
depth ~1. A plane is written ``n . X = 1`` (``n = (0, 0, 1/d)`` is a wall at depth d; a ground plane
tilts n towards +y). For a camera at centre ``C`` with rotation ``R`` (camera -> world) the image of a
plane moves by the homography ``K_out R^T (I - C n^T) K_src^-1``: a pan or zoom moves every plane
alike, while a dolly, truck or orbit moves near planes more than far ones, which is parallax.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .easing import apply as ease
from .plan import CameraPlan, Move

# Size of each move at speed 1 over a 5 s segment. Chosen so a normal move reads clearly without
# exposing more disoccluded background than the fill can support.
DOLLY = 0.16  # scene units (subject depth = 1)
ZOOM = 0.22  # focal length grows by 22 %
PAN = math.radians(5.0)
TILT = math.radians(3.5)
TRUCK = 0.07
PEDESTAL = 0.05
ORBIT = math.radians(7.0)
ROLL = math.radians(4.0)
DOLLY_ZOOM = 0.30
REFERENCE_SECONDS = 5.0
MAX_SPEED = 2.5


@dataclass(frozen=True)
class Pose:
    centre: np.ndarray  # (3,) camera position
    rotation: np.ndarray  # (3, 3) camera -> world
    focal: float  # focal length multiplier (zoom)


@dataclass(frozen=True)
class Shake:
    """Smooth pseudo-random handheld motion: a few incommensurate sines per axis, from the seed."""

    freqs: np.ndarray  # (6, 3) Hz
    phases: np.ndarray  # (6, 3)
    amps: np.ndarray  # (6, 3)

    @classmethod
    def from_seed(cls, seed: int, intensity: float) -> Shake:
        rng = np.random.default_rng([abs(int(seed)) % (2**63), 7])
        freqs = rng.uniform(0.25, 1.6, size=(6, 3))
        phases = rng.uniform(0, 2 * math.pi, size=(6, 3))
        # yaw, pitch, roll (radians); x, y, z (scene units); falls off with frequency like a real hand.
        base = np.array([0.0035, 0.0030, 0.0025, 0.004, 0.004, 0.003])[:, None]
        amps = intensity * base / (1.0 + freqs)
        return cls(freqs, phases, amps)

    def at(self, t: float) -> np.ndarray:
        return (self.amps * np.sin(2 * math.pi * self.freqs * t + self.phases)).sum(axis=1)


def _rot_x(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=np.float64)


def _rot_y(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=np.float64)


def _rot_z(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=np.float64)


class Trajectory:
    """``pose(t)`` for t in seconds within ``[0, duration]``.

    ``pivot`` is the point orbits circle and dolly zooms hold steady (the subject); ``amount``
    scales every move (the renderer lowers it when the image cannot support the full move).
    """

    def __init__(
        self,
        plan: CameraPlan,
        duration: float,
        *,
        pivot: tuple[float, float, float] = (0.0, 0.0, 1.0),
        amount: float = 1.0,
        seed: int = 0,
    ) -> None:
        self.plan = plan
        self.duration = max(duration, 1e-6)
        self.pivot = np.asarray(pivot, dtype=np.float64)
        self.amount = amount
        self.shake = Shake.from_seed(seed, plan.handheld) if plan.handheld > 0 else None

    def _size(self, move: Move, seconds: float) -> float:
        """How far a move goes: its speed, scaled gently with the time it has."""
        speed = min(move.speed, MAX_SPEED)
        return move.direction * speed * self.amount * math.sqrt(seconds / REFERENCE_SECONDS)

    def pose(self, t: float) -> Pose:
        centre = np.zeros(3)
        yaw = pitch = roll = orbit = 0.0
        log_focal = 0.0
        dolly_zoom = 0.0
        segments = self.plan.segments
        seg_len = self.duration / max(1, len(segments))
        for index, segment in enumerate(segments):
            local = (t - index * seg_len) / seg_len
            if local <= 0:
                break
            for move in segment.moves:
                p = ease(move.easing, local)
                size = self._size(move, seg_len) * p
                if move.kind == "dolly":
                    centre[2] += DOLLY * size
                elif move.kind == "zoom":
                    log_focal += math.log1p(ZOOM * abs(size)) * (1 if size >= 0 else -1)
                elif move.kind == "pan":
                    yaw += PAN * size
                elif move.kind == "tilt":
                    pitch += TILT * size
                elif move.kind == "truck":
                    centre[0] += TRUCK * size
                elif move.kind == "pedestal":
                    centre[1] -= PEDESTAL * size
                elif move.kind == "orbit":
                    orbit += ORBIT * size
                elif move.kind == "roll":
                    roll += ROLL * size
                elif move.kind == "dolly_zoom":
                    dolly_zoom += DOLLY_ZOOM * size
        if orbit:
            # Circle the pivot: rotate the camera about it, so the pivot stays where it is on screen.
            turn = _rot_y(-orbit)
            centre += self.pivot - turn @ self.pivot
            yaw -= orbit
        if dolly_zoom:
            depth = float(self.pivot[2])
            travel = float(np.clip(dolly_zoom, -0.6 * depth, 0.6 * depth))
            centre[2] += travel
            # Hold the pivot's size: the focal length follows its distance to the camera.
            log_focal += math.log((depth - travel) / depth)
        if self.shake is not None:
            jitter = self.shake.at(t)
            yaw += jitter[0]
            pitch += jitter[1]
            roll += jitter[2]
            centre += jitter[3:]
        rotation = _rot_y(yaw) @ _rot_x(pitch) @ _rot_z(roll)
        return Pose(centre, rotation, math.exp(log_focal))


def intrinsics(focal: float, cx: float, cy: float) -> np.ndarray:
    return np.array([[focal, 0, cx], [0, focal, cy], [0, 0, 1]], dtype=np.float64)


def plane_homography(pose: Pose, normal: np.ndarray, k_src: np.ndarray, k_out: np.ndarray) -> np.ndarray:
    """Source pixel -> output pixel for the plane ``normal . X = 1`` seen from ``pose``."""
    k_pose = k_out.copy()
    k_pose[0, 0] *= pose.focal
    k_pose[1, 1] *= pose.focal
    move = np.eye(3) - np.outer(pose.centre, normal)
    h = k_pose @ pose.rotation.T @ move @ np.linalg.inv(k_src)
    return h / h[2, 2]


def plane_homographies(
    poses: list[Pose], normal: np.ndarray, k_src: np.ndarray, k_out: np.ndarray
) -> np.ndarray:
    """``plane_homography`` for many poses at once, shape (len(poses), 3, 3): fitting a shot to an
    image tries a few thousand of them, where one NumPy call per 3x3 product would dominate."""
    h = k_out @ pose_maps(poses, normal, k_src)
    return h / h[:, 2:3, 2:3]


def pose_maps(poses: list[Pose], normal: np.ndarray, k_src: np.ndarray) -> np.ndarray:
    """The part of each pose's homography that does not depend on the output's intrinsics:
    ``plane_homography`` is ``k_out @`` this, up to scale (the pose's zoom scales ``k_out``'s focal
    length, which is ``k_out @ diag(zoom, zoom, 1)``)."""
    centres = np.array([pose.centre for pose in poses], dtype=np.float64)
    rotations_t = np.array([pose.rotation.T for pose in poses], dtype=np.float64)
    focal = np.array([pose.focal for pose in poses], dtype=np.float64)
    zoom = np.zeros((len(poses), 3, 3))
    zoom[:, 0, 0] = zoom[:, 1, 1] = focal
    zoom[:, 2, 2] = 1.0
    move = np.eye(3)[None] - centres[:, :, None] * np.asarray(normal, dtype=np.float64)[None, None, :]
    result: np.ndarray = zoom @ rotations_t @ move @ np.linalg.inv(k_src)
    return result
