# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Read raw NTU RGB+D ``.skeleton`` files and build PoseDataset pickles.

The NTU RGB+D (60) and NTU RGB+D 120 datasets ship their Kinect v2
skeletons as one text file per sample, named ``SsssCcccPpppRrrrAaaa``
(setup, camera, performer, replication, action; all 1-based). A file is
laid out as::

    <number of frames>
    then, for every frame:
        <number of bodies>
        then, for every body:
            <10 body-info values: bodyID clippedEdges handLeftConfidence
             handLeftState handRightConfidence handRightState isRestricted
             leanX leanY trackingState>
            <number of joints (25)>
            then 25 lines of 12 joint values: x y z depthX depthY colorX
            colorY orientationW orientationX orientationY orientationZ
            trackingState

Only the camera-space coordinates ``x, y, z`` (metres) are kept. The output
of :func:`convert_ntu_raw` has the layout of the toolbox's
``ntu60_3d.pkl`` / ``ntu120_3d.pkl``::

    dict(split=dict(xsub_train=[...], xsub_val=[...], ...),
         annotations=[dict(frame_dir='S001C001P001R001A001', label=0,
                           total_frames=T,
                           keypoint=np.float32 array (M, T, 25, 3))])

This module depends on numpy only (``tqdm`` is used for progress when it
is installed).
"""
import os
import os.path as osp
import re
import sys
from typing import Dict, Iterable, List, Optional, Union

import numpy as np

NUM_JOINTS = 25
NUM_BODY_INFO_VALUES = 10
NUM_JOINT_VALUES = 12
SKELETON_SUFFIX = '.skeleton'

NTU60_NUM_ACTIONS = 60
NTU60_NUM_SETUPS = 17
NTU120_NUM_ACTIONS = 120
NTU120_NUM_SETUPS = 32

# Official evaluation protocols (Shahroudy et al., CVPR 2016 and
# Liu et al., TPAMI 2019): the listed ids form the training set, every
# other id the validation set.
NTU60_XSUB_TRAIN_SUBJECTS = (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25,
                             27, 28, 31, 34, 35, 38)
NTU60_XVIEW_TRAIN_CAMERAS = (2, 3)
NTU120_XSUB_TRAIN_SUBJECTS = NTU60_XSUB_TRAIN_SUBJECTS + (
    45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82,
    83, 84, 85, 86, 89, 91, 92, 93, 94, 95, 97, 98, 100, 103)
NTU120_XSET_TRAIN_SETUPS = tuple(range(2, NTU120_NUM_SETUPS + 1, 2))

_NAME_PATTERN = re.compile(r'S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})')
_NAME_FIELDS = ('setup', 'camera', 'performer', 'replication', 'action')


class NTUSkeletonError(ValueError):
    """A raw NTU ``.skeleton`` file is malformed.

    The message reads ``'<path>: line <n>: <what was expected, got what>'``
    (without the line part for problems of the file as a whole).

    Args:
        path (str): The offending file.
        message (str): What was expected and what was found.
        lineno (int, optional): 1-based line number of the problem.
            Defaults to None.
    """

    def __init__(self,
                 path: str,
                 message: str,
                 lineno: Optional[int] = None) -> None:
        self.path = path
        self.message = message
        self.lineno = lineno
        where = str(path)
        if lineno is not None:
            where = f'{where}: line {lineno}'
        super().__init__(f'{where}: {message}')

    def __reduce__(self):
        # Keep the exception picklable (e.g. across worker processes).
        return type(self), (self.path, self.message, self.lineno)


def parse_ntu_name(name: str) -> Dict[str, int]:
    """Parse an NTU sample name such as ``'S001C002P003R002A013'``.

    Args:
        name (str): The sample name. A directory part and a ``.skeleton``
            suffix are allowed and ignored.

    Returns:
        dict: ``setup``, ``camera``, ``performer``, ``replication`` and
        ``action`` as 1-based ints.

    Raises:
        ValueError: If the name does not match ``SsssCcccPpppRrrrAaaa``
            (three digits per field).
    """
    stem = osp.basename(os.fspath(name))
    if stem.endswith(SKELETON_SUFFIX):
        stem = stem[:-len(SKELETON_SUFFIX)]
    match = _NAME_PATTERN.fullmatch(stem)
    if match is None:
        raise ValueError(
            f'{name!r} is not an NTU RGB+D sample name: expected the '
            'pattern SsssCcccPpppRrrrAaaa with three digits per field, '
            'e.g. S001C002P003R002A013')
    return {k: int(v) for k, v in zip(_NAME_FIELDS, match.groups())}


class _LineReader:
    """Hand out the lines of a skeleton file with 1-based line numbers."""

    def __init__(self, path: str, lines: List[str]) -> None:
        self.path = path
        self.lines = lines
        self.pos = 0  # index of the next line to read

    @property
    def lineno(self) -> int:
        """int: 1-based number of the line read last."""
        return self.pos

    def error(self, message: str, lineno: Optional[int] = None):
        """Build an error for the line read last (or ``lineno``)."""
        if lineno is None:
            lineno = self.lineno
        return NTUSkeletonError(self.path, message, lineno)

    def next_tokens(self, expected: str) -> List[str]:
        """Read the next line, split into whitespace separated tokens."""
        if self.pos >= len(self.lines):
            raise self.error(f'expected {expected}, got end of file',
                             self.pos + 1)
        tokens = self.lines[self.pos].split()
        self.pos += 1
        return tokens

    def next_count(self, expected: str) -> int:
        """Read a line holding exactly one non-negative integer."""
        tokens = self.next_tokens(expected)
        if len(tokens) != 1:
            raise self.error(
                f'expected {expected} (one integer), got {_show(tokens)}')
        try:
            value = int(tokens[0])
        except ValueError:
            raise self.error(f'expected {expected} (an integer), got '
                             f'{tokens[0]!r}') from None
        if value < 0:
            raise self.error(f'expected {expected} (>= 0), got {value}')
        return value


def _show(tokens: List[str]) -> str:
    """Describe a split line in an error message."""
    if not tokens:
        return 'an empty line'
    text = ' '.join(tokens)
    if len(text) > 60:
        text = text[:57] + '...'
    return f'{len(tokens)} values ({text!r})'


def _read_body_info(reader: _LineReader, where: str) -> None:
    """Read and check the 10-value body-info line (values unused)."""
    expected = f'{NUM_BODY_INFO_VALUES} body-info values for {where}'
    tokens = reader.next_tokens(expected)
    if len(tokens) != NUM_BODY_INFO_VALUES:
        raise reader.error(f'expected {expected}, got {_show(tokens)}')
    for token in tokens:
        try:
            float(token)
        except ValueError:
            raise reader.error(f'expected {expected}, got non-numeric '
                               f'value {token!r}') from None


def _read_joints(reader: _LineReader, where: str) -> np.ndarray:
    """Read the joint count and joint lines of one body.

    Returns:
        np.ndarray: The joints' ``x, y, z`` in float64, shape (25, 3).
    """
    num_joints = reader.next_count(f'the number of joints of {where}')
    if num_joints != NUM_JOINTS:
        raise reader.error(f'expected {NUM_JOINTS} joints for {where}, '
                           f'got {num_joints}')
    first = reader.pos + 1  # line number of joint 1
    rows = []
    for j in range(NUM_JOINTS):
        expected = (f'{NUM_JOINT_VALUES} joint values for joint {j + 1} '
                    f'of {where}')
        tokens = reader.next_tokens(expected)
        if len(tokens) != NUM_JOINT_VALUES:
            raise reader.error(f'expected {expected}, got {_show(tokens)}')
        rows.append(tokens)
    try:
        values = np.array(rows, dtype=np.float64)
    except ValueError:
        raise _locate_bad_value(reader, rows, first, where) from None
    xyz = values[:, :3]
    finite = np.isfinite(xyz)
    if not finite.all():
        j, c = np.argwhere(~finite)[0]
        raise reader.error(
            f'expected finite coordinates for joint {j + 1} of {where}, '
            f'got {"xyz"[c]}={rows[j][c]}', first + j)
    return xyz


def _locate_bad_value(reader: _LineReader, rows: List[List[str]], first: int,
                      where: str) -> NTUSkeletonError:
    """Build the error for the first non-numeric value in joint lines."""
    for j, tokens in enumerate(rows):
        for token in tokens:
            try:
                np.float64(token)
            except ValueError:
                return reader.error(
                    f'expected numeric joint values for joint {j + 1} '
                    f'of {where}, got {token!r}', first + j)
    return reader.error(f'expected numeric joint values for {where}', first)


def _motion_energy(data: np.ndarray, present: np.ndarray) -> float:
    """Activity of one body: spread of its coordinates where present.

    As in the toolbox's ``gen_ntu_rgbd_raw.py``: the sum over ``x, y, z`` of
    the standard deviation over all present frames and joints.

    Args:
        data (np.ndarray): Coordinates of one body, shape (T, 25, 3).
        present (np.ndarray): Bool mask of the frames holding the body,
            shape (T, ).

    Returns:
        float: The motion energy (0 for a body that is never present).
    """
    if not present.any():
        return 0.0
    return float(data[present].std(axis=(0, 1)).sum())


def read_ntu_skeleton(path: str, max_persons: int = 2) -> np.ndarray:
    """Read the ``x, y, z`` joint coordinates of an NTU skeleton file.

    Bodies are identified by their position in each frame's body list (the
    Kinect body slot), as the toolbox does. When more than ``max_persons``
    slots are used, the most active bodies are kept, i.e. those with the
    largest motion energy (sum over ``x, y, z`` of the standard deviation
    over the frames where the body is present); the kept bodies are ordered
    from most to least active. Slots that are never used are dropped, so
    ``M = min(max_persons, max number of bodies in a frame)``. Frames in
    which a kept body is absent are zeros.

    Args:
        path (str): Path to a ``.skeleton`` file.
        max_persons (int): Maximum number of bodies to keep.
            Defaults to 2.

    Returns:
        np.ndarray: Coordinates in metres, float32, shape (M, T, 25, 3).

    Raises:
        NTUSkeletonError: If the file is malformed (truncated, wrong counts,
            non-numeric or non-finite values, extra data, zero frames or no
            body in any frame). The message names the file, the line and
            what was expected.
    """
    if int(max_persons) != max_persons or max_persons < 1:
        raise ValueError(f'max_persons must be a positive integer, '
                         f'got {max_persons!r}')
    path = os.fspath(path)
    # latin-1 decodes any byte, so binary junk is reported as a bad value
    # on its line instead of as a UnicodeDecodeError.
    with open(path, 'r', encoding='latin-1') as f:
        lines = f.read().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    reader = _LineReader(path, lines)

    num_frames = reader.next_count('the number of frames')
    if num_frames == 0:
        raise reader.error('expected at least one frame, got 0 frames')

    frames = []  # per frame: list of (25, 3) arrays, one per body slot
    for t in range(num_frames):
        num_bodies = reader.next_count(
            f'the number of bodies in frame {t + 1}')
        bodies = []
        for b in range(num_bodies):
            where = f'body {b + 1} in frame {t + 1}'
            _read_body_info(reader, where)
            bodies.append(_read_joints(reader, where))
        frames.append(bodies)

    if reader.pos < len(lines):
        tokens = reader.next_tokens('end of file')
        raise reader.error(
            f'expected end of file after the {num_frames} frames declared '
            f'on line 1, got {_show(tokens)}')

    num_slots = max(len(bodies) for bodies in frames)
    if num_slots == 0:
        raise NTUSkeletonError(
            path, f'no body in any of the {num_frames} frames (a sample '
            'with missing skeletons; skip it with a missing list)')

    data = np.zeros((num_slots, num_frames, NUM_JOINTS, 3), np.float64)
    present = np.zeros((num_slots, num_frames), bool)
    for t, bodies in enumerate(frames):
        for m, xyz in enumerate(bodies):
            data[m, t] = xyz
            present[m, t] = True

    energy = np.array(
        [_motion_energy(data[m], present[m]) for m in range(num_slots)])
    # Stable sort: equally active bodies keep their slot order.
    keep = np.argsort(-energy, kind='stable')[:max_persons]
    return data[keep].astype(np.float32)


def _read_missing_list(
        missing_list: Union[str, os.PathLike, Iterable[str]]) -> set:
    """Collect the sample names to skip.

    Args:
        missing_list (str | os.PathLike | Iterable[str]): A text file, or an
            iterable of names. Every ``SsssCcccPpppRrrrAaaa`` token found in
            it counts; anything else (headers, blank lines, ``.skeleton``
            suffixes, separators) is ignored.

    Returns:
        set[str]: The sample names.
    """
    if isinstance(missing_list, (str, os.PathLike)):
        with open(missing_list, 'r', encoding='latin-1') as f:
            items = f.read().splitlines()
    else:
        items = list(missing_list)
    names = set()
    for item in items:
        names.update(m.group(0) for m in _NAME_PATTERN.finditer(str(item)))
    return names


def _progress(items: list, enabled: bool, desc: str) -> Iterable:
    """Wrap ``items`` with a progress display (tqdm, else prints)."""
    if not enabled:
        return items
    try:
        from tqdm import tqdm
    except ImportError:
        return _print_progress(items, desc)
    return tqdm(items, desc=desc, unit='file')


def _print_progress(items: list, desc: str) -> Iterable:
    """Yield ``items``, printing progress about every 5 percent."""
    total = len(items)
    step = max(1, total // 20)
    for i, item in enumerate(items, 1):
        yield item
        if i % step == 0 or i == total:
            print(f'{desc}: {i}/{total} files', file=sys.stderr, flush=True)


def convert_ntu_raw(raw_dir: str,
                    benchmark: str = 'ntu60',
                    max_persons: int = 2,
                    missing_list: Optional[Union[str, os.PathLike,
                                                 Iterable[str]]] = None,
                    progress: bool = True) -> dict:
    """Convert a folder of NTU ``.skeleton`` files to PoseDataset format.

    All ``*.skeleton`` files directly in ``raw_dir`` are read, in name
    order. For ``'ntu60'`` only actions 1-60 recorded in setups 1-17 are
    used (other files, e.g. from an NTU120 folder, are skipped); for
    ``'ntu120'`` a name outside actions 1-120 / setups 1-32 is an error.
    Splits follow the official protocols: cross-subject (``xsub``) for both
    benchmarks, cross-view (``xview``, training cameras 2 and 3) for NTU60
    and cross-setup (``xset``, even setups for training) for NTU120.

    Args:
        raw_dir (str): Folder holding the ``.skeleton`` files.
        benchmark (str): ``'ntu60'`` or ``'ntu120'``. Defaults to
            ``'ntu60'``.
        max_persons (int): Maximum number of bodies kept per sample, see
            :func:`read_ntu_skeleton`. Defaults to 2.
        missing_list (str | os.PathLike | Iterable[str], optional): Samples
            to skip, such as NTU's published "samples with missing
            skeletons": a text file or an iterable of names; every
            ``SsssCcccPpppRrrrAaaa`` token in it counts. Defaults to None.
        progress (bool): Show progress (tqdm if installed, else prints to
            stderr). Defaults to True.

    Returns:
        dict: ``split`` (dict of lists of ``frame_dir`` names, keys
        ``xsub_train``, ``xsub_val`` and ``xview_train``, ``xview_val`` or
        ``xset_train``, ``xset_val``) and ``annotations`` (list of dicts
        with ``frame_dir`` (str), ``label`` (int, 0-based action),
        ``total_frames`` (int) and ``keypoint`` (np.ndarray float32 of
        shape (M, T, 25, 3))).

    Raises:
        NTUSkeletonError: If a skeleton file is malformed.
        ValueError: If ``benchmark`` is unknown, a file name is not an NTU
            sample name, or no sample is left to convert.
        FileNotFoundError: If ``raw_dir`` is not a directory.
    """
    if benchmark == 'ntu60':
        num_actions, num_setups = NTU60_NUM_ACTIONS, NTU60_NUM_SETUPS
    elif benchmark == 'ntu120':
        num_actions, num_setups = NTU120_NUM_ACTIONS, NTU120_NUM_SETUPS
    else:
        raise ValueError(f"benchmark must be 'ntu60' or 'ntu120', "
                         f'got {benchmark!r}')
    if not osp.isdir(raw_dir):
        raise FileNotFoundError(f'raw_dir is not a directory: {raw_dir}')
    skip = set()
    if missing_list is not None:
        skip = _read_missing_list(missing_list)

    samples = []  # (name, fields)
    for filename in sorted(os.listdir(raw_dir)):
        if not filename.endswith(SKELETON_SUFFIX):
            continue
        path = osp.join(raw_dir, filename)
        try:
            fields = parse_ntu_name(filename)
        except ValueError as e:
            raise ValueError(f'{path}: {e}') from None
        name = filename[:-len(SKELETON_SUFFIX)]
        if name in skip:
            continue
        in_range = (1 <= fields['action'] <= num_actions
                    and 1 <= fields['setup'] <= num_setups)
        if not in_range and benchmark == 'ntu120':
            raise ValueError(
                f'{path}: expected action 1-{num_actions} and setup '
                f'1-{num_setups} for NTU RGB+D 120, got action '
                f"{fields['action']} and setup {fields['setup']}")
        if in_range:
            samples.append((name, fields))
    if not samples:
        raise ValueError(f'no {benchmark} {SKELETON_SUFFIX} files to '
                         f'convert in {raw_dir}')

    if benchmark == 'ntu60':
        protocols = {
            'xsub': ('performer', NTU60_XSUB_TRAIN_SUBJECTS),
            'xview': ('camera', NTU60_XVIEW_TRAIN_CAMERAS),
        }
    else:
        protocols = {
            'xsub': ('performer', NTU120_XSUB_TRAIN_SUBJECTS),
            'xset': ('setup', NTU120_XSET_TRAIN_SETUPS),
        }
    split = {}
    for protocol, (field, train_ids) in protocols.items():
        split[f'{protocol}_train'] = [
            name for name, fields in samples if fields[field] in train_ids
        ]
        split[f'{protocol}_val'] = [
            name for name, fields in samples if fields[field] not in train_ids
        ]

    annotations = []
    for name, fields in _progress(samples, progress, benchmark):
        path = osp.join(raw_dir, name + SKELETON_SUFFIX)
        keypoint = read_ntu_skeleton(path, max_persons=max_persons)
        annotations.append(
            dict(
                frame_dir=name,
                label=fields['action'] - 1,
                total_frames=keypoint.shape[1],
                keypoint=keypoint))
    return dict(split=split, annotations=annotations)
