# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""NTU RGB+D 25-joint skeleton model and vectorised forward kinematics.

Body frame conventions (metres, right-handed): ``y`` points up, ``x``
points to the subject's LEFT and ``z`` points forward (the direction the
subject faces). The rest pose is a neutral standing pose with the arms
hanging along the body (palms facing the thighs, thumbs forward) and the
feet on the floor plane ``y = 0``.

A joint's local rotation rotates the bones of its children, expressed in
the frame of its parent: ``G[j] = G[parent[j]] @ R[j]`` and
``p[c] = p[j] + G[j] @ offset[c]`` for every child ``c`` of ``j``. The
root (joint 0, base of the spine) is special: its local rotation is the
lumbar rotation and moves the trunk only, while the hips hang from the
pelvis frame given by the root orientation.
"""
from typing import Optional

import numpy as np

NUM_JOINTS = 25

JOINT_NAMES = ('spine_base', 'spine_mid', 'neck', 'head', 'left_shoulder',
               'left_elbow', 'left_wrist', 'left_hand', 'right_shoulder',
               'right_elbow', 'right_wrist', 'right_hand', 'left_hip',
               'left_knee', 'left_ankle', 'left_foot', 'right_hip',
               'right_knee', 'right_ankle', 'right_foot', 'spine_shoulder',
               'left_hand_tip', 'left_thumb', 'right_hand_tip', 'right_thumb')

# Parent of each joint (-1 for the root), NTU RGB+D order.
PARENTS = (-1, 0, 20, 2, 20, 4, 5, 6, 20, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17,
           18, 1, 7, 7, 11, 11)

# Joints whose bone hangs from the pelvis (root orientation only).
PELVIS_CHILDREN = (12, 16)

# Parents are always visited before their children in this order.
TOPO_ORDER = (0, 1, 20, 2, 3, 4, 5, 6, 7, 21, 22, 8, 9, 10, 11, 23, 24, 12, 13,
              14, 15, 16, 17, 18, 19)

# Index of the mirror joint (left <-> right).
MIRROR_JOINTS = (0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 16, 17, 18, 19, 12, 13,
                 14, 15, 20, 23, 24, 21, 22)

# Bones as (child, parent) pairs, one per non-root joint.
BONES = tuple((j, p) for j, p in enumerate(PARENTS) if p >= 0)

# Rest-pose offset of each joint from its parent, in the parent frame, for
# a reference adult of about 1.75 m (left side; the right side mirrors x).
_LEFT_OFFSETS = {
    1: (0.0, 0.26, -0.01),  # lumbar spine
    20: (0.0, 0.23, 0.0),  # thoracic spine
    2: (0.0, 0.07, 0.01),  # lower neck
    3: (0.0, 0.13, 0.02),  # head
    4: (0.175, -0.04, -0.01),  # shoulder girdle
    5: (0.0, -0.28, 0.0),  # upper arm
    6: (0.0, -0.255, 0.0),  # forearm
    7: (0.0, -0.065, 0.0),  # wrist to hand
    21: (0.0, -0.085, 0.005),  # hand to finger tips
    22: (-0.005, -0.035, 0.045),  # thumb
    12: (0.085, -0.06, 0.0),  # pelvis to hip
    13: (0.0, -0.425, 0.0),  # thigh
    14: (0.0, -0.415, 0.0),  # shank
    15: (0.0, -0.055, 0.12),  # foot
}


def _build_rest_offsets() -> np.ndarray:
    """Build the (25, 3) rest-pose offsets of the reference body."""
    offsets = np.zeros((NUM_JOINTS, 3))
    for joint, offset in _LEFT_OFFSETS.items():
        offsets[joint] = offset
        mirror = MIRROR_JOINTS[joint]
        if mirror != joint:
            offsets[mirror] = (-offset[0], offset[1], offset[2])
    return offsets


REST_OFFSETS = _build_rest_offsets()


def rest_floor_height(offsets: np.ndarray) -> float:
    """Height of the root above the floor in the rest pose.

    Args:
        offsets (np.ndarray): Bone offsets of shape (25, 3).

    Returns:
        float: Root height so that the lowest foot joint touches y = 0.
    """
    left = offsets[12, 1] + offsets[13, 1] + offsets[14, 1] + offsets[15, 1]
    right = offsets[16, 1] + offsets[17, 1] + offsets[18, 1] + offsets[19, 1]
    return float(-min(left, right))


class SubjectBody:
    """Bone lengths of one subject.

    The reference offsets are scaled by the subject's height factor and
    each bone length is jittered independently (symmetrically for the
    left and right side, as real bodies are nearly symmetric).

    Args:
        scale (float): Overall height factor. Defaults to 1.0.
        bone_jitter (np.ndarray, optional): Relative length change of each
            joint's bone, shape (25, ). Defaults to None (no jitter).
    """

    def __init__(self,
                 scale: float = 1.0,
                 bone_jitter: Optional[np.ndarray] = None) -> None:
        jitter = np.zeros(NUM_JOINTS) if bone_jitter is None else np.asarray(
            bone_jitter, dtype=np.float64)
        self.scale = float(scale)
        self.offsets = REST_OFFSETS * scale * (1.0 + jitter[:, None])
        self.root_height = rest_floor_height(self.offsets)

    @classmethod
    def random(cls,
               rng: np.random.Generator,
               scale_range: tuple = (0.85, 1.15),
               jitter: float = 0.05) -> 'SubjectBody':
        """Draw a random body.

        Args:
            rng (np.random.Generator): Random generator.
            scale_range (tuple): Range of the height factor.
                Defaults to (0.85, 1.15).
            jitter (float): Maximum relative bone length change.
                Defaults to 0.05.

        Returns:
            SubjectBody: The body.
        """
        scale = rng.uniform(*scale_range)
        bone_jitter = rng.uniform(-jitter, jitter, NUM_JOINTS)
        for joint, mirror in enumerate(MIRROR_JOINTS):
            if mirror > joint:
                # nearly symmetric limbs: the right copies the left
                bone_jitter[mirror] = bone_jitter[joint] + rng.normal(
                    0.0, 0.005)
        return cls(scale, bone_jitter)

    def bone_lengths(self) -> np.ndarray:
        """Length of each joint's bone, shape (25, ) (0 for the root)."""
        return np.linalg.norm(self.offsets, axis=1)


def rot_x(angle: np.ndarray) -> np.ndarray:
    """Rotation matrices about the x axis.

    Args:
        angle (np.ndarray): Angles in radians, any shape (...).

    Returns:
        np.ndarray: Matrices of shape (..., 3, 3).
    """
    angle = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(angle), np.zeros_like(angle)
    return np.stack([one, zero, zero, zero, c, -s, zero, s, c],
                    axis=-1).reshape(angle.shape + (3, 3))


def rot_y(angle: np.ndarray) -> np.ndarray:
    """Rotation matrices about the y (vertical) axis, see :func:`rot_x`."""
    angle = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(angle), np.zeros_like(angle)
    return np.stack([c, zero, s, zero, one, zero, -s, zero, c],
                    axis=-1).reshape(angle.shape + (3, 3))


def rot_z(angle: np.ndarray) -> np.ndarray:
    """Rotation matrices about the z axis, see :func:`rot_x`."""
    angle = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(angle), np.zeros_like(angle)
    return np.stack([c, -s, zero, s, c, zero, zero, zero, one],
                    axis=-1).reshape(angle.shape + (3, 3))


def rotvec_to_matrix(rotvec: np.ndarray) -> np.ndarray:
    """Convert rotation vectors (axis * angle) to matrices (Rodrigues).

    Args:
        rotvec (np.ndarray): Rotation vectors in radians, shape (..., 3).

    Returns:
        np.ndarray: Matrices of shape (..., 3, 3).
    """
    rotvec = np.asarray(rotvec, dtype=np.float64)
    angle = np.linalg.norm(rotvec, axis=-1)[..., None, None]
    safe = np.where(angle > 1e-12, angle, 1.0)
    k = np.zeros(rotvec.shape[:-1] + (3, 3))
    x, y, z = rotvec[..., 0], rotvec[..., 1], rotvec[..., 2]
    k[..., 0, 1], k[..., 0, 2] = -z, y
    k[..., 1, 0], k[..., 1, 2] = z, -x
    k[..., 2, 0], k[..., 2, 1] = -y, x
    k = k / safe
    eye = np.broadcast_to(np.eye(3), k.shape)
    return eye + np.sin(angle) * k + (1.0 - np.cos(angle)) * (k @ k)


def forward_kinematics(offsets: np.ndarray,
                       local_rot: np.ndarray,
                       root_pos: np.ndarray,
                       root_rot: Optional[np.ndarray] = None) -> np.ndarray:
    """Joint positions from joint rotations (vectorised over frames).

    Args:
        offsets (np.ndarray): Bone offsets of shape (25, 3), see
            :class:`SubjectBody`.
        local_rot (np.ndarray): Local rotation of each joint, shape
            (T, 25, 3, 3). The rotation of joint 0 is the lumbar one.
        root_pos (np.ndarray): Root position per frame, shape (T, 3).
        root_rot (np.ndarray, optional): Pelvis orientation per frame,
            shape (T, 3, 3). Defaults to None (identity).

    Returns:
        np.ndarray: Joint positions of shape (T, 25, 3).
    """
    num_frames = local_rot.shape[0]
    if root_rot is None:
        root_rot = np.broadcast_to(np.eye(3), (num_frames, 3, 3))
    glob = np.empty((num_frames, NUM_JOINTS, 3, 3))
    pos = np.empty((num_frames, NUM_JOINTS, 3))
    pos[:, 0] = root_pos
    glob[:, 0] = root_rot @ local_rot[:, 0]
    for joint in TOPO_ORDER[1:]:
        parent = PARENTS[joint]
        frame = root_rot if joint in PELVIS_CHILDREN else glob[:, parent]
        pos[:, joint] = pos[:, parent] + frame @ offsets[joint]
        glob[:, joint] = frame @ local_rot[:, joint]
    return pos


def bone_lengths_of(joints: np.ndarray) -> np.ndarray:
    """Measured bone lengths of a skeleton sequence.

    Args:
        joints (np.ndarray): Joint positions of shape (..., 25, 3).

    Returns:
        np.ndarray: Bone lengths of shape (..., 24), in :data:`BONES` order.
    """
    child = [c for c, _ in BONES]
    parent = [p for _, p in BONES]
    return np.linalg.norm(
        joints[..., child, :] - joints[..., parent, :], axis=-1)
