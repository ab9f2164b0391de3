# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""SynthNTU: a deterministic, embedded NTU RGB+D-like 3D skeleton dataset.

Each clip is a performance of one of 32 NTU RGB+D 120 actions, animated by
forward kinematics (see :mod:`.motions`), seen by one of three Kinect-like
cameras and corrupted by sensor noise. The output has the layout of
MMAction2's ``ntu60_3d.pkl``.

Camera coordinates follow the Kinect v2 camera space (metres,
right-handed): ``z`` points from the camera into the scene (depth), ``y``
points up and ``x`` points to the camera's left, i.e. to the right of a
person facing the camera.

Splits: x-sub trains on the first 60% of the subject ids (rounded, at
least one subject on each side) and validates on the rest; x-view trains
on cameras 2 and 3 and validates on camera 1, as NTU RGB+D does.

Randomness: the body and style of a subject depend on ``(seed, subject)``
only, the performance on ``(seed, subject, rep, label)`` (the cameras of
one repetition film the same performance, as in NTU) and the camera and
sensor noise on ``(seed, subject, camera, rep, label)``; a subject's
habits for an action (shared by the repetitions) on ``(seed, subject,
label)``. A clip is thus
the same whatever the dataset size or generation order.
"""
import os
import os.path as osp
import pickle
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .motions import (ACTION_LIBRARY, Performer, SubjectStyle, perform,
                      smooth_noise)
from .skeleton_model import NUM_JOINTS, SubjectBody

# (class name, NTU RGB+D 120 action index (1-based)), in label order.
_CLASSES = (
    ('drink water', 1),
    ('pickup', 6),
    ('throw', 7),
    ('sitting down', 8),
    ('standing up (from sitting position)', 9),
    ('clapping', 10),
    ('cheer up', 22),
    ('hand waving', 23),
    ('kicking something', 24),
    ('hopping (one foot jumping)', 26),
    ('jump up', 27),
    ('pointing to something with finger', 31),
    ('rub two hands together', 34),
    ('nod head/bow', 35),
    ('salute', 38),
    ('cross hands in front (say stop)', 40),
    ('staggering', 42),
    ('falling', 43),
    ('touch head (headache)', 44),
    ('punching/slapping other person', 50),
    ('pushing other person', 52),
    ('hugging other person', 55),
    ('handshaking', 58),
    ('walking towards each other', 59),
    ('walking apart from each other', 60),
    ('squat down', 80),
    ('hands up (both hands)', 95),
    ('cross arms', 96),
    ('arm circles', 97),
    ('arm swings', 98),
    ('running on the spot', 99),
    ('side kick', 102),
)

SYNTH_NTU_CLASSES: List[str] = [name for name, _ in _CLASSES]
SYNTH_NTU_NTU120_INDEX: List[int] = [index for _, index in _CLASSES]
SYNTH_NTU_TWO_PERSON_LABELS: Tuple[int, ...] = tuple(
    label for label, name in enumerate(SYNTH_NTU_CLASSES)
    if ACTION_LIBRARY[name].two_person)

SIZE_PRESETS: Dict[str, Dict[str, int]] = {
    'tiny': dict(num_subjects=4, num_cameras=2, num_reps=1),
    'small': dict(num_subjects=10, num_cameras=3, num_reps=2),
    'medium': dict(num_subjects=20, num_cameras=3, num_reps=3),
    'large': dict(num_subjects=40, num_cameras=3, num_reps=4),
}

# Camera azimuth around the subject (degrees, 0 = in front of the subject).
CAMERA_YAWS = {1: -45.0, 2: 0.0, 3: 45.0}
XVIEW_TRAIN_CAMERAS = (2, 3)
XSUB_TRAIN_RATIO = 0.6

PKL_NAME = 'synth_ntu_3d.pkl'
CLASSES_NAME = 'synth_ntu_classes.txt'

# Stream tags that keep the random streams of a clip apart.
_SUBJECT, _PARTNER, _PERFORMANCE, _CAMERA, _HABIT = 1, 2, 3, 4, 5

_HAND_TIPS = (21, 22, 23, 24)
_HANDS = (6, 7, 10, 11)
_FEET = (14, 15, 18, 19)
_LIMBS = (4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 23,
          24)
# Joints that may drop out, and how likely each one is picked.
_DROPOUT_JOINTS = (7, 11, 21, 22, 23, 24, 6, 10, 15, 19, 14, 18, 5, 9)
_DROPOUT_WEIGHTS = np.array([3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1.0])


def frame_dir_name(label: int, subject: int, camera: int, rep: int) -> str:
    """NTU-style clip name, e.g. ``S001C002P003R001A010``.

    Args:
        label (int): Index into :data:`SYNTH_NTU_CLASSES`.
        subject (int): Subject id (1-based).
        camera (int): Camera id (1, 2 or 3).
        rep (int): Repetition id (1-based).

    Returns:
        str: The clip name (with the NTU RGB+D 120 action index).
    """
    action = SYNTH_NTU_NTU120_INDEX[label]
    return f'S001C{camera:03d}P{subject:03d}R{rep:03d}A{action:03d}'


def num_xsub_train_subjects(num_subjects: int) -> int:
    """Number of x-sub training subjects (ids 1..n are for training).

    Args:
        num_subjects (int): Number of subjects.

    Returns:
        int: About 60% of the subjects, keeping one for validation when
        there are at least two.
    """
    num_train = max(1, int(round(XSUB_TRAIN_RATIO * num_subjects)))
    return min(num_train, max(num_subjects - 1, 1))


def _rng(*keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(list(keys)))


def subject_profile(subject: int,
                    seed: int = 0,
                    partner: bool = False) -> Tuple[SubjectBody, SubjectStyle]:
    """Body and style of a subject (or of the subject's partner).

    The partner of two-person actions is a person outside the subject
    list, fixed per subject, so that x-sub splits stay disjoint.

    Args:
        subject (int): Subject id.
        seed (int): Dataset seed. Defaults to 0.
        partner (bool): Return the partner's profile. Defaults to False.

    Returns:
        tuple: ``(SubjectBody, SubjectStyle)``.
    """
    rng = _rng(seed, _PARTNER if partner else _SUBJECT, subject)
    body = SubjectBody.random(rng)
    style = SubjectStyle.random(rng)
    return body, style


def generate_performance(label: int,
                         subject: int,
                         rep: int,
                         seed: int = 0) -> List[Performer]:
    """Animate one repetition of an action by a subject.

    Args:
        label (int): Index into :data:`SYNTH_NTU_CLASSES`.
        subject (int): Subject id.
        rep (int): Repetition id.
        seed (int): Dataset seed. Defaults to 0.

    Returns:
        list[Performer]: The performers (world frame: floor ``y = 0``,
        the actor faces +z, or +x for two-person actions).
    """
    name = SYNTH_NTU_CLASSES[label]
    bodies, styles = zip(
        subject_profile(subject, seed),
        subject_profile(subject, seed, partner=True))
    rng = _rng(seed, _PERFORMANCE, subject, rep, label)
    style = styles[0]
    speed = rng.uniform(0.75, 1.3) * style.speed
    amp = float(np.clip(rng.uniform(0.75, 1.2) * style.amp, 0.65, 1.35))
    habit_rng = _rng(seed, _HABIT, subject, label)
    return perform(name, bodies, styles, rng, speed, amp, habit_rng)


def camera_rotation(position: np.ndarray,
                    target: np.ndarray,
                    roll: float = 0.0) -> np.ndarray:
    """World-to-camera rotation of a camera looking at ``target``.

    Args:
        position (np.ndarray): Camera position in the world, shape (3, ).
        target (np.ndarray): Looked-at point, shape (3, ).
        roll (float): Roll about the optical axis, radians. Defaults to 0.

    Returns:
        np.ndarray: Rotation of shape (3, 3) whose rows are the camera
        axes (x to the camera's left, y up, z forward) in the world.
    """
    forward = target - position
    forward = forward / np.linalg.norm(forward)
    left = np.cross([0.0, 1.0, 0.0], forward)
    left = left / np.linalg.norm(left)
    up = np.cross(forward, left)
    c, s = np.cos(roll), np.sin(roll)
    left, up = c * left + s * up, -s * left + c * up
    return np.stack([left, up, forward])


def _scene_to_camera(joints: np.ndarray, camera: int,
                     rng: np.random.Generator) -> np.ndarray:
    """Place the scene and express it in camera coordinates.

    Args:
        joints (np.ndarray): World joints of shape (M, T, 25, 3).
        camera (int): Camera id.
        rng (np.random.Generator): Random generator of the clip.

    Returns:
        np.ndarray: Camera-space joints of shape (M, T, 25, 3).
    """
    # where and how the subject stands in the room
    facing = np.deg2rad(rng.normal(0.0, 8.0))
    c, s = np.cos(facing), np.sin(facing)
    scene_rot = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    offset = np.array([rng.normal(0.0, 0.15), 0.0, rng.normal(0.0, 0.15)])
    world = joints @ scene_rot.T + offset

    yaw = np.deg2rad(CAMERA_YAWS[camera] + rng.normal(0.0, 3.0))
    distance = rng.uniform(2.5, 3.5)
    height = rng.uniform(0.7, 1.1)
    position = np.array(
        [distance * np.sin(yaw), height, distance * np.cos(yaw)])
    target = np.array(
        [rng.normal(0.0, 0.1),
         rng.uniform(0.7, 1.0),
         rng.normal(0.0, 0.1)])
    rot = camera_rotation(position, target, np.deg2rad(rng.normal(0, 1.0)))
    return (world - position) @ rot.T


def _occlusion(joints: np.ndarray) -> np.ndarray:
    """How much each limb joint hides behind the trunk, in [0, 1].

    Args:
        joints (np.ndarray): Camera-space joints of one person, (T, 25, 3).

    Returns:
        np.ndarray: Occlusion factors of shape (T, 25).
    """
    trunk = joints[:, [0, 1, 20]].mean(axis=1, keepdims=True)  # (T, 1, 3)
    behind = (joints[..., 2] - trunk[..., 2] - 0.05) / 0.03
    lateral = np.hypot(joints[..., 0] - trunk[..., 0],
                       0.6 * (joints[..., 1] - trunk[..., 1]))
    occ = 1.0 / (1.0 + np.exp(-behind)) * np.exp(-(lateral / 0.2)**2)
    mask = np.zeros(NUM_JOINTS)
    mask[list(_LIMBS)] = 1.0
    return occ * mask


def _tracking_difficulty(joints: np.ndarray) -> np.ndarray:
    """Noise factor per frame and joint from the pose (>= 1).

    A tracker fails on bodies that are not upright (lying, bent over) and
    on hands that touch each other or the body.

    Args:
        joints (np.ndarray): Camera-space joints of one person, (T, 25, 3).

    Returns:
        np.ndarray: Factors of shape (T, 25).
    """
    spine = joints[:, 20] - joints[:, 0]  # (T, 3)
    upright = spine[:, 1] / np.maximum(np.linalg.norm(spine, axis=1), 1e-6)
    tilt = np.clip((0.8 - upright) / 0.5, 0.0, 1.0)  # (T, )
    hands = np.linalg.norm(joints[:, 7] - joints[:, 11], axis=1)
    close = np.clip((0.15 - hands) / 0.1, 0.0, 1.0)  # (T, )
    factor = np.ones(joints.shape[:2]) + 4.0 * tilt[:, None]
    factor[:, list(_HANDS + _HAND_TIPS)] += 1.5 * close[:, None]
    return factor


def _swap_crossed_hands(joints: np.ndarray) -> np.ndarray:
    """Swap the left and right hands while they are crossed or touching."""
    hands = np.linalg.norm(joints[:, 7] - joints[:, 11], axis=1)
    frames = np.nonzero(hands < 0.08)[0]
    left, right = [6, 7, 21, 22], [10, 11, 23, 24]
    out = joints.copy()
    out[np.ix_(frames, left + right)] = joints[np.ix_(frames, right + left)]
    return out


def _sensor_noise(joints: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Kinect-like noise, hand jitter and short joint dropouts.

    Args:
        joints (np.ndarray): Camera-space joints of one person, (T, 25, 3).
        rng (np.random.Generator): Random generator of the clip.

    Returns:
        np.ndarray: Noisy joints of shape (T, 25, 3).
    """
    num_frames = joints.shape[0]
    sigma = np.full(NUM_JOINTS, rng.uniform(0.003, 0.006))
    sigma[list(_HANDS + _FEET)] *= 1.5
    sigma[list(_HAND_TIPS)] = rng.uniform(0.01, 0.02)
    scale = sigma * (1.0 + 4.0 * _occlusion(joints))  # (T, 25)
    scale = scale * _tracking_difficulty(joints)
    axis_scale = np.array([1.0, 1.0, 1.5])  # depth is noisier
    white = rng.normal(0.0, 1.0, joints.shape)
    drift = np.stack(
        [smooth_noise(rng, num_frames, 6.0) for _ in range(NUM_JOINTS * 3)],
        axis=1).reshape(num_frames, NUM_JOINTS, 3)  # (T, 25, 3)
    noisy = joints + scale[..., None] * axis_scale * (0.7 * white + drift)
    if rng.random() < 0.3:
        noisy = _swap_crossed_hands(noisy)

    for _ in range(rng.poisson(1.2)):
        joint = rng.choice(
            _DROPOUT_JOINTS, p=_DROPOUT_WEIGHTS / _DROPOUT_WEIGHTS.sum())
        length = int(rng.integers(3, 11))
        start = int(rng.integers(1, max(2, num_frames - length)))
        stop = min(start + length, num_frames)
        if rng.random() < 0.5:  # frozen at the last good value
            noisy[start:stop, joint] = noisy[start - 1, joint]
        else:  # snapped to a wrong position
            noisy[start:stop, joint] = (
                joints[start, joint] + rng.normal(0.0, 0.04, 3))
    if rng.random() < 0.15:  # the whole skeleton glitches briefly
        start = int(rng.integers(0, num_frames))
        stop = min(start + int(rng.integers(1, 4)), num_frames)
        noisy[start:stop] += rng.normal(0.0, 0.02, (stop - start, 1, 3))
    return noisy


def generate_clip(label: int,
                  subject: int,
                  camera: int,
                  rep: int,
                  seed: int = 0,
                  noise: bool = True,
                  performers: Optional[Sequence[Performer]] = None) -> dict:
    """Generate the annotation of one clip.

    Args:
        label (int): Index into :data:`SYNTH_NTU_CLASSES`.
        subject (int): Subject id (1-based).
        camera (int): Camera id (1, 2 or 3).
        rep (int): Repetition id (1-based).
        seed (int): Dataset seed. Defaults to 0.
        noise (bool): Add sensor noise and dropouts. Defaults to True.
        performers (Sequence[Performer], optional): The performance, from
            :func:`generate_performance` with the same arguments, to share
            it between cameras. Defaults to None (animated here).

    Returns:
        dict: The annotation, with ``frame_dir``, ``label``,
        ``total_frames``, ``keypoint`` (float32, (M, T, 25, 3), metres,
        camera coordinates), ``subject``, ``camera`` and ``rep``.
    """
    if performers is None:
        performers = generate_performance(label, subject, rep, seed)
    rng = _rng(seed, _CAMERA, subject, camera, rep, label)
    world = np.stack([p.world() for p in performers])  # (M, T, 25, 3)
    keypoint = _scene_to_camera(world, camera, rng)
    if len(keypoint) > 1 and rng.random() < 0.5:
        keypoint = keypoint[::-1]  # body order follows tracking ids
    if noise:
        keypoint = np.stack([_sensor_noise(k, rng) for k in keypoint])
    return dict(
        frame_dir=frame_dir_name(label, subject, camera, rep),
        label=int(label),
        total_frames=int(keypoint.shape[1]),
        keypoint=np.ascontiguousarray(keypoint, dtype=np.float32),
        subject=int(subject),
        camera=int(camera),
        rep=int(rep))


def _resolve_size(size: str, num_subjects: Optional[int],
                  num_cameras: Optional[int],
                  num_reps: Optional[int]) -> Tuple[int, int, int]:
    if size not in SIZE_PRESETS:
        raise ValueError(f'Unknown size {size!r}, expected one of '
                         f'{sorted(SIZE_PRESETS)}')
    preset = SIZE_PRESETS[size]
    num_subjects = num_subjects or preset['num_subjects']
    num_cameras = num_cameras or preset['num_cameras']
    num_reps = num_reps or preset['num_reps']
    if not 1 <= num_cameras <= len(CAMERA_YAWS):
        raise ValueError(f'num_cameras must be in 1..3, got {num_cameras}')
    return num_subjects, num_cameras, num_reps


def generate_synth_ntu(
        size: str = 'small',
        seed: int = 0,
        num_subjects: Optional[int] = None,
        num_cameras: Optional[int] = None,
        num_reps: Optional[int] = None,
        noise: bool = True,
        progress: Optional[Callable[[int, int], None]] = None) -> dict:
    """Generate the SynthNTU dataset in the MMAction2 PoseDataset layout.

    Args:
        size (str): A key of :data:`SIZE_PRESETS`. Defaults to 'small'.
        seed (int): Dataset seed. Defaults to 0.
        num_subjects (int, optional): Override of the preset's number of
            subjects (ids 1..n). Defaults to None.
        num_cameras (int, optional): Override of the number of cameras
            (ids 1..n, at most 3). Defaults to None.
        num_reps (int, optional): Override of the number of repetitions.
            Defaults to None.
        noise (bool): Add sensor noise and dropouts. Defaults to True.
        progress (callable, optional): Called as ``progress(done, total)``
            after each performance (all cameras). Defaults to None.

    Returns:
        dict: ``dict(split=dict(xsub_train=[...], xsub_val=[...],
        xview_train=[...], xview_val=[...]), annotations=[...])``, the
        splits holding ``frame_dir`` names.
    """
    num_subjects, num_cameras, num_reps = _resolve_size(
        size, num_subjects, num_cameras, num_reps)
    num_train = num_xsub_train_subjects(num_subjects)
    cameras = list(range(1, num_cameras + 1))
    annotations = []
    split = dict(xsub_train=[], xsub_val=[], xview_train=[], xview_val=[])
    total = num_subjects * num_reps * len(SYNTH_NTU_CLASSES)
    done = 0
    for subject in range(1, num_subjects + 1):
        for rep in range(1, num_reps + 1):
            for label in range(len(SYNTH_NTU_CLASSES)):
                performers = generate_performance(label, subject, rep, seed)
                for camera in cameras:
                    anno = generate_clip(label, subject, camera, rep, seed,
                                         noise, performers)
                    annotations.append(anno)
                    name = anno['frame_dir']
                    xsub = 'train' if subject <= num_train else 'val'
                    xview = ('train'
                             if camera in XVIEW_TRAIN_CAMERAS else 'val')
                    split['xsub_' + xsub].append(name)
                    split['xview_' + xview].append(name)
                done += 1
                if progress is not None:
                    progress(done, total)
    return dict(split=split, annotations=annotations)


def write_synth_ntu(
        out_dir: str,
        size: str = 'small',
        seed: int = 0,
        num_subjects: Optional[int] = None,
        num_cameras: Optional[int] = None,
        num_reps: Optional[int] = None,
        noise: bool = True,
        progress: Optional[Callable[[int, int], None]] = None,
        file_format: str = 'pkl') -> str:
    """Generate SynthNTU and write it to ``out_dir``.

    Writes ``synth_ntu_3d.pkl`` (pickle protocol 4), or
    ``synth_ntu_3d.npz`` in the pickle-free format of
    :mod:`mmaction_sugar.datasets.npz_annotations`, and
    ``synth_ntu_classes.txt`` (line i is the name of label i).

    Args:
        out_dir (str): Output folder, created if needed.
        size (str): A key of :data:`SIZE_PRESETS`. Defaults to 'small'.
        seed (int): Dataset seed. Defaults to 0.
        num_subjects (int, optional): See :func:`generate_synth_ntu`.
            Defaults to None.
        num_cameras (int, optional): See :func:`generate_synth_ntu`.
            Defaults to None.
        num_reps (int, optional): See :func:`generate_synth_ntu`.
            Defaults to None.
        noise (bool): Add sensor noise and dropouts. Defaults to True.
        progress (callable, optional): See :func:`generate_synth_ntu`.
            Defaults to None.
        file_format (str): ``'pkl'`` or ``'npz'``. Defaults to 'pkl'.

    Returns:
        str: Path of the written annotation file.
    """
    if file_format not in ('pkl', 'npz'):
        raise ValueError(f"file_format: expected 'pkl' or 'npz', got "
                         f'{file_format!r}')
    data = generate_synth_ntu(size, seed, num_subjects, num_cameras, num_reps,
                              noise, progress)
    os.makedirs(out_dir, exist_ok=True)
    with open(osp.join(out_dir, CLASSES_NAME), 'w') as f:
        f.write('\n'.join(SYNTH_NTU_CLASSES) + '\n')
    path = osp.join(out_dir, PKL_NAME)
    if file_format == 'npz':
        from ..npz_annotations import save_annotations_npz
        return save_annotations_npz(
            path[:-len('.pkl')] + '.npz', data['annotations'], data['split'])
    with open(path, 'wb') as f:
        pickle.dump(data, f, protocol=4)
    return path
