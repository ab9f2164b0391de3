# Copyright (c) mmaction-sugar contributors. All rights reserved.
import os.path as osp
import reprlib
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import mmengine
import numpy as np
from mmaction.datasets import PoseDataset
from mmaction.datasets.transforms import FormatGCNInput, PreNormalize3D
from mmaction.registry import DATASETS

REQUIRED_KEYS = ('frame_dir', 'label', 'total_frames', 'keypoint')

MAX_ABS_COORD = 1e6
"""float: The largest coordinate magnitude accepted. No skeleton data
measures beyond it (metres, millimetres or pixels): larger values are
corrupt, and from about 1e19 on the pipeline's float32 squares overflow to
inf, so training would go on with NaN losses."""


class AnnotationError(ValueError):
    """A skeleton annotation file that does not hold what it must.

    The message always names the file, and where it applies the sample
    (index and ``frame_dir``) and the field.
    """


@DATASETS.register_module()
class SkeletonDataset(PoseDataset):
    """A :class:`PoseDataset` that validates its annotations when loading.

    It reads the same pickle files as the toolbox's ``PoseDataset``
    (``dict(split=..., annotations=[...])`` as in ``ntu60_3d.pkl``, or a
    plain list of annotations) and checks every sample of the selected
    split before training starts, so a broken file fails at once with an
    :class:`AnnotationError` that names the file, the sample and the field,
    instead of deep inside a transform or a tensor op, or not at all.

    Checked for each sample: the keys ``frame_dir``, ``label``,
    ``total_frames`` and ``keypoint`` are present; ``frame_dir`` is a
    non-empty string, unique in the split; ``keypoint`` is a float array
    of shape ``(M, T, V, C)`` with ``1 <= M <= max_persons``,
    ``T == total_frames >= 1``, ``V == num_joints`` and
    ``C == coord_dim`` (when not given, the values of the first sample);
    coordinates are finite and within :data:`MAX_ABS_COORD`;
    ``keypoint_score``, when present, is a finite float array of shape
    ``(M, T, V)``; ``label`` is an integer in ``[0, num_classes)`` (numpy
    integers become ``int``, which the toolbox's data samples require).
    Checked for the file and the split: the file is a readable pickle with
    at least one annotation; the split exists and is a non-empty list of
    distinct names, each with an annotation.

    Args:
        ann_file (str): Path to the annotation pickle, or to a ``.npz``
            file in the pickle-free format of
            :mod:`mmaction_sugar.datasets.npz_annotations`.
        pipeline (list[dict | callable]): A sequence of data transforms.
        split (str, optional): The split to load, e.g. ``'xsub_train'``.
            None loads every annotation. Defaults to None.
        num_joints (int, optional): Expected joints per person (25 for
            NTU RGB+D). None skips the check. Defaults to None.
        coord_dim (int, optional): Expected coordinates per joint (3 for
            3D, 2 for 2D). None skips the check. Defaults to None.
        num_classes (int, optional): Labels must lie in
            ``[0, num_classes)``. Defaults to the number of
            ``metainfo['classes']`` when those are given, else no check.
        keep_classes (Sequence[int | str], optional): Keep only samples of
            these classes (labels, or names of ``metainfo['classes']``),
            e.g. the seen classes of a zero-shot split. Labels keep their
            original values. Defaults to None (all classes).
        max_persons (int, optional): The most persons (``M``) a sample may
            hold. None takes the bound from the pipeline: the
            ``num_person`` of its ``FormatGCNInput``, which would
            silently keep only the first persons of a larger sample; no
            bound without one. A value above that ``num_person`` accepts
            the truncation knowingly. With ``PreNormalize3D``, which
            handles one or two persons, the bound is at most 2 in any
            case. Defaults to None.
        **kwargs: Passed to :class:`PoseDataset` (``metainfo``,
            ``test_mode``, ...). ``metainfo=dict(classes='x.txt')`` reads
            the class names from a text file, one per line.

    Example:
        >>> import pickle, tempfile, numpy as np
        >>> from mmaction_sugar.datasets import SkeletonDataset
        >>> ann = dict(frame_dir='clip0', label=0,
        ...            total_frames=4,
        ...            keypoint=np.zeros((1, 4, 25, 3), np.float32))
        >>> path = tempfile.mktemp(suffix='.pkl')
        >>> with open(path, 'wb') as f:
        ...     pickle.dump(dict(split=dict(train=[ann['frame_dir']]),
        ...                      annotations=[ann]), f)
        >>> ds = SkeletonDataset(path, pipeline=[], split='train',
        ...                      num_joints=25, coord_dim=3, num_classes=1,
        ...                      lazy_init=True)
        >>> [a['keypoint'].shape for a in ds.load_data_list()]
        [(1, 4, 25, 3)]
        >>> ann['label'] = 3
        >>> with open(path, 'wb') as f:
        ...     pickle.dump([ann], f)
        >>> ds = SkeletonDataset(path, pipeline=[], num_classes=1,
        ...                      lazy_init=True)
        >>> try:
        ...     ds.load_data_list()
        ... except AnnotationError as error:
        ...     print(str(error).replace(path, 'ann.pkl'))
        ann.pkl: sample 0 ('clip0'): field 'label': expected in [0, 1), got 3
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[Dict, Callable]],
                 split: Optional[str] = None,
                 num_joints: Optional[int] = None,
                 coord_dim: Optional[int] = None,
                 num_classes: Optional[int] = None,
                 keep_classes: Optional[Sequence[Union[int, str]]] = None,
                 max_persons: Optional[int] = None,
                 **kwargs) -> None:
        if max_persons is not None and (not isinstance(max_persons, int)
                                        or max_persons < 1):
            raise ValueError(
                f'max_persons must be a positive integer, got {max_persons!r}')
        self.num_joints = num_joints
        self.coord_dim = coord_dim
        self.keep_classes = keep_classes
        self.max_persons = max_persons
        super().__init__(
            ann_file,
            pipeline=pipeline,
            split=split,
            num_classes=num_classes,
            **kwargs)

    def _label_bound(self) -> Optional[int]:
        """The number of classes labels are checked against, if known."""
        if self.num_classes is not None:
            return self.num_classes
        classes = self._metainfo.get('classes')
        return len(classes) if classes else None

    def load_data_list(self) -> List[Dict]:
        """Load the annotation file, select the split and validate it."""
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(
                f'{self.ann_file}: annotation file not found')
        if self.ann_file.endswith('.npz'):  # the pickle-free format
            from .npz_annotations import load_annotations_npz
            data = load_annotations_npz(self.ann_file)
        else:
            data = self._load_pickle()
        annotations, splits = self._unpack(data)
        if self.split is not None:
            annotations = self._select_split(annotations, splits)
        seen = set()
        for index, anno in enumerate(annotations):
            self._check_sample(index, anno)
            if anno['frame_dir'] in seen:
                raise self._error(index, anno, 'frame_dir',
                                  'a name used by one sample only, got a '
                                  'duplicate')
            seen.add(anno['frame_dir'])
        if self.keep_classes is not None:
            keep = self._kept_labels()
            annotations = [a for a in annotations if a['label'] in keep]
            if not annotations:
                raise AnnotationError(
                    f'{self.ann_file}: no sample of keep_classes '
                    f'{list(self.keep_classes)} in split {self.split!r}')
        if 'video' in self.data_prefix:
            for anno in annotations:
                anno['frame_dir'] = osp.join(self.data_prefix['video'],
                                             anno['frame_dir'])
        return annotations

    def _load_pickle(self):
        """The toolbox's annotation pickle (a file you trust: unpickling
        can run code; the ``.npz`` format cannot)."""
        try:
            return mmengine.load(self.ann_file, file_format='pkl')
        except Exception as error:  # truncated, or not a pickle at all
            raise AnnotationError(
                f'{self.ann_file}: cannot read the annotation pickle '
                f'({type(error).__name__}: {error})') from error

    def _kept_labels(self) -> set:
        """Labels named by ``keep_classes`` (labels or class names)."""
        classes = list(self._metainfo.get('classes') or [])
        labels = set()
        for item in self.keep_classes:
            if isinstance(item, str):
                if item not in classes:
                    raise AnnotationError(
                        f'{self.ann_file}: keep_classes names {item!r}, '
                        "which is not in metainfo['classes']")
                labels.add(classes.index(item))
            else:
                labels.add(int(item))
        return labels

    def _person_bound(self) -> Tuple[Optional[int], str]:
        """The most persons a sample may hold, and why (for the message)."""
        limits = []  # (bound, why), the first of equal bounds is reported
        if self.max_persons is not None:
            limits.append((self.max_persons,
                           f'max_persons={self.max_persons}'))
        for transform in getattr(self.pipeline, 'transforms', ()):
            if isinstance(transform, PreNormalize3D):
                limits.append(
                    (2, "the pipeline's PreNormalize3D handles 1 or 2"))
            elif (isinstance(transform, FormatGCNInput)
                  and self.max_persons is None):
                n = transform.num_person
                limits.append((n, "the pipeline's FormatGCNInput(num_person="
                               f'{n}) would silently keep only the first {n}'))
        return min(limits, key=lambda x: x[0]) if limits else (None, '')

    def _unpack(self, data) -> tuple:
        """Split the loaded object into annotations and split lists."""
        if isinstance(data, list):
            if not data:
                raise AnnotationError(f'{self.ann_file}: no annotations')
            return data, None
        if not isinstance(data, dict) or 'annotations' not in data:
            raise AnnotationError(
                f"{self.ann_file}: expected a dict with 'annotations' (and "
                f"'split') or a list of annotations, got "
                f'{type(data).__name__}' + (
                    f' with keys {sorted(data)}'
                    if isinstance(data, dict) else ''))
        annotations = data['annotations']
        if not isinstance(annotations, list) or not annotations:
            raise AnnotationError(
                f"{self.ann_file}: field 'annotations': expected a "
                'non-empty list, got ' + (
                    'an empty list' if isinstance(annotations, list) else
                    type(annotations).__name__))
        for index, anno in enumerate(annotations):
            if not isinstance(anno, dict):
                raise AnnotationError(
                    f'{self.ann_file}: sample {index}: expected a dict, got '
                    f'{type(anno).__name__}')
        return annotations, data.get('split')

    def _select_split(self, annotations: List[Dict],
                      splits: Optional[dict]) -> List[Dict]:
        """Keep the annotations named in ``self.split``, checking it."""
        where = f"{self.ann_file}: split '{self.split}'"
        if not isinstance(splits, dict):
            raise AnnotationError(
                f"{where}: the file has no 'split' dict")
        if self.split not in splits:
            raise AnnotationError(
                f'{where}: not found; available splits: {sorted(splits)}')
        names = splits[self.split]
        if not isinstance(names, (list, tuple, np.ndarray)):
            raise AnnotationError(
                f'{where}: expected a list of sample names, got '
                f'{type(names).__name__}')
        if not len(names):
            raise AnnotationError(f'{where}: the split is empty')
        for position, name in enumerate(names):
            if not isinstance(name, str) or not name:
                raise AnnotationError(
                    f'{where}: name {position}: expected a non-empty '
                    f'string, got {reprlib.repr(name)}')
        names = list(names)
        unique = set(names)
        if len(unique) != len(names):
            dup = sorted(n for n in unique if names.count(n) > 1)[:5]
            raise AnnotationError(f'{where}: duplicated names {dup}')
        for index, anno in enumerate(annotations):
            self._check_frame_dir(index, anno)
        selected = [a for a in annotations if a['frame_dir'] in unique]
        found = {a['frame_dir'] for a in selected}
        if len(found) != len(unique):
            missing = sorted(unique - found)
            raise AnnotationError(
                f'{where}: {len(missing)} name(s) have no annotation, e.g. '
                f'{missing[:5]}')
        return selected

    def _check_frame_dir(self, index: int, anno: Dict) -> None:
        """``frame_dir`` must be a non-empty string (the sample's name)."""
        if 'frame_dir' not in anno:
            raise self._error(index, anno, 'frame_dir', 'present')
        name = anno['frame_dir']
        if not isinstance(name, str) or not name:
            raise self._error(index, anno, 'frame_dir',
                              'a non-empty string', reprlib.repr(name))

    def _check_sample(self, index: int, anno: Dict) -> None:
        """Validate one annotation; raise :class:`AnnotationError`.

        Samples are checked in order from index 0, whose joint count and
        coordinate size the others must share when ``num_joints`` /
        ``coord_dim`` are not given.
        """
        for key in REQUIRED_KEYS:
            if key not in anno:
                raise self._error(index, anno, key, 'present')
        self._check_frame_dir(index, anno)
        label = anno['label']
        if not isinstance(label, (int, np.integer)) or isinstance(
                label, bool):
            raise self._error(index, anno, 'label',
                              'an integer', type(label).__name__)
        num_classes = self._label_bound()
        if label < 0 or (num_classes is not None and label >= num_classes):
            bound = num_classes if num_classes is not None else 'inf'
            raise self._error(index, anno, 'label',
                              f'in [0, {bound})', label)
        anno['label'] = int(label)
        keypoint = anno['keypoint']
        if not isinstance(keypoint, np.ndarray) or keypoint.ndim != 4:
            got = getattr(keypoint, 'shape', type(keypoint).__name__)
            raise self._error(index, anno, 'keypoint',
                              'an array of shape (M, T, V, C)', got)
        num_person, num_frames, num_joints, coord_dim = keypoint.shape
        if min(num_person, num_joints, coord_dim) < 1:
            raise self._error(index, anno, 'keypoint',
                              'shape (M, T, V, C) with M, V, C >= 1',
                              keypoint.shape)
        if index == 0:  # the reference for the checks of every sample
            self._reference = (keypoint.shape[2:], anno['frame_dir'],
                               self._person_bound())
        (joints, coords), first, (persons, why) = self._reference
        joints, coords = self.num_joints or joints, self.coord_dim or coords
        if (num_joints, coord_dim) != (joints, coords):
            like = ('' if self.num_joints and self.coord_dim else
                    f" as in sample 0 ('{first}')")
            raise self._error(index, anno, 'keypoint',
                              f'shape (M, T, {joints}, {coords}){like}',
                              keypoint.shape)
        if persons is not None and num_person > persons:
            raise self._error(
                index, anno, 'keypoint',
                f'at most {persons} persons (M) because {why} (keep the '
                'most active persons when converting, or pass max_persons '
                'to accept the truncation)',
                f'M={num_person} in shape {keypoint.shape}')
        total_frames = anno['total_frames']
        if not isinstance(total_frames, (int, np.integer)) or isinstance(
                total_frames, bool):
            raise self._error(index, anno, 'total_frames', 'an integer',
                              type(total_frames).__name__)
        if total_frames != num_frames or num_frames < 1:
            raise self._error(
                index, anno, 'total_frames',
                f'the keypoint frame count T={num_frames} (>= 1)',
                total_frames)
        anno['total_frames'] = int(total_frames)
        if not np.issubdtype(keypoint.dtype, np.floating):
            raise self._error(index, anno, 'keypoint', 'a float array',
                              keypoint.dtype)
        magnitude = np.abs(keypoint)
        if not (magnitude <= MAX_ABS_COORD).all():  # NaN compares False
            finite = np.isfinite(keypoint)
            if not finite.all():
                what, bad = 'finite coordinates', np.argwhere(~finite)[0]
            else:
                what = f'coordinates within +-{MAX_ABS_COORD:g}'
                bad = np.argwhere(magnitude > MAX_ABS_COORD)[0]
            raise self._error(index, anno, 'keypoint', what,
                              f'{keypoint[tuple(bad)]:g} at (person, frame, '
                              f'joint, coord)={tuple(bad.tolist())}')
        if 'keypoint_score' in anno:
            self._check_score(index, anno, keypoint.shape[:3])

    def _check_score(self, index: int, anno: Dict, shape: tuple) -> None:
        """``keypoint_score``: finite floats of shape (M, T, V)."""
        score = anno['keypoint_score']
        if not isinstance(score, np.ndarray) or score.shape != shape:
            got = getattr(score, 'shape', type(score).__name__)
            raise self._error(index, anno, 'keypoint_score',
                              f'an array of shape {shape}', got)
        if not np.issubdtype(score.dtype, np.floating):
            raise self._error(index, anno, 'keypoint_score', 'a float array',
                              score.dtype)
        if not np.isfinite(score).all():
            bad = np.argwhere(~np.isfinite(score))[0].tolist()
            raise self._error(index, anno, 'keypoint_score', 'finite scores',
                              f'NaN/inf at (person, frame, joint)='
                              f'{tuple(bad)}')

    def _error(self, index: int, anno: Dict, field: str, expected: str,
               got=None) -> AnnotationError:
        """Build the error for one sample and field."""
        name = anno.get('frame_dir') if isinstance(anno, dict) else None
        name = name if isinstance(name, str) else '?'
        message = (f"{self.ann_file}: sample {index} ('{name}'): field "
                   f"'{field}': expected {expected}")
        if got is not None:
            message += f', got {got}'
        return AnnotationError(message)
