# Copyright (c) mmaction-sugar contributors. All rights reserved.
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Union

import mmengine
import numpy as np
from mmaction.datasets import PoseDataset
from mmaction.registry import DATASETS

REQUIRED_KEYS = ('frame_dir', 'label', 'total_frames', 'keypoint')


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
    ``total_frames`` and ``keypoint`` are present; ``keypoint`` is an array
    of shape ``(M, T, V, C)`` with ``V == num_joints`` and
    ``C == coord_dim`` (when given), ``M >= 1`` and ``T == total_frames
    >= 1``; coordinates are finite; ``keypoint_score``, when present, is
    ``(M, T, V)``; ``label`` is an integer in ``[0, num_classes)``; and
    ``frame_dir`` is unique. Checked for the split: it exists, is not empty,
    has no duplicated names, and every name in it has an annotation.

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
                 **kwargs) -> None:
        self.num_joints = num_joints
        self.coord_dim = coord_dim
        self.keep_classes = keep_classes
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
        else:  # a file you trust: unpickling can run code
            data = mmengine.load(self.ann_file, file_format='pkl')
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

    def _unpack(self, data) -> tuple:
        """Split the loaded object into annotations and split lists."""
        if isinstance(data, list):
            return data, None
        if not isinstance(data, dict) or 'annotations' not in data:
            raise AnnotationError(
                f"{self.ann_file}: expected a dict with 'annotations' (and "
                f"'split') or a list of annotations, got "
                f'{type(data).__name__}' + (
                    f' with keys {sorted(data)}'
                    if isinstance(data, dict) else ''))
        annotations = data['annotations']
        if not isinstance(annotations, list):
            raise AnnotationError(
                f"{self.ann_file}: field 'annotations': expected a list, "
                f'got {type(annotations).__name__}')
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
        names = list(splits[self.split])
        if not names:
            raise AnnotationError(f'{where}: the split is empty')
        unique = set(names)
        if len(unique) != len(names):
            dup = sorted(n for n in unique if names.count(n) > 1)[:5]
            raise AnnotationError(f'{where}: duplicated names {dup}')
        for index, anno in enumerate(annotations):
            if 'frame_dir' not in anno:
                raise self._error(index, anno, 'frame_dir', 'present')
        selected = [a for a in annotations if a['frame_dir'] in unique]
        found = {a['frame_dir'] for a in selected}
        if len(found) != len(unique):
            missing = sorted(unique - found)
            raise AnnotationError(
                f'{where}: {len(missing)} name(s) have no annotation, e.g. '
                f'{missing[:5]}')
        return selected

    def _check_sample(self, index: int, anno: Dict) -> None:
        """Validate one annotation; raise :class:`AnnotationError`."""
        for key in REQUIRED_KEYS:
            if key not in anno:
                raise self._error(index, anno, key, 'present')
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
        keypoint = anno['keypoint']
        if not isinstance(keypoint, np.ndarray) or keypoint.ndim != 4:
            got = getattr(keypoint, 'shape', type(keypoint).__name__)
            raise self._error(index, anno, 'keypoint',
                              'an array of shape (M, T, V, C)', got)
        num_person, num_frames, num_joints, coord_dim = keypoint.shape
        expected = (f"(M, T, {self.num_joints or 'V'}, "
                    f"{self.coord_dim or 'C'})")
        if (num_person < 1
                or (self.num_joints and num_joints != self.num_joints)
                or (self.coord_dim and coord_dim != self.coord_dim)):
            raise self._error(index, anno, 'keypoint',
                              f'shape {expected} with M >= 1',
                              keypoint.shape)
        total_frames = anno['total_frames']
        if total_frames != num_frames or num_frames < 1:
            raise self._error(
                index, anno, 'total_frames',
                f'the keypoint frame count T={num_frames} (>= 1)',
                total_frames)
        if not np.issubdtype(keypoint.dtype, np.floating):
            raise self._error(index, anno, 'keypoint', 'a float array',
                              keypoint.dtype)
        if not np.isfinite(keypoint).all():
            bad = np.argwhere(~np.isfinite(keypoint))[0].tolist()
            raise self._error(index, anno, 'keypoint', 'finite coordinates',
                              f'NaN/inf at (person, frame, joint, coord)='
                              f'{tuple(bad)}')
        score = anno.get('keypoint_score')
        if score is not None and np.shape(score) != keypoint.shape[:3]:
            raise self._error(index, anno, 'keypoint_score',
                              f'shape {keypoint.shape[:3]}', np.shape(score))

    def _error(self, index: int, anno: Dict, field: str, expected: str,
               got=None) -> AnnotationError:
        """Build the error for one sample and field."""
        name = anno.get('frame_dir', '?') if isinstance(anno, dict) else '?'
        message = (f"{self.ann_file}: sample {index} ('{name}'): field "
                   f"'{field}': expected {expected}")
        if got is not None:
            message += f', got {got}'
        return AnnotationError(message)
