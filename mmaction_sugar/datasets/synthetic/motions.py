# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Action library of SynthNTU: joint-angle trajectories per action class.

Every action writes time-varying *channels* (joint angles in degrees,
translations in metres) into a :class:`Channels` table. The channels are
anatomical and defined for the LEFT side; the right side mirrors them,
so ``'r_sh_flex'`` raises the right arm forward exactly like
``'l_sh_flex'`` raises the left one. Single-person actions are authored
right-handed and mirrored as a whole for left-handed subjects.

Channels (``{s}`` is ``l`` or ``r``; positive values):

- ``root_yaw``/``root_pitch``/``root_roll``: pelvis turns left, tips
  forward, tips to the left.
- ``root_x``/``root_z``: extra pelvis translation (left / forward of the
  initial facing); ``lift``: height above the floor contact (jumps).
- ``{lumbar,chest,neck}_{bend,side,twist}``: bend forward, bend to the
  left, turn to the left.
- ``{s}_sh_flex``, ``{s}_sh_abd``: arm swing forward / sideways (both
  add up as a rotation vector, so ``(90, 0)`` points the arm forward and
  ``(0, 180)`` straight up); ``{s}_sh_rot``: internal rotation.
- ``{s}_elbow``, ``{s}_wrist_flex``, ``{s}_wrist_dev``, ``{s}_fingers``:
  flexion, palm-ward flexion, thumb-ward deviation, curl.
- ``{s}_hip_flex``, ``{s}_hip_abd``, ``{s}_hip_rot``, ``{s}_knee``,
  ``{s}_ankle``: like the arm; ``knee`` flexes the shank backwards and
  ``ankle`` is dorsiflexion (toes up).
- ``{s}_support``: written by :func:`add_gait`, which foot carries the
  weight (0 or 1).

:func:`animate` turns channels into joint positions: forward kinematics,
then the lowest body joint is put on the floor and the supporting foot is
kept in place, so bending the knees lowers the pelvis and stepping moves
the body.

On top of the action, :func:`perform` adds the subject's posture, idle
sway, habitual poses of the free arms and, sometimes, a short unrelated
movement (fidgeting), which makes the classes realistically confusable.
"""
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .skeleton_model import (NUM_JOINTS, SubjectBody, forward_kinematics,
                             rot_x, rot_y, rot_z, rotvec_to_matrix)

FPS = 30.0

_SIDE_JOINTS = {
    'l': dict(sh=4, elbow=5, wrist=6, hand=7, hip=12, knee=13, ankle=14),
    'r': dict(sh=8, elbow=9, wrist=10, hand=11, hip=16, knee=17, ankle=18),
}
_MIRROR_SIGNS = np.array([[1.0, -1.0, -1.0], [-1.0, 1.0, 1.0],
                          [-1.0, 1.0, 1.0]])
# Joints that may rest on the floor (finger tips are left out).
_CONTACT_JOINTS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                   17, 18, 19, 20)
_FEET = (15, 19)
# Channels whose sign flips when a motion is mirrored left <-> right.
_MIRROR_FLIP = ('root_x', 'root_yaw', 'root_roll', 'lumbar_side',
                'lumbar_twist', 'chest_side', 'chest_twist', 'neck_side',
                'neck_twist')


class Channels(dict):
    """Table of named per-frame channels, zero until written.

    Args:
        num_frames (int): Number of frames T; every channel has shape (T, ).
    """

    def __init__(self, num_frames: int) -> None:
        super().__init__()
        self.num_frames = int(num_frames)

    def __missing__(self, key: str) -> np.ndarray:
        value = np.zeros(self.num_frames)
        self[key] = value
        return value

    def mirrored(self) -> 'Channels':
        """Return the left/right mirror image of the motion."""
        out = Channels(self.num_frames)
        for key, value in self.items():
            if key[:2] in ('l_', 'r_'):
                key = ('r_' if key[0] == 'l' else 'l_') + key[2:]
            out[key] = -value if key in _MIRROR_FLIP else value.copy()
        return out


@dataclass
class SubjectStyle:
    """Personal motion style of one subject, fixed over all clips.

    Args:
        left_handed (bool): One-arm actions use the left arm.
        speed (float): Tempo factor (> 1 is faster).
        amp (float): Amplitude factor of the movements.
        stoop (float): Forward bend of the upper back, degrees.
        head_pitch (float): Head bend, degrees.
        arm_abd (float): Arm abduction at rest, degrees.
        elbow (float): Elbow flexion at rest, degrees.
        stance (float): Hip abduction (stance width), degrees.
        sway (float): Amount of idle body sway.
    """

    left_handed: bool = False
    speed: float = 1.0
    amp: float = 1.0
    stoop: float = 4.0
    head_pitch: float = 0.0
    arm_abd: float = 6.0
    elbow: float = 10.0
    stance: float = 3.0
    sway: float = 1.0

    @classmethod
    def random(cls,
               rng: np.random.Generator,
               left_prob: float = 0.2) -> 'SubjectStyle':
        """Draw a random style.

        Args:
            rng (np.random.Generator): Random generator.
            left_prob (float): Probability of left-handedness.
                Defaults to 0.2.

        Returns:
            SubjectStyle: The style.
        """
        return cls(
            left_handed=bool(rng.random() < left_prob),
            speed=rng.uniform(0.85, 1.15),
            amp=rng.uniform(0.85, 1.15),
            stoop=rng.uniform(0.0, 12.0),
            head_pitch=rng.uniform(-6.0, 8.0),
            arm_abd=rng.uniform(2.0, 12.0),
            elbow=rng.uniform(5.0, 25.0),
            stance=rng.uniform(1.0, 6.0),
            sway=rng.uniform(0.5, 1.5))


@dataclass
class ActionContext:
    """Timing and randomness of one performance.

    The random choices of an action (:meth:`uniform`, :meth:`chance`) mix
    the performance's own randomness with the subject's *habits* for this
    action, so that a subject performs an action in a recognisable way
    across repetitions, and differently from other subjects.

    Args:
        t (np.ndarray): Time of each frame in seconds, shape (T, ).
        start (float): Start of the active phase, seconds.
        duration (float): Length of the active phase, seconds.
        amp (float): Amplitude factor of this repetition.
        rng (np.random.Generator): Random generator of this performance.
        habit_rng (np.random.Generator, optional): Random generator of the
            subject's habits for this action. Defaults to None (no habit).
        habit (float): Weight of the habits in [0, 1]. Defaults to 0.75.
        warp (float): Tempo irregularity in (-1, 1); the phase runs
            faster in one half of the action and slower in the other.
            Defaults to 0.
    """

    t: np.ndarray
    start: float
    duration: float
    amp: float
    rng: np.random.Generator
    habit_rng: Optional[np.random.Generator] = None
    habit: float = 0.75
    warp: float = 0.0
    u: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        # normalised phase, 0 at the start and 1 at the end, (T, )
        s = (self.t - self.start) / self.duration
        inside = np.clip(s, 0.0, 1.0)
        self.u = s + self.warp * np.sin(2 * np.pi * inside) / (2 * np.pi)

    @property
    def num_frames(self) -> int:
        return len(self.t)

    def uniform(self, low: float, high: float) -> float:
        """Random value in [low, high] (habit and repetition mixed)."""
        r = self.rng.random()
        if self.habit_rng is not None:
            r = self.habit * self.habit_rng.random() + (1 - self.habit) * r
        return float(low + (high - low) * r)

    def chance(self, prob: float) -> bool:
        """Random event of probability ``prob`` (usually the habit's)."""
        r = self.rng.random()
        if self.habit_rng is not None:
            habit = self.habit_rng.random()
            if self.rng.random() < self.habit + 0.5 * (1 - self.habit):
                r = habit
        return bool(r < prob)


@dataclass
class Contact:
    """How two performers are placed relative to each other.

    The point of B (mean of ``b_joints``) is put ``gap`` metres in front
    of the point of A (mean of ``a_joints``) at phase ``u``. With
    ``align`` the two points are also aligned sideways, otherwise the
    pelvises are ``lateral`` metres apart sideways. ``adjust`` names a
    channel of A (``'a_...'``) or B (``'b_...'``) and its time profile;
    the channel is corrected so that the two points are at the same
    height at phase ``u`` (e.g. the shoulder flexion of a handshake).
    """

    u: float
    a_joints: Tuple[int, ...]
    b_joints: Tuple[int, ...]
    gap: float
    align: bool = True
    lateral: float = 0.0
    adjust: Optional[Tuple[str, np.ndarray]] = None


@dataclass
class Performer:
    """One animated person of a clip.

    Args:
        joints (np.ndarray): Joint positions in the person's own frame
            (x left, y up, z forward at the start), shape (T, 25, 3).
        x (float): World x position of the person's frame origin.
        z (float): World z position of the person's frame origin.
        yaw (float): Heading of the person in the world, degrees.
    """

    joints: np.ndarray
    x: float = 0.0
    z: float = 0.0
    yaw: float = 0.0

    def world(self) -> np.ndarray:
        """Joint positions in the world frame, shape (T, 25, 3)."""
        rot = rot_y(np.deg2rad(self.yaw))
        return self.joints @ rot.T + np.array([self.x, 0.0, self.z])


# --------------------------------------------------------------------------
# Time profiles
# --------------------------------------------------------------------------
def min_jerk(s: np.ndarray) -> np.ndarray:
    """Minimum-jerk profile from 0 to 1 for ``s`` in [0, 1] (clipped)."""
    s = np.clip(s, 0.0, 1.0)
    return s**3 * (10.0 - 15.0 * s + 6.0 * s**2)


def ramp(u: np.ndarray, u0: float, u1: float) -> np.ndarray:
    """Smooth step from 0 at ``u0`` to 1 at ``u1``."""
    return min_jerk((u - u0) / max(u1 - u0, 1e-6))


def bump(u: np.ndarray, u0: float, u1: float, u2: float,
         u3: float) -> np.ndarray:
    """Smooth rise over [u0, u1], hold, smooth fall over [u2, u3]."""
    return ramp(u, u0, u1) - ramp(u, u2, u3)


def keys(u: np.ndarray, points: Sequence[Tuple[float, float]]) -> np.ndarray:
    """Minimum-jerk interpolation through key frames.

    Args:
        u (np.ndarray): Phase of each frame, shape (T, ).
        points (Sequence[tuple]): ``(phase, value)`` pairs in time order.
            The first value holds before and the last after.

    Returns:
        np.ndarray: Interpolated values, shape (T, ).
    """
    out = np.full(u.shape, float(points[0][1]))
    for (u0, v0), (u1, v1) in zip(points[:-1], points[1:]):
        out += (v1 - v0) * ramp(u, u0, u1)
    return out


def oscillation(u: np.ndarray,
                u0: float,
                u1: float,
                cycles: float,
                phase: float = 0.0) -> np.ndarray:
    """Sine with ``cycles`` periods over [u0, u1], zero outside.

    The ends are tapered so the oscillation starts and stops smoothly.
    """
    s = (u - u0) / max(u1 - u0, 1e-6)
    env = np.clip(np.minimum(s, 1.0 - s) * 8.0, 0.0, 1.0)
    return np.sin(2.0 * np.pi * cycles * s + phase) * min_jerk(env)


def smooth_noise(rng: np.random.Generator, num_frames: int,
                 cutoff_frames: float) -> np.ndarray:
    """Unit-variance random signal varying over ``cutoff_frames`` frames."""
    num_knots = int(np.ceil(num_frames / cutoff_frames)) + 2
    knots = rng.normal(0.0, 1.0, num_knots)
    x = np.arange(num_frames) / cutoff_frames
    idx = np.floor(x).astype(int)
    frac = min_jerk(x - idx)
    return knots[idx] * (1.0 - frac) + knots[idx + 1] * frac


def ballistic(u: np.ndarray, u0: float, u1: float,
              duration: float) -> np.ndarray:
    """Height of a free flight between phases ``u0`` and ``u1`` (metres).

    Args:
        u (np.ndarray): Phase of each frame, shape (T, ).
        u0 (float): Take-off phase.
        u1 (float): Landing phase.
        duration (float): Length of the active phase in seconds, used to
            get the flight time and hence the height (g = 9.81).

    Returns:
        np.ndarray: Height above the floor, shape (T, ).
    """
    flight = (u1 - u0) * duration
    s = np.clip((u - u0) / max(u1 - u0, 1e-6), 0.0, 1.0)
    return 0.5 * 9.81 * flight**2 * s * (1.0 - s)


# --------------------------------------------------------------------------
# Channels -> rotations -> positions
# --------------------------------------------------------------------------
def _trunk_rot(q: Channels, name: str) -> np.ndarray:
    rad = np.deg2rad
    return (rot_y(rad(q[name + '_twist'])) @ rot_x(rad(q[name + '_bend']))
            @ rot_z(rad(-q[name + '_side'])))


def _swing_rot(q: Channels, prefix: str) -> np.ndarray:
    flex = np.deg2rad(q[prefix + '_flex'])
    abd = np.deg2rad(q[prefix + '_abd'])
    rotvec = np.stack([-flex, np.zeros_like(flex), abd], axis=-1)
    twist = rot_y(np.deg2rad(-q[prefix + '_rot']))
    return rotvec_to_matrix(rotvec) @ twist


def channels_to_rotations(q: Channels) -> Tuple[np.ndarray, np.ndarray]:
    """Convert channels to joint rotations.

    Args:
        q (Channels): The motion channels.

    Returns:
        tuple[np.ndarray]: Local rotations of shape (T, 25, 3, 3) and the
        pelvis orientation of shape (T, 3, 3).
    """
    rad = np.deg2rad
    num_frames = q.num_frames
    local = np.empty((num_frames, NUM_JOINTS, 3, 3))
    local[:] = np.eye(3)
    local[:, 0] = _trunk_rot(q, 'lumbar')
    local[:, 1] = _trunk_rot(q, 'chest')
    local[:, 2] = _trunk_rot(q, 'neck')
    for side, ids in _SIDE_JOINTS.items():
        s = side + '_'
        rots = {
            'sh':
            _swing_rot(q, s + 'sh'),
            'elbow':
            rot_x(rad(-q[s + 'elbow'])),
            'wrist':
            rot_z(rad(-q[s + 'wrist_flex'])) @ rot_x(rad(-q[s + 'wrist_dev'])),
            'hand':
            rot_z(rad(-q[s + 'fingers'])),
            'hip':
            _swing_rot(q, s + 'hip'),
            'knee':
            rot_x(rad(q[s + 'knee'])),
            'ankle':
            rot_x(rad(-q[s + 'ankle'])),
        }
        for name, rot in rots.items():
            local[:, ids[name]] = rot * _MIRROR_SIGNS if side == 'r' else rot
    root_rot = (
        rot_y(rad(q['root_yaw'])) @ rot_x(rad(q['root_pitch'])) @ rot_z(
            rad(-q['root_roll'])))
    return local, root_rot


def animate(q: Channels, body: SubjectBody) -> np.ndarray:
    """Joint positions of a motion in the person's own frame.

    Forward kinematics, then per frame the lowest contact joint is put on
    the floor (``y = 0``) and the supporting foot is kept in place
    horizontally (the supporting foot is the lower one, or the one given
    by the ``l_support``/``r_support`` channels of a gait); finally
    ``root_x``/``root_z`` and ``lift`` are added.

    Args:
        q (Channels): The motion channels.
        body (SubjectBody): The body of the performer.

    Returns:
        np.ndarray: Joint positions of shape (T, 25, 3) (x left, y up,
        z forward of the initial facing).
    """
    local, root_rot = channels_to_rotations(q)
    num_frames = q.num_frames
    pos = forward_kinematics(body.offsets, local, np.zeros((num_frames, 3)),
                             root_rot)  # (T, 25, 3)
    floor = pos[:, _CONTACT_JOINTS, 1].min(axis=1)
    pos[..., 1] -= floor[:, None]

    # keep the foot on the floor where it is (weights by foot height)
    feet = pos[:, _FEET]  # (T, 2, 3)
    contact = np.clip(1.0 - feet[..., 1] / 0.05, 0.0, 1.0)  # (T, 2)
    # during a gait the supporting leg (from add_gait) takes the weight
    support = np.stack([q['l_support'], q['r_support']], axis=1)
    contact = contact * (support + 1e-3)
    total = contact.sum(axis=1, keepdims=True)
    weight = contact / np.maximum(total, 1e-6)
    weight = 0.5 * (weight[1:] + weight[:-1])  # (T - 1, 2)
    step = np.diff(feet[..., [0, 2]], axis=0)  # (T - 1, 2, 2)
    slide = (weight[..., None] * step).sum(axis=1)  # (T - 1, 2)
    shift = np.zeros((num_frames, 2))
    shift[1:] = -np.cumsum(slide, axis=0)

    pos[..., 0] += (shift[:, 0] + q['root_x'])[:, None]
    pos[..., 2] += (shift[:, 1] + q['root_z'])[:, None]
    pos[..., 1] += q['lift'][:, None]
    return pos


# --------------------------------------------------------------------------
# Shared building blocks
# --------------------------------------------------------------------------
def add_posture(q: Channels, style: SubjectStyle) -> None:
    """Add the subject's constant standing posture."""
    q['chest_bend'] += style.stoop
    q['neck_bend'] += style.head_pitch - 0.6 * style.stoop
    for s in 'lr':
        q[s + '_sh_abd'] += style.arm_abd
        q[s + '_sh_rot'] += 8.0
        q[s + '_elbow'] += style.elbow
        q[s + '_fingers'] += 15.0
        q[s + '_hip_abd'] += style.stance
        q[s + '_knee'] += 3.0


def add_idle(q: Channels, c: ActionContext, style: SubjectStyle) -> None:
    """Add slow postural sway and small head/arm movements."""
    n, rng = c.num_frames, c.rng
    amp = style.sway
    q['root_roll'] += 0.8 * amp * smooth_noise(rng, n, 40)
    q['root_pitch'] += 0.6 * amp * smooth_noise(rng, n, 45)
    q['root_x'] += 0.01 * amp * smooth_noise(rng, n, 50)
    q['lumbar_side'] -= 0.6 * amp * smooth_noise(rng, n, 40)
    q['neck_twist'] += 4.0 * amp * smooth_noise(rng, n, 35)
    q['neck_bend'] += 2.0 * amp * smooth_noise(rng, n, 35)
    q['root_yaw'] += 8.0 * smooth_noise(rng, n, 60)  # heading drift
    for s in 'lr':
        q[s + '_sh_flex'] += 4.0 * amp * smooth_noise(rng, n, 25)
        q[s + '_sh_abd'] += 3.0 * amp * smooth_noise(rng, n, 25)
        q[s + '_sh_rot'] += 5.0 * amp * smooth_noise(rng, n, 25)
        q[s + '_elbow'] += 6.0 * amp * smooth_noise(rng, n, 25)
        q[s + '_wrist_flex'] += 8.0 * smooth_noise(rng, n, 20)


# Poses of an arm that the action leaves free: (probability, arm pose).
_FREE_ARM_POSES = (
    (0.4, dict()),  # hanging
    (0.15, dict(flex=-10, abd=40, rot=60, elbow=95)),  # hand on the hip
    (0.15, dict(flex=-8, abd=3, elbow=25)),  # hand in the pocket
    (0.15, dict(flex=20, rot=70, elbow=85)),  # hand on the belly
    (0.15, dict(flex=-25, abd=10, rot=70, elbow=70)),  # hand behind back
)


def add_free_arms(q: Channels, c: ActionContext) -> str:
    """Give the arms that the action does not use a habitual pose.

    Args:
        q (Channels): Channels written by the action only.
        c (ActionContext): The performance context.

    Returns:
        str: The free sides, e.g. ``'l'``, ``'lr'`` or ``''``.
    """
    probs = np.cumsum([p for p, _ in _FREE_ARM_POSES])
    free = ''
    for side in 'lr':
        used = any(
            np.any(q[side + key] != 0.0)
            for key in ('_sh_flex', '_sh_abd', '_sh_rot', '_elbow'))
        pick = c.uniform(0.0, probs[-1])
        if used:
            continue
        free += side
        pose = _FREE_ARM_POSES[int(np.searchsorted(probs, pick))][1]
        weight = np.ones(c.num_frames)
        if c.chance(0.3):  # takes the pose, or leaves it, during the clip
            at = c.rng.uniform(-0.2, 1.0)
            weight = ramp(c.u, at, at + 0.2)
            if c.rng.random() < 0.5:
                weight = 1.0 - weight
        arm(q, side, weight, **pose)
    return free


# Short arm gestures people make unasked: (name, arm pose).
_ARM_GESTURES = (
    ('scratch head', dict(flex=100, abd=40, rot=-10, elbow=130)),
    ('touch face', dict(flex=60, rot=20, elbow=125, wrist=-10)),
    ('touch chest', dict(flex=30, abd=-10, rot=60, elbow=100)),
    ('adjust clothes', dict(flex=15, rot=50, elbow=60)),
)


def add_distractor(q: Channels,
                   c: ActionContext,
                   free: str,
                   prob: float = 0.5) -> None:
    """Maybe add a short unrelated movement (fidgeting) to the motion.

    Args:
        q (Channels): The channels to write.
        c (ActionContext): The performance context.
        free (str): Arms the action leaves free (``'l'``, ``'lr'``...).
        prob (float): Probability of a distractor. Defaults to 0.5.
    """
    if c.rng.random() >= prob:
        return
    length = c.rng.uniform(0.5, 1.0) / c.duration
    start = c.rng.uniform(-0.3, 1.0)
    w = bump(c.u, start, start + 0.3 * length, start + 0.7 * length,
             start + length)
    kind = c.rng.integers(0, 3 + (len(_ARM_GESTURES) if free else 0))
    if kind == 0:  # look around
        q['neck_twist'] += c.rng.choice([-1.0, 1.0]) * c.rng.uniform(20,
                                                                     50) * w
    elif kind == 1:  # shift the weight to one leg
        side = c.rng.choice([-1.0, 1.0])
        q['root_roll'] += side * c.rng.uniform(2, 5) * w
        q['root_x'] += side * c.rng.uniform(0.03, 0.07) * w
    elif kind == 2:  # a small step forward or back
        u0 = float(np.clip(start, 0.0, 0.8))
        add_gait(q, c, u0, min(u0 + length, 1.0), 2.0,
                 c.rng.choice([-1.0, 1.0]) * c.rng.uniform(4, 10))
    else:
        side = free[c.rng.integers(0, len(free))]
        arm(q, side, w, **_ARM_GESTURES[kind - 3][1])
        if kind == 3:
            q[side + '_sh_rot'] += 8.0 * oscillation(c.u, start + 0.3 * length,
                                                     start + 0.7 * length, 3.0)


def hinge(q: Channels, angle: np.ndarray) -> None:
    """Bend the trunk forward at the hips, legs staying vertical."""
    q['root_pitch'] += angle
    q['l_hip_flex'] += angle
    q['r_hip_flex'] += angle


def crouch(q: Channels,
           knee: np.ndarray,
           hip: np.ndarray,
           sides: str = 'lr') -> None:
    """Bend knees and hips (pelvis goes down, feet stay flat)."""
    for s in sides:
        q[s + '_knee'] += knee
        q[s + '_hip_flex'] += hip
        q[s + '_ankle'] += knee - hip


def flat_feet(q: Channels, sides: str = 'lr') -> None:
    """Set the ankles so that the feet stay flat on the floor."""
    for s in sides:
        q[s + '_ankle'] = (
            q[s + '_knee'] - q[s + '_hip_flex'] + q['root_pitch'])


def arm(q: Channels,
        side: str,
        weight: np.ndarray,
        flex: float = 0.0,
        abd: float = 0.0,
        rot: float = 0.0,
        elbow: float = 0.0,
        wrist: float = 0.0) -> None:
    """Add an arm pose scaled by ``weight`` (a (T, ) profile)."""
    s = side + '_'
    q[s + 'sh_flex'] += flex * weight
    q[s + 'sh_abd'] += abd * weight
    q[s + 'sh_rot'] += rot * weight
    q[s + 'elbow'] += elbow * weight
    q[s + 'wrist_flex'] += wrist * weight


def add_gait(q: Channels,
             c: ActionContext,
             u0: float,
             u1: float,
             cadence: float,
             hip_amp: float,
             arm_amp: float = 15.0,
             knee_amp: float = 55.0,
             right_first: bool = False,
             jitter: float = 0.0) -> None:
    """Add a walking gait between phases ``u0`` and ``u1``.

    The body moves because the supporting foot is kept in place by
    :func:`animate`; the step length follows from ``hip_amp``. The
    cadence is adjusted to a whole number of steps so that the feet are
    together again at ``u1``.

    Args:
        q (Channels): The channels to write.
        c (ActionContext): The performance context.
        u0 (float): Phase where the gait starts.
        u1 (float): Phase where it stops.
        cadence (float): Steps per second (approximate).
        hip_amp (float): Hip swing amplitude, degrees (negative walks
            backwards).
        arm_amp (float): Arm swing amplitude, degrees. Defaults to 15.
        knee_amp (float): Knee flexion in swing, degrees. Defaults to 55.
        right_first (bool): Step with the right foot first.
            Defaults to False.
        jitter (float): Irregularity of the step timing (0 = regular).
            Defaults to 0.
    """
    u = c.u
    seconds = (u1 - u0) * c.duration
    steps = max(1, int(round(cadence * seconds)))
    half = (u1 - u0) / steps
    env = bump(u, u0, u0 + 0.5 * half, u1 - 0.5 * half, u1)
    cycle = np.pi * steps * np.clip((u - u0) / (u1 - u0), 0.0, 1.0)
    if right_first:
        cycle = cycle + np.pi
    if jitter > 0.0:
        cycle = cycle + jitter * smooth_noise(c.rng, len(u), 20)
    for side, offset in (('l', 0.0), ('r', np.pi)):
        s = side + '_'
        ph = cycle + offset
        swing = np.clip(np.cos(ph + 0.3), 0.0, None)**2
        hip = env * hip_amp * np.sin(ph)
        # the supporting leg is the one moving against the walk direction
        backward = -np.gradient(hip) * np.sign(hip_amp)
        q[s +
          'support'] += (env > 1e-3) * (0.5 + 0.5 * np.tanh(backward / 0.05))
        q[s + 'hip_flex'] += hip + 4.0 * env
        q[s + 'knee'] += env * (knee_amp * swing + 6.0)
        q[s + 'ankle'] += env * 10.0 * np.clip(np.cos(ph), 0.0, None)
        q[s + 'sh_flex'] -= env * arm_amp * np.sin(ph)
        q[s + 'elbow'] += env * (8.0 + 6.0 * np.sin(ph + np.pi))
    q['chest_twist'] += env * 4.0 * np.sin(cycle)
    q['root_roll'] += env * 2.0 * np.sin(cycle)
    q['root_pitch'] += env * 3.0


# --------------------------------------------------------------------------
# Single-person actions (right-handed; 'r' is the dominant side)
# --------------------------------------------------------------------------
def drink_water(q: Channels, c: ActionContext) -> None:
    """Bring a cup to the mouth, tilt the head back to drink, lower it."""
    u, a = c.u, c.amp
    hold = c.uniform(0.55, 0.75)
    up = bump(u, 0.0, 0.32, hold, 1.0)
    arm(q,
        'r',
        up,
        flex=c.uniform(50, 65) * a,
        abd=c.uniform(-5, 10),
        rot=c.uniform(10, 25),
        elbow=c.uniform(110, 125),
        wrist=-20)
    sip = bump(u, 0.3, 0.4, hold - 0.08, hold + 0.05)
    q['neck_bend'] -= c.uniform(10, 25) * a * sip
    q['r_sh_flex'] += 12.0 * sip
    q['chest_bend'] -= 4.0 * sip
    if c.chance(0.3):  # support the cup with the other hand
        arm(q,
            'l',
            bump(u, 0.05, 0.35, hold, 0.95),
            flex=35,
            abd=-5,
            rot=40,
            elbow=100)


def pickup(q: Channels, c: ActionContext) -> None:
    """Bend down (more from the knees or the back), pick up, stand up."""
    u, a = c.u, c.amp
    knees = c.uniform(0.0, 1.0)
    down = bump(u, 0.02, 0.38, c.uniform(0.45, 0.6), 0.95)
    bend = (55.0 - 25.0 * knees) * a
    hinge(q, bend * down)
    q['lumbar_bend'] += 25.0 * down
    q['chest_bend'] += 10.0 * down
    crouch(q, 110.0 * knees * down, 75.0 * knees * down)
    trunk = bend + 35.0
    grab = ramp(u, 0.5, 0.9)
    arm(q, 'r', down, flex=0.9 * trunk + 10, abd=-8, elbow=15)
    arm(q, 'r', grab, flex=c.uniform(0, 35), rot=30, elbow=c.uniform(20, 80))
    arm(q, 'l', down, flex=c.uniform(0.2, 0.8) * trunk, abd=10, elbow=30)
    q['neck_bend'] -= 15.0 * down


def throw(q: Channels, c: ActionContext) -> None:
    """Overhand throw: wind up, fast release, follow-through."""
    u, a = c.u, c.amp
    rel = c.uniform(0.45, 0.55)
    cock = keys(u, [(0.0, 0), (rel - 0.05, 1), (rel + 0.05, 0)])
    follow = keys(u, [(rel - 0.05, 0), (rel + 0.07, 1), (0.7, 1), (1.0, 0)])
    arm(q,
        'r',
        cock,
        flex=-15,
        abd=c.uniform(80, 100),
        rot=-70,
        elbow=c.uniform(80, 100))
    arm(q,
        'r',
        follow,
        flex=c.uniform(60, 80) * a,
        abd=10,
        rot=20,
        elbow=15,
        wrist=20)
    q['chest_twist'] += -25.0 * a * cock + 20.0 * follow
    q['lumbar_twist'] += -10.0 * cock + 10.0 * follow
    q['lumbar_bend'] += -8.0 * cock + 15.0 * follow
    arm(q, 'l', cock, flex=60, abd=10, elbow=30)
    arm(q, 'l', follow, flex=-20, abd=15, elbow=40)
    step = ramp(u, rel - 0.1, rel + 0.05) - ramp(u, 0.75, 1.0)
    q['l_hip_flex'] += 20.0 * step
    q['r_hip_flex'] -= 10.0 * step
    q['r_knee'] += 15.0 * step


def _seated_profile(c: ActionContext, sit: np.ndarray) -> np.ndarray:
    """Forward lean that peaks while the pelvis travels (sit / stand)."""
    return np.sin(np.pi * np.clip(sit, 0.0, 1.0))


def sitting_down(q: Channels, c: ActionContext) -> None:
    """Lower the pelvis onto a seat behind the subject and stay seated."""
    u, a = c.u, c.amp
    sit = ramp(u, 0.0, c.uniform(0.55, 0.85))
    lean = _seated_profile(c, sit)
    hinge(q, c.uniform(10, 35) * a * lean + c.uniform(0, 20) * sit)
    knee = c.uniform(80, 120)
    crouch(q, knee * sit, c.uniform(0.75, 0.95) * knee * sit)
    arm(q, 'l', lean, flex=c.uniform(0, 40), abd=5, elbow=20)
    arm(q, 'r', lean, flex=c.uniform(0, 40), abd=5, elbow=20)
    hands = ramp(u, 0.6, 0.95) * c.uniform(0.0, 1.0)  # hands on the thighs
    arm(q, 'l', hands, flex=c.uniform(15, 40), elbow=50)
    arm(q, 'r', hands, flex=c.uniform(15, 40), elbow=50)
    q['root_z'] -= 0.05 * sit


def standing_up(q: Channels, c: ActionContext) -> None:
    """Rise from a chair and stand still."""
    u, a = c.u, c.amp
    rise = 1.0 - ramp(u, c.uniform(0.1, 0.25), 1.0)
    lean = bump(u, 0.0, 0.35, 0.5, 0.9)
    hinge(q, c.uniform(25, 40) * a * lean + 8.0 * rise)
    crouch(q, c.uniform(85, 100) * rise, c.uniform(75, 90) * rise)
    hands = 1.0 - ramp(u, 0.0, 0.35)
    arm(q, 'l', hands, flex=25, elbow=50)
    arm(q, 'r', hands, flex=25, elbow=50)
    if c.chance(0.5):  # push off the thighs
        arm(q, 'l', lean, flex=20, abd=5, elbow=10)
        arm(q, 'r', lean, flex=20, abd=5, elbow=10)


def _hands_together(q: Channels, w: np.ndarray, flex: float, elbow: float,
                    rot: float) -> None:
    for s in 'lr':
        arm(q, s, w, flex=flex, abd=-10, rot=rot, elbow=elbow, wrist=10)


def clapping(q: Channels, c: ActionContext) -> None:
    """Clap the hands in front of the body several times."""
    u, a = c.u, c.amp
    up = bump(u, 0.0, 0.15, 0.85, 1.0)
    _hands_together(q, up, c.uniform(25, 55), c.uniform(75, 105),
                    c.uniform(45, 55))
    claps = max(2, round(c.uniform(1.8, 3.2) * 0.7 * c.duration))
    opening = 0.5 * (1.0 - np.cos(2 * np.pi * claps * np.clip(
        (u - 0.15) / 0.7, 0.0, 1.0)))
    size = c.uniform(0.25, 0.9) * a
    for s in 'lr':
        q[s + '_sh_rot'] -= 35.0 * size * opening
        q[s + '_sh_abd'] += 10.0 * size * opening


def rub_two_hands(q: Channels, c: ActionContext) -> None:
    """Rub the palms against each other in front of the body."""
    u, a = c.u, c.amp
    up = bump(u, 0.0, 0.2, 0.85, 1.0)
    _hands_together(q, up, c.uniform(20, 50), c.uniform(75, 100),
                    c.uniform(47, 57))
    rubs = c.uniform(1.8, 3.5) * 0.65 * c.duration
    rub = oscillation(u, 0.2, 0.85, rubs)
    size = c.uniform(3, 9) * a
    q['l_sh_flex'] += size * rub
    q['r_sh_flex'] -= size * rub
    q['l_elbow'] -= 1.5 * size * rub
    q['r_elbow'] += 1.5 * size * rub
    opening = 0.5 * (1.0 - np.cos(2 * np.pi * rubs * np.clip(
        (u - 0.2) / 0.65, 0.0, 1.0)))
    part = c.uniform(0, 12)
    for s in 'lr':  # hands part slightly between strokes
        q[s + '_sh_rot'] -= part * opening * up


def _raise_and_hold(c: ActionContext, hold_prob: float, rise: Tuple[float,
                                                                    float],
                    fall: Tuple[float, float]) -> np.ndarray:
    """Rise profile that is held to the end or lowered at the end."""
    up = ramp(c.u, 0.0, c.uniform(*rise))
    if c.chance(hold_prob):
        return up
    down = c.uniform(*fall)
    return up - ramp(c.u, down, down + 0.2)


def _overhead(q: Channels, w: np.ndarray, elev: float, plane: float,
              elbow: float) -> None:
    """Raise both arms to ``elev`` in the plane ``plane`` (0 = side)."""
    flex = elev * np.sin(np.deg2rad(plane))
    abd = elev * np.cos(np.deg2rad(plane))
    for s in 'lr':
        arm(q, s, w, flex=flex, abd=abd, elbow=elbow)


def cheer_up(q: Channels, c: ActionContext) -> None:
    """Raise both arms (or one) in a V and pump them a few times."""
    u, a = c.u, c.amp
    up = bump(u, 0.0, 0.25, c.uniform(0.75, 0.9), 1.0)
    both = c.chance(0.85)
    elev, plane = c.uniform(130, 170), c.uniform(20, 70)
    elbow = c.uniform(5, 35)
    for s in ('lr' if both else 'r'):
        arm(q,
            s,
            up,
            flex=elev * np.sin(np.deg2rad(plane)),
            abd=elev * np.cos(np.deg2rad(plane)),
            elbow=elbow)
    pump = oscillation(u, 0.2, 0.85, c.uniform(1.5, 4))
    size = c.uniform(5, 25) * a
    for s in 'lr':
        q[s + '_sh_abd'] += size * pump
        q[s + '_elbow'] += 1.5 * size * np.clip(-pump, 0.0, None)
    q['chest_bend'] -= c.uniform(0, 8) * up
    q['neck_bend'] -= c.uniform(0, 12) * up
    if c.chance(0.3):  # bounce on the knees
        crouch(q, 12.0 * np.clip(pump, 0.0, None),
               6.0 * np.clip(pump, 0.0, None))


def hands_up(q: Channels, c: ActionContext) -> None:
    """Raise both hands up and hold them there."""
    u, a = c.u, c.amp
    up = _raise_and_hold(c, 0.4, (0.2, 0.35), (0.7, 0.9))
    _overhead(q, up, c.uniform(140, 175), c.uniform(30, 90), c.uniform(0, 25))
    q['chest_bend'] -= c.uniform(0, 5) * up
    shake = c.uniform(2, 8) * a * oscillation(u, 0.3, 0.9, c.uniform(1, 3))
    for s in 'lr':
        q[s + '_sh_abd'] += shake


def hand_waving(q: Channels, c: ActionContext) -> None:
    """Raise the forearm and wave the hand from side to side."""
    u, a = c.u, c.amp
    up = bump(u, 0.0, c.uniform(0.15, 0.25), c.uniform(0.75, 0.85), 1.0)
    sides = 'lr' if c.chance(0.15) else 'r'
    for s in sides:
        arm(q,
            s,
            up,
            flex=c.uniform(25, 50),
            abd=c.uniform(55, 95),
            rot=-c.uniform(40, 70),
            elbow=c.uniform(70, 120))
    waves = c.uniform(1.5, 3.0) * 0.6 * c.duration
    wave = oscillation(u, 0.2, 0.8, waves)
    size = c.uniform(8, 30) * a
    for s in sides:
        q[s + '_sh_rot'] += size * wave
        q[s + '_elbow'] += 0.4 * size * wave
        q[s + '_wrist_dev'] += 15.0 * wave


def salute(q: Channels, c: ActionContext) -> None:
    """Military salute: hand to the brow, hold, snap down."""
    u, a = c.u, c.amp
    up = bump(u, 0.0, c.uniform(0.12, 0.3), c.uniform(0.6, 0.85), 0.95)
    arm(q,
        'r',
        up,
        flex=c.uniform(30, 55),
        abd=c.uniform(70, 95) * a,
        rot=-c.uniform(40, 65),
        elbow=c.uniform(110, 130),
        wrist=-10)
    q['r_sh_rot'] += c.uniform(0, 4) * oscillation(u, 0.25, 0.7, 2.0)
    q['chest_bend'] -= c.uniform(0, 6) * up
    q['neck_bend'] -= c.uniform(0, 6) * up


def touch_head(q: Channels, c: ActionContext) -> None:
    """Hold the forehead or the side of the head (headache)."""
    u, a = c.u, c.amp
    up = bump(u, 0.0, c.uniform(0.25, 0.4), c.uniform(0.7, 0.9), 1.0)
    sides = 'lr' if c.chance(0.3) else 'r'
    lateral = c.uniform(0, 1)  # forehead (0) ... temple (1)
    for s in sides:
        arm(q,
            s,
            up,
            flex=c.uniform(85, 105) - 40 * lateral,
            abd=(c.uniform(15, 35) + 45 * lateral) * a,
            rot=c.uniform(0, 15) - 45 * lateral,
            elbow=c.uniform(115, 135),
            wrist=-15)
    q['neck_bend'] += c.uniform(0, 25) * up
    q['neck_side'] += c.uniform(-10, 10) * up
    q['chest_bend'] += c.uniform(0, 10) * up
    if c.chance(0.5):  # rub the forehead
        q['r_sh_rot'] += 6.0 * oscillation(u, 0.35, 0.8, c.uniform(1.5, 3.0))


def _kick_support(q: Channels, w: np.ndarray) -> None:
    q['l_knee'] += 10.0 * w
    q['l_ankle'] += 10.0 * w


def kicking(q: Channels, c: ActionContext) -> None:
    """Kick something in front with the dominant foot."""
    u, a = c.u, c.amp
    k = c.uniform(0.4, 0.5)
    high = c.uniform(35, 75) * a
    q['r_hip_flex'] += keys(u, [(0.0, 0), (k - 0.15, -c.uniform(5, 25)),
                                (k, high), (k + 0.1, 0.9 * high), (0.85, 0)])
    q['r_knee'] += keys(u, [(0.0, 0), (k - 0.15, c.uniform(50, 90)), (k, 10),
                            (k + 0.15, 40), (0.85, 0)])
    kick = bump(u, k - 0.15, k, k + 0.1, 0.85)
    q['r_hip_abd'] += c.uniform(-5, 35) * kick
    q['r_ankle'] -= 20.0 * bump(u, k - 0.1, k, k + 0.1, 0.8)
    _kick_support(q, kick)
    q['lumbar_bend'] -= c.uniform(0, 15) * kick
    q['root_roll'] += c.uniform(0, 8) * kick
    arm(q, 'l', kick, flex=c.uniform(0, 40), abd=c.uniform(10, 35), elbow=40)
    arm(q, 'r', kick, flex=-c.uniform(0, 25), abd=c.uniform(10, 35), elbow=20)


def side_kick(q: Channels, c: ActionContext) -> None:
    """Kick sideways: chamber the knee, extend the leg to the side."""
    u, a = c.u, c.amp
    k = c.uniform(0.4, 0.5)
    chamber = bump(u, 0.05, k - 0.1, k - 0.05, k + 0.25)
    ext = bump(u, k - 0.1, k, k + 0.1, 0.85)
    q['r_hip_flex'] += c.uniform(30, 60) * chamber + c.uniform(5, 45) * ext
    q['r_knee'] += c.uniform(60, 100) * chamber * (1.0 - 0.6 * ext)
    q['r_hip_abd'] += c.uniform(25, 70) * a * ext
    q['r_hip_rot'] += c.uniform(0, 30) * ext
    lean = bump(u, 0.05, k, k + 0.1, 0.9) * c.uniform(5, 25) * a
    q['root_roll'] += lean  # lean to the left, the left leg vertical
    q['l_hip_abd'] += 0.9 * lean
    q['lumbar_side'] += 0.5 * lean
    lean = lean / 20.0
    _kick_support(q, lean)
    arm(q, 'l', lean, flex=c.uniform(0, 30), abd=c.uniform(15, 40), elbow=50)
    arm(q, 'r', lean, flex=c.uniform(20, 50), abd=-10, rot=40, elbow=90)


def hopping(q: Channels, c: ActionContext) -> None:
    """Hop several times on one foot, the other leg held up."""
    u, a = c.u, c.amp
    lift_leg = bump(u, 0.0, 0.12, 0.88, 1.0)
    q['l_hip_flex'] += c.uniform(10, 45) * lift_leg
    q['l_knee'] += c.uniform(45, 95) * lift_leg
    hops = max(1, round(c.uniform(1.2, 2.4) * 0.7 * c.duration))
    period = 0.7 / hops
    height = c.uniform(0.3, 0.55)
    for i in range(hops):
        u0 = 0.15 + i * period
        u1 = u0 + height * period
        q['lift'] += a * ballistic(u, u0, u1, c.duration)
        land = bump(u, u1 - 0.02, u1 + 0.2 * period, u1 + 0.2 * period,
                    u0 + period)
        q['r_knee'] += 25.0 * land
        q['r_hip_flex'] += 12.0 * land
        q['r_ankle'] += 15.0 * land
    arm(q,
        'l',
        lift_leg,
        abd=c.uniform(5, 30),
        elbow=c.uniform(10, 70),
        flex=c.uniform(0, 30))
    arm(q,
        'r',
        lift_leg,
        abd=c.uniform(5, 30),
        elbow=c.uniform(10, 70),
        flex=c.uniform(0, 30))


def jump_up(q: Channels, c: ActionContext) -> None:
    """Counter-movement jump with both feet (one to three times)."""
    u, a = c.u, c.amp
    jumps = 1 if c.chance(0.6) else (2 if c.chance(0.6) else 3)
    span = 0.9 / jumps
    arms = c.uniform(0.2, 1.0)
    for i in range(jumps):
        u0 = 0.05 + i * span
        take = u0 + 0.4 * span
        flight = c.uniform(0.22, 0.42) / c.duration
        land = take + flight
        dip = bump(u, u0, take - 0.12 * span, take - 0.12 * span, take)
        dip2 = bump(u, land, land + 0.08 * span, land + 0.1 * span, u0 + span)
        crouch(q,
               c.uniform(35, 75) * a * dip + 45.0 * dip2,
               c.uniform(25, 45) * a * dip + 30.0 * dip2)
        hinge(q, 20.0 * dip + 12.0 * dip2)
        q['lift'] += ballistic(u, take, land, c.duration)
        arms_up = bump(u, take - 0.12 * span, take, land - 0.05, land + 0.1)
        swing = -35.0 * dip + 150.0 * arms_up
        for s in 'lr':
            q[s + '_sh_flex'] += a * arms * swing
            q[s +
              '_ankle'] -= 25.0 * bump(u, take - 0.03, take, land - 0.03, land)


def pointing(q: Channels, c: ActionContext) -> None:
    """Point at something with the straight arm, head turned to it."""
    elev = c.uniform(50, 120)
    plane = np.deg2rad(c.uniform(30, 110))
    up = _raise_and_hold(c, 0.4, (0.2, 0.35), (0.7, 0.9))
    arm(q,
        'r',
        up,
        flex=elev * np.sin(plane),
        abd=elev * np.cos(plane),
        rot=-10,
        elbow=c.uniform(0, 30) - 10,
        wrist=-10)
    q['r_fingers'] -= 15.0 * up
    q['neck_twist'] -= np.rad2deg(0.5 * (np.pi / 2 - plane)) * up
    q['chest_twist'] -= c.uniform(0, 10) * up


def nod_bow(q: Channels, c: ActionContext) -> None:
    """Bow from the hips, or nod the head (one or two nods)."""
    u, a = c.u, c.amp
    if c.chance(0.6):
        down = bump(u, 0.05, 0.4, c.uniform(0.45, 0.7), 0.95)
        bend = c.uniform(15, 50) * a
        hinge(q, bend * down)
        q['lumbar_bend'] += c.uniform(0, 15) * down
        q['neck_bend'] += c.uniform(5, 25) * down
        for s in 'lr':
            q[s + '_sh_flex'] += c.uniform(0.3, 0.9) * (bend + 10.0) * down
    else:
        nods = 1 if c.chance(0.5) else 2
        nod = np.clip(
            oscillation(u, 0.0, 1.0, nods, -np.pi / 2) + 1.0, 0.0, None)
        nod = 0.5 * nod * bump(u, 0.0, 0.1, 0.9, 1.0)
        q['neck_bend'] += c.uniform(20, 40) * a * nod
        q['chest_bend'] += c.uniform(0, 12) * nod


def cross_hands_stop(q: Channels, c: ActionContext) -> None:
    """Cross the forearms in front of the body (an X, 'stop')."""
    u, a = c.u, c.amp
    up = bump(u, 0.0, 0.25, c.uniform(0.6, 0.9), 1.0)
    flex = c.uniform(35, 65) * a
    for s, d in (('l', 5.0), ('r', -5.0)):
        arm(q,
            s,
            up,
            flex=flex + d,
            abd=-c.uniform(28, 40),
            rot=c.uniform(25, 45),
            elbow=c.uniform(55, 85),
            wrist=-20)
    q['r_fingers'] -= 10.0 * up
    q['l_fingers'] -= 10.0 * up


def cross_arms(q: Channels, c: ActionContext) -> None:
    """Fold the arms across the chest and keep them there."""
    up = _raise_and_hold(c, 0.6, (0.2, 0.4), (0.7, 0.95))
    for s, d in (('l', 3.0), ('r', -3.0)):
        arm(q,
            s,
            up,
            flex=c.uniform(10, 35) + d,
            abd=-c.uniform(5, 20),
            rot=c.uniform(55, 75),
            elbow=c.uniform(80, 100))
    q['chest_bend'] -= c.uniform(0, 5) * up
    q['neck_bend'] -= 2.0 * up


def staggering(q: Channels, c: ActionContext) -> None:
    """Walk unsteadily with swaying trunk and arms out for balance."""
    u, a, n = c.u, c.amp, c.num_frames
    add_gait(
        q,
        c,
        0.0,
        1.0,
        c.uniform(1.2, 1.8),
        c.uniform(10, 16),
        arm_amp=5.0,
        jitter=c.uniform(0.5, 1.2))
    env = bump(u, 0.0, 0.15, 0.85, 1.0)
    sway = smooth_noise(c.rng, n, c.uniform(12, 20))
    q['root_roll'] += c.uniform(6, 12) * a * sway * env
    q['root_x'] -= c.uniform(0.05, 0.15) * sway * env
    q['lumbar_side'] -= 8.0 * smooth_noise(c.rng, n, 15) * env
    q['chest_bend'] += c.uniform(0, 15) * env
    q['neck_side'] += 10.0 * smooth_noise(c.rng, n, 12) * env
    q['neck_bend'] += 8.0 * smooth_noise(c.rng, n, 12) * env
    for s in 'lr':
        q[s + '_sh_abd'] += (c.uniform(15, 35) +
                             10.0 * smooth_noise(c.rng, n, 10)) * env
        q[s + '_elbow'] += c.uniform(10, 40) * env


def falling(q: Channels, c: ActionContext) -> None:
    """Lose balance and fall down (forwards, backwards or sideways)."""
    u, n = c.u, c.num_frames
    f0 = c.uniform(0.2, 0.55)
    f1 = f0 + c.uniform(0.25, 0.4)
    s = np.clip((u - f0) / (f1 - f0), 0.0, 1.0)
    fall = s**2 * (3.0 - 2.0 * s) * np.clip(s * 1.6, 0.0, 1.0)  # accelerates
    wobble = bump(u, 0.0, f0 * 0.7, f0, f1) * smooth_noise(c.rng, n, 12)
    q['root_roll'] += c.uniform(3, 12) * wobble
    q['lumbar_side'] += 5.0 * wobble
    if c.chance(0.4):  # a few unsteady steps first
        add_gait(
            q,
            c,
            0.0,
            f0,
            c.uniform(1.2, 1.8),
            c.uniform(6, 14),
            arm_amp=5.0,
            jitter=0.8)
    to_knees = c.chance(0.25)
    kind = c.rng.choice(['forward', 'backward', 'side'], p=[0.5, 0.25, 0.25])
    knees = c.uniform(20, 70)
    if to_knees:
        crouch(q, 100.0 * fall, 10.0 * fall)
        q['root_pitch'] += c.uniform(10, 40) * fall
        kind = 'knees'
    else:
        crouch(q, knees * fall, 0.6 * knees * fall)
    if kind in ('forward', 'knees'):
        q['root_pitch'] += c.uniform(75, 90) * fall * (kind == 'forward')
        for s in 'lr':
            arm(q,
                s,
                ramp(u, f0, f1),
                flex=c.uniform(60, 150),
                abd=15,
                elbow=c.uniform(10, 40))
        q['neck_bend'] -= 25.0 * fall
    elif kind == 'backward':
        q['root_pitch'] -= c.uniform(70, 85) * fall
        hinge(q, 30.0 * fall)
        for s in 'lr':
            arm(q,
                s,
                ramp(u, f0, f1),
                flex=c.uniform(-10, 40),
                abd=c.uniform(40, 80),
                elbow=30)
        q['neck_bend'] += 30.0 * fall
    else:
        q['root_roll'] -= c.uniform(70, 85) * fall  # to the right
        hinge(q, 20.0 * fall)
        arm(q, 'r', ramp(u, f0, f1), flex=40, abd=60, elbow=20)
        arm(q, 'l', ramp(u, f0, f1), flex=60, abd=20, elbow=60)
        q['neck_side'] += 20.0 * fall


def squat_down(q: Channels, c: ActionContext) -> None:
    """Squat down with the heels down and stay low."""
    u, a = c.u, c.amp
    down = ramp(u, 0.0, c.uniform(0.45, 0.75))
    if c.chance(0.25):
        down = down - ramp(u, 0.8, 1.0)  # and back up
    knee = c.uniform(85, 140) * a
    crouch(q, knee * down, c.uniform(0.65, 0.9) * knee * down)
    hinge(q, c.uniform(5, 35) * down)
    if c.chance(0.5):  # arms forward for balance
        for s in 'lr':
            arm(q, s, down, flex=c.uniform(30, 90), abd=-5, elbow=15)
    else:  # hands on the knees
        for s in 'lr':
            arm(q, s, down, flex=c.uniform(15, 45), abd=5, elbow=40)
    q['neck_bend'] -= c.uniform(0, 12) * down
    q['l_hip_abd'] += c.uniform(0, 12) * down
    q['r_hip_abd'] += c.uniform(0, 12) * down


def arm_circles(q: Channels, c: ActionContext) -> None:
    """Arms out to the sides (or to the front) making circles."""
    u, a = c.u, c.amp
    up = bump(u, 0.0, 0.15, 0.85, 1.0)
    base, plane = c.uniform(65, 95), np.deg2rad(c.uniform(0, 45))
    for s in 'lr':
        arm(q,
            s,
            up,
            abd=base * np.cos(plane),
            flex=base * np.sin(plane),
            elbow=c.uniform(0, 20))
    cycles = c.uniform(1.0, 2.0) * 0.7 * c.duration
    radius = c.uniform(10, 40) * a
    direction = 1.0 if c.chance(0.5) else -1.0
    sin = oscillation(u, 0.15, 0.85, cycles)
    cos = oscillation(u, 0.15, 0.85, cycles, np.pi / 2)
    for s in 'lr':
        q[s + '_sh_flex'] += direction * radius * sin
        q[s + '_sh_abd'] += radius * cos


def arm_swings(q: Channels, c: ActionContext) -> None:
    """Swing the arms: forwards/backwards, or open/close at the chest."""
    u, a = c.u, c.amp
    cycles = c.uniform(0.8, 1.6) * 0.75 * c.duration
    if c.chance(0.5):
        amp = c.uniform(30, 70) * a
        alternate = c.chance(0.4)
        for s, sign in (('l', 1.0), ('r', -1.0 if alternate else 1.0)):
            q[s + '_sh_flex'] += sign * amp * oscillation(
                u, 0.1, 0.9, cycles) + 15.0 * bump(u, 0, 0.1, 0.9, 1)
        bounce = np.abs(oscillation(u, 0.1, 0.9, cycles))
        crouch(q, 10.0 * bounce, 5.0 * bounce)
    else:
        open_close = 0.5 + 0.5 * oscillation(u, 0.1, 0.9, cycles)
        angle = np.deg2rad(c.uniform(70, 115) * open_close)  # 0 = side
        elev = c.uniform(65, 95) * bump(u, 0.0, 0.12, 0.88, 1.0)
        for s in 'lr':
            q[s + '_sh_abd'] += elev * np.cos(angle)
            q[s + '_sh_flex'] += elev * np.sin(angle)
            q[s + '_elbow'] += c.uniform(0, 25) * bump(u, 0, 0.12, 0.88, 1)


def running_on_spot(q: Channels, c: ActionContext) -> None:
    """Run on the spot with knees up and bent arms."""
    u, a = c.u, c.amp
    env = bump(u, 0.0, 0.1, 0.9, 1.0)
    cadence = c.uniform(2.4, 3.2)
    cycle = 2 * np.pi * 0.5 * cadence * np.clip(u, 0, None) * c.duration
    knee_up = c.uniform(45, 75) * a
    for side, offset in (('l', 0.0), ('r', np.pi)):
        lift = np.clip(np.sin(cycle + offset), 0.0, None) * env
        q[side + '_hip_flex'] += knee_up * lift
        q[side + '_knee'] += (knee_up + 30.0) * lift
        q[side + '_ankle'] -= 15.0 * lift
        q[side + '_sh_flex'] += 30.0 * np.sin(cycle + offset + np.pi) * env
        q[side + '_elbow'] += 80.0 * env
    q['lift'] += c.uniform(0.01, 0.04) * np.abs(np.cos(cycle))**4 * env
    q['root_pitch'] += 6.0 * env


# --------------------------------------------------------------------------
# Two-person actions (A acts, B is the partner)
# --------------------------------------------------------------------------
def _react(q: Channels, c: ActionContext, uc: float, push: float, bend: float,
           head: float) -> None:
    """Partner's reaction to a hit or push at phase ``uc``."""
    u = c.u
    delay = c.uniform(2, 5) / FPS / c.duration
    hit = keys(u, [(uc + delay, 0), (uc + delay + 0.08, 1), (0.85, 0.3),
                   (1.0, 0.2)])
    q['root_z'] -= push * ramp(u, uc + delay, uc + delay + 0.3)
    q['chest_bend'] += bend * hit
    q['neck_bend'] += head * hit
    q['root_pitch'] -= 0.5 * abs(head) * hit
    for s in 'lr':
        arm(q, s, hit, flex=c.uniform(20, 45), abd=10, elbow=60)
    if push > 0.15:  # step back
        add_gait(
            q,
            c,
            uc + delay,
            min(uc + delay + 0.45, 1.0),
            2.5,
            -8.0,
            arm_amp=0.0)


def punching(qa: Channels, qb: Channels, c: ActionContext) -> Contact:
    """Punch (or slap) the partner's head or body; the partner reacts."""
    u, a = c.u, c.amp
    uc = c.uniform(0.4, 0.5)
    guard = bump(u, 0.0, uc - 0.2, 0.75, 1.0) * c.uniform(0.3, 1.0)
    for s in 'lr':
        arm(qa, s, guard, flex=40, abd=10, rot=30, elbow=110)
    head = c.chance(0.5)
    if c.chance(0.7):  # punch
        strike = bump(u, uc - 0.1, uc, uc + 0.05, uc + 0.2)
        arm(qa,
            'r',
            strike,
            flex=c.uniform(45, 60) * a,
            abd=-20,
            rot=-30,
            elbow=-100)
        qa['chest_twist'] += c.uniform(10, 25) * strike
        qa['root_z'] += c.uniform(0.0, 0.15) * ramp(u, uc - 0.15, uc)
        if c.chance(0.25):  # a left jab first
            jab = bump(u, uc - 0.3, uc - 0.22, uc - 0.2, uc - 0.1)
            arm(qa, 'l', jab, flex=45, abd=-15, rot=-30, elbow=-90)
    else:  # slap from the side
        strike = bump(u, uc - 0.15, uc - 0.08, uc - 0.08, uc + 0.15)
        sweep = ramp(u, uc - 0.08, uc + 0.05)
        arm(qa, 'r', strike, flex=10, abd=60, rot=-30, elbow=-90)
        arm(qa, 'r', sweep * strike, flex=60, abd=-80)
        qa['chest_twist'] += 25.0 * sweep * strike
        head = True
    hit_head = 1.0 if head else 0.0
    _react(qb, c, uc, c.uniform(0.03, 0.25), 15.0 * (1.0 - hit_head),
           -20.0 * hit_head)
    target = (3, ) if head else (20, 1)
    return Contact(uc, (11, ), target, 0.08, adjust=('a_r_sh_flex', strike))


def pushing(qa: Channels, qb: Channels, c: ActionContext) -> Contact:
    """Push the partner's chest (mostly with both hands)."""
    u, a = c.u, c.amp
    uc = c.uniform(0.35, 0.45)
    reach = bump(u, 0.0, uc - 0.05, uc + 0.2, 0.9)
    extend = bump(u, uc - 0.05, uc + 0.15, uc + 0.25, 0.9)
    sides = 'lr' if c.chance(0.75) else 'r'
    for s in sides:
        arm(qa,
            s,
            reach,
            flex=c.uniform(50, 70),
            abd=-12,
            rot=20,
            elbow=90,
            wrist=-40)
        arm(qa, s, extend, flex=20, elbow=-75)
    hinge(qa, c.uniform(0, 15) * extend * a)
    qa['root_z'] += c.uniform(0.0, 0.25) * ramp(u, uc - 0.1, uc + 0.25)
    _react(qb, c, uc, c.uniform(0.1, 0.45) * a, -10.0, 8.0)
    hands = (7, 11) if sides == 'lr' else (11, )
    return Contact(uc, hands, (20, 1), 0.12)


def hugging(qa: Channels, qb: Channels, c: ActionContext) -> Contact:
    """Step in and wrap the arms around each other."""
    u = c.u
    uc = c.uniform(0.4, 0.5)
    release = 10.0 if c.chance(0.5) else c.uniform(0.8, 0.9)
    wrap = bump(u, 0.1, uc, release, release + 0.15)
    one_arm = c.chance(0.25)
    for q, high in ((qa, True), (qb, False)):
        add_gait(q, c, 0.0, uc - 0.05, c.uniform(1.5, 2.0), c.uniform(4, 10))
        for s in ('r' if one_arm else 'lr'):
            arm(q,
                s,
                wrap,
                flex=c.uniform(70, 95) if high else c.uniform(50, 75),
                abd=c.uniform(5, 25),
                rot=30,
                elbow=c.uniform(70, 100),
                wrist=20)
        q['chest_bend'] += c.uniform(0, 10) * wrap
        q['neck_twist'] += (25.0 if high else -25.0) * wrap
        if c.chance(0.3):  # pat the back
            q['r_elbow'] += 12.0 * np.abs(
                oscillation(u, uc, min(release, 1.0), 3))
    gap = c.uniform(0.28, 0.34) + (0.1 if one_arm else 0.0)
    return Contact(
        uc + 0.05, (20, ), (20, ),
        gap,
        align=False,
        lateral=c.uniform(-0.08, 0.08) + (0.15 if one_arm else 0))


def handshaking(qa: Channels, qb: Channels, c: ActionContext) -> Contact:
    """Step closer, shake right hands, let go."""
    u = c.u
    uc = c.uniform(0.3, 0.4)
    end = c.uniform(0.7, 0.9)
    shakes = c.uniform(1.5, 3.0) * (end - uc) * c.duration
    shake = oscillation(u, uc, end, shakes)
    size = c.uniform(2, 8)
    for q in (qa, qb):
        add_gait(q, c, 0.0, uc, c.uniform(1.5, 2.0), c.uniform(0, 10))
        reach = bump(u, 0.0, uc, end, 1.0)
        arm(q,
            'r',
            reach,
            flex=c.uniform(30, 55),
            abd=-c.uniform(5, 15),
            rot=15,
            elbow=c.uniform(40, 65),
            wrist=-10)
        q['r_sh_flex'] += size * shake
        q['r_elbow'] += 2.0 * size * shake
        q['chest_bend'] += c.uniform(0, 10) * reach
    if c.chance(0.25):  # A covers the hands (or grips the arm) with the left
        arm(qa,
            'l',
            bump(u, uc - 0.05, uc + 0.1, end - 0.05, end + 0.1),
            flex=c.uniform(35, 55),
            abd=-25,
            rot=30,
            elbow=c.uniform(50, 70))
    return Contact(uc, (11, ), (11, ), 0.0, adjust=('b_r_sh_flex', reach))


def walking_towards(qa: Channels, qb: Channels, c: ActionContext) -> Contact:
    """Both walk towards each other and stop about a metre apart."""
    stop = c.uniform(0.75, 0.95)
    for q in (qa, qb):
        add_gait(
            q,
            c,
            0.0,
            stop,
            c.uniform(1.4, 2.0),
            c.uniform(10, 22),
            right_first=c.chance(0.5))
    return Contact(
        1.0, (0, ), (0, ),
        c.uniform(0.8, 1.4),
        align=False,
        lateral=c.uniform(-0.2, 0.2))


def walking_apart(qa: Channels, qb: Channels, c: ActionContext) -> Contact:
    """Both turn away from each other and walk apart (or back away)."""
    u = c.u
    turn_end = c.uniform(0.2, 0.3)
    backwards = c.chance(0.25)
    for q in (qa, qb):
        if backwards:
            add_gait(q, c, 0.0, 1.05, c.uniform(1.3, 1.8), -c.uniform(8, 14))
            continue
        direction = 1.0 if c.chance(0.5) else -1.0
        q['root_yaw'] += direction * c.uniform(160, 190) * ramp(
            u, 0.0, turn_end)
        add_gait(q, c, 0.0, turn_end, 2.0, 5.0, arm_amp=3.0)
        add_gait(q, c, turn_end, 1.05, c.uniform(1.5, 2.0), c.uniform(12, 22))
    return Contact(
        0.0, (0, ), (0, ),
        c.uniform(0.7, 1.2),
        align=False,
        lateral=c.uniform(-0.2, 0.2))


def _contact_frame(c: ActionContext, contact: Contact) -> int:
    return int(np.argmin(np.abs(c.u - contact.u)))


def match_contact_height(chans: List[Channels], bodies: Sequence[SubjectBody],
                         contact: Contact, c: ActionContext,
                         mirrored: bool) -> List[np.ndarray]:
    """Animate both performers, correcting ``contact.adjust`` if given.

    Args:
        chans (list[Channels]): Channels of A and B.
        bodies (Sequence[SubjectBody]): Bodies of A and B.
        contact (Contact): The placement rule.
        c (ActionContext): The performance context.
        mirrored (bool): Whether A's channels were mirrored.

    Returns:
        list[np.ndarray]: Joints of A and B in their own frames.
    """
    joints = [animate(q, body) for q, body in zip(chans, bodies)]
    if contact.adjust is None:
        return joints
    key, profile = contact.adjust
    who = 0 if key.startswith('a_') else 1
    key = key[2:]
    if who == 0 and mirrored and key[:2] in ('l_', 'r_'):
        key = ('r_' if key[0] == 'l' else 'l_') + key[2:]
    frame = _contact_frame(c, contact)
    points = (contact.a_joints, contact.b_joints)

    def height(person: int, pos: np.ndarray) -> float:
        return float(pos[frame, list(points[person]), 1].mean())

    target = height(1 - who, joints[1 - who])
    q = chans[who]
    for _ in range(2):  # secant steps on the channel
        probe = Channels(q.num_frames)
        probe.update(q)
        probe[key] = q[key] + 5.0 * profile
        slope = (height(who, animate(probe, bodies[who])) -
                 height(who, joints[who])) / 5.0
        if abs(slope) < 1e-4:
            break
        step = np.clip((target - height(who, joints[who])) / slope, -30, 30)
        q[key] = q[key] + step * profile
        joints[who] = animate(q, bodies[who])
    return joints


def place_pair(joints_a: np.ndarray, joints_b: np.ndarray, contact: Contact,
               c: ActionContext) -> List[Performer]:
    """Place two animated persons facing each other.

    A faces world +x and B faces world -x; the contact rule fixes the
    distance, then the pair is centred on the world origin.

    Args:
        joints_a (np.ndarray): A's joints in its own frame, (T, 25, 3).
        joints_b (np.ndarray): B's joints in its own frame, (T, 25, 3).
        contact (Contact): The placement rule.
        c (ActionContext): The performance context.

    Returns:
        list[Performer]: The two performers, A first.
    """
    frame = _contact_frame(c, contact)
    perf_a = Performer(joints_a, yaw=90.0)
    perf_b = Performer(joints_b, yaw=-90.0)
    point_a = perf_a.world()[frame, list(contact.a_joints)].mean(axis=0)
    point_b = perf_b.world()[frame, list(contact.b_joints)].mean(axis=0)
    perf_b.x = point_a[0] + contact.gap - point_b[0]
    if contact.align:
        perf_b.z = point_a[2] - point_b[2]
    else:
        perf_b.z = contact.lateral
    mid_x, mid_z = 0.5 * perf_b.x, 0.5 * perf_b.z
    for perf in (perf_a, perf_b):
        perf.x -= mid_x
        perf.z -= mid_z
    return [perf_a, perf_b]


SingleAction = Callable[[Channels, ActionContext], None]
PairAction = Callable[[Channels, Channels, ActionContext], Contact]


@dataclass
class ActionSpec:
    """An entry of the action library.

    Args:
        func (callable): The action function.
        duration (tuple[float]): Range of the active phase in seconds at
            normal speed.
        two_person (bool): Whether it is a two-person action.
        mirror (bool): Whether a left-handed actor mirrors it.
    """

    func: Callable
    duration: Tuple[float, float]
    two_person: bool = False
    mirror: bool = True


ACTION_LIBRARY: Dict[str, ActionSpec] = {
    'drink water': ActionSpec(drink_water, (2.0, 2.8)),
    'pickup': ActionSpec(pickup, (2.2, 3.0)),
    'throw': ActionSpec(throw, (1.4, 2.0)),
    'sitting down': ActionSpec(sitting_down, (1.6, 2.2)),
    'standing up (from sitting position)': ActionSpec(standing_up, (1.6, 2.2)),
    'clapping': ActionSpec(clapping, (1.6, 2.4)),
    'cheer up': ActionSpec(cheer_up, (1.8, 2.5)),
    'hand waving': ActionSpec(hand_waving, (1.8, 2.6)),
    'kicking something': ActionSpec(kicking, (1.4, 2.0)),
    'hopping (one foot jumping)': ActionSpec(hopping, (2.0, 2.8)),
    'jump up': ActionSpec(jump_up, (1.5, 2.2)),
    'pointing to something with finger': ActionSpec(pointing, (1.6, 2.4)),
    'rub two hands together': ActionSpec(rub_two_hands, (1.8, 2.6)),
    'nod head/bow': ActionSpec(nod_bow, (1.4, 2.2)),
    'salute': ActionSpec(salute, (1.6, 2.3)),
    'cross hands in front (say stop)': ActionSpec(cross_hands_stop,
                                                  (1.6, 2.3)),
    'staggering': ActionSpec(staggering, (2.4, 3.0)),
    'falling': ActionSpec(falling, (2.0, 2.8)),
    'touch head (headache)': ActionSpec(touch_head, (1.8, 2.6)),
    'punching/slapping other person': ActionSpec(punching, (1.4, 2.1), True),
    'pushing other person': ActionSpec(pushing, (1.6, 2.3), True),
    'hugging other person': ActionSpec(hugging, (2.4, 3.0), True),
    'handshaking': ActionSpec(handshaking, (2.0, 2.8), True, False),
    'walking towards each other': ActionSpec(walking_towards, (2.4, 3.0),
                                             True),
    'walking apart from each other': ActionSpec(walking_apart, (2.4, 3.0),
                                                True),
    'squat down': ActionSpec(squat_down, (1.6, 2.3)),
    'hands up (both hands)': ActionSpec(hands_up, (1.6, 2.3)),
    'cross arms': ActionSpec(cross_arms, (2.0, 2.8)),
    'arm circles': ActionSpec(arm_circles, (2.0, 2.8)),
    'arm swings': ActionSpec(arm_swings, (2.0, 2.8)),
    'running on the spot': ActionSpec(running_on_spot, (2.0, 2.8)),
    'side kick': ActionSpec(side_kick, (1.6, 2.3)),
}


def plan_timing(spec: ActionSpec,
                speed: float,
                rng: np.random.Generator,
                min_frames: int = 40,
                max_frames: int = 100) -> Tuple[int, float, float]:
    """Choose the clip length and the active window of a performance.

    The idle time before and after the action varies a lot; when the
    clip would be too long the idle time is cut first, then the action
    is sped up.

    Args:
        spec (ActionSpec): The action.
        speed (float): Tempo factor of this repetition.
        rng (np.random.Generator): Random generator.
        min_frames (int): Shortest clip. Defaults to 40.
        max_frames (int): Longest clip. Defaults to 100.

    Returns:
        tuple: Number of frames T, start and duration of the active phase
        in seconds.
    """
    duration = rng.uniform(*spec.duration) / speed
    onset = rng.uniform(0.1, 0.8)
    offset = rng.uniform(0.1, 0.6)
    longest = max_frames / FPS
    excess = onset + duration + offset - longest
    if excess > 0:  # cut the idle time, the longer end first
        cut = min(excess, onset + offset - 0.3)
        share = onset / (onset + offset)
        onset, offset = onset - cut * share, offset - cut * (1 - share)
        duration = min(duration, longest - onset - offset)
    num_frames = int(round((onset + duration + offset) * FPS))
    return int(np.clip(num_frames, min_frames, max_frames)), onset, duration


def perform(
        name: str,
        bodies: Sequence[SubjectBody],
        styles: Sequence[SubjectStyle],
        rng: np.random.Generator,
        speed: float = 1.0,
        amp: float = 1.0,
        habit_rng: Optional[np.random.Generator] = None) -> List[Performer]:
    """Animate one performance of an action.

    Args:
        name (str): Action name, a key of :data:`ACTION_LIBRARY`.
        bodies (Sequence[SubjectBody]): Body of the actor, then of the
            partner for two-person actions.
        styles (Sequence[SubjectStyle]): Styles, same order as ``bodies``.
        rng (np.random.Generator): Random generator of the performance.
        speed (float): Tempo factor of this repetition. Defaults to 1.
        amp (float): Amplitude factor of this repetition. Defaults to 1.
        habit_rng (np.random.Generator, optional): Random generator of the
            actor's habits for this action, see :class:`ActionContext`.
            Defaults to None.

    Returns:
        list[Performer]: One performer (two for two-person actions).
    """
    spec = ACTION_LIBRARY[name]
    num_frames, start, duration = plan_timing(spec, speed, rng)
    t = np.arange(num_frames) / FPS
    ctx = ActionContext(
        t, start, duration, amp, rng, habit_rng, warp=rng.uniform(-0.4, 0.4))
    num_persons = 2 if spec.two_person else 1
    chans = [Channels(num_frames) for _ in range(num_persons)]
    if spec.two_person:
        contact = spec.func(chans[0], chans[1], ctx)
    else:
        spec.func(chans[0], ctx)
    for q in chans:
        add_distractor(q, ctx, add_free_arms(q, ctx))
    mirrored = spec.mirror and styles[0].left_handed
    if mirrored:
        chans[0] = chans[0].mirrored()
    for q, style in zip(chans, styles):
        add_posture(q, style)
        add_idle(q, ctx, style)
    if spec.two_person:
        joints = match_contact_height(chans, bodies, contact, ctx, mirrored)
        return place_pair(joints[0], joints[1], contact, ctx)
    return [Performer(animate(chans[0], bodies[0]))]


def default_performers(name: str, seed: Optional[int] = 0) -> List[Performer]:
    """Animate an action with default bodies and styles (for checks).

    Args:
        name (str): Action name.
        seed (int, optional): Random seed. Defaults to 0.

    Returns:
        list[Performer]: The performers.
    """
    rng = np.random.default_rng(seed)
    bodies = [SubjectBody(), SubjectBody(0.95)]
    styles = [SubjectStyle(), SubjectStyle()]
    return perform(name, bodies, styles, rng)
