# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""A skeleton annotation format that cannot run code when loaded.

The toolbox's annotation files (``ntu60_3d.pkl``) are pickles, and loading
a pickle can execute code. This format holds the same content in one
``.npz`` file read with ``numpy.load(..., allow_pickle=False)``:

- ``format``: the string ``'mmaction-sugar-annotations/1'``;
- ``meta``: a JSON string ``{"split": {name: [frame_dir, ...]},
  "samples": [{"frame_dir", "label", "total_frames", "num_person", ...},
  ...]}``; other per-sample fields must be JSON values (numbers, strings,
  lists), e.g. ``img_shape``;
- ``keypoint``: float32, every sample's ``(M, T, V, C)`` array flattened to
  ``(M * T, V, C)`` and concatenated in sample order;
- ``keypoint_score`` (optional): float32 ``(sum M * T, V)`` likewise.

:class:`~mmaction_sugar.datasets.SkeletonDataset` reads it when
``ann_file`` ends with ``.npz``; the data tools write it with
``--format npz``, and ``tools/data/pkl_to_npz.py`` converts a pickle you
trust.
"""
import json
import os
import os.path as osp
import tempfile
import zipfile
from typing import Dict, List, Optional

import numpy as np

from .skeleton_dataset import AnnotationError

FORMAT = 'mmaction-sugar-annotations/1'
ARRAY_FIELDS = ('keypoint', 'keypoint_score')


def save_annotations_npz(path: str,
                         annotations: List[Dict],
                         split: Optional[Dict[str, List[str]]] = None
                         ) -> str:
    """Write annotations in the pickle-free ``.npz`` format, atomically.

    Args:
        path (str): The output file; ``.npz`` is appended if missing.
        annotations (list[dict]): Samples as in the toolbox's pickles:
            ``frame_dir``, ``label``, ``total_frames``, ``keypoint``
            ``(M, T, V, C)``, optional ``keypoint_score`` ``(M, T, V)``
            and other JSON-serialisable fields.
        split (dict[str, list[str]], optional): Split name to the
            ``frame_dir`` of its samples. Defaults to None.

    Returns:
        str: The path written.

    Raises:
        AnnotationError: If a sample lacks ``keypoint``, the samples
            disagree on ``V``/``C``, or a field is not JSON-serialisable.

    Example:
        >>> import tempfile, numpy as np
        >>> from mmaction_sugar.datasets import (load_annotations_npz,
        ...                                      save_annotations_npz)
        >>> ann = dict(frame_dir='a', label=1, total_frames=4,
        ...            keypoint=np.ones((2, 4, 25, 3), np.float32))
        >>> path = save_annotations_npz(tempfile.mktemp(), [ann],
        ...                             split=dict(train=['a']))
        >>> data = load_annotations_npz(path)
        >>> data['split'], data['annotations'][0]['keypoint'].shape
        ({'train': ['a']}, (2, 4, 25, 3))
    """
    if not path.endswith('.npz'):
        path += '.npz'
    samples, keypoints, scores = [], [], []
    for index, anno in enumerate(annotations):
        where = f'{path}: sample {index} ({anno.get("frame_dir", "?")!r})'
        keypoint = anno.get('keypoint')
        if not isinstance(keypoint, np.ndarray) or keypoint.ndim != 4:
            raise AnnotationError(f"{where}: field 'keypoint': expected an "
                                  'array of shape (M, T, V, C)')
        if keypoints and keypoint.shape[2:] != keypoints[0].shape[1:]:
            raise AnnotationError(
                f"{where}: field 'keypoint': expected (V, C) = "
                f'{keypoints[0].shape[1:]} like the first sample, got '
                f'{keypoint.shape[2:]}')
        num_person, num_frames = keypoint.shape[:2]
        keypoints.append(keypoint.reshape(num_person * num_frames,
                                          *keypoint.shape[2:]))
        score = anno.get('keypoint_score')
        if (score is None) != (not scores) and index > 0:
            raise AnnotationError(f"{where}: field 'keypoint_score': "
                                  'expected in every sample or in none')
        if score is not None:
            scores.append(np.asarray(score, np.float32).reshape(
                num_person * num_frames, -1))
        sample = {k: v for k, v in anno.items() if k not in ARRAY_FIELDS}
        sample['num_person'] = int(num_person)
        samples.append(_jsonable(sample, where))
    meta = json.dumps(dict(split=split or {}, samples=samples))
    arrays = dict(format=np.array(FORMAT), meta=np.array(meta),
                  keypoint=np.concatenate(keypoints).astype(np.float32))
    if scores:
        arrays['keypoint_score'] = np.concatenate(scores)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix='.npz.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return path


def load_annotations_npz(path: str) -> Dict:
    """Read a file written by :func:`save_annotations_npz`, without pickle.

    Args:
        path (str): The ``.npz`` file.

    Returns:
        dict: ``dict(split=..., annotations=[...])`` as in the toolbox's
        pickles, each sample with its ``keypoint`` (and
        ``keypoint_score``) arrays.

    Raises:
        AnnotationError: If the file is not in this format or its arrays
            disagree with its samples.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise AnnotationError(
            f'{path}: not a readable .npz annotation file ({err})') from None
    if str(arrays.get('format', '')) != FORMAT:
        raise AnnotationError(
            f"{path}: field 'format': expected {FORMAT!r}, got "
            f"{str(arrays.get('format', 'nothing'))!r}")
    for key in ('meta', 'keypoint'):
        if key not in arrays:
            raise AnnotationError(f"{path}: field {key!r} is missing")
    try:
        meta = json.loads(str(arrays['meta']))
        samples, split = meta['samples'], meta['split']
    except (ValueError, KeyError, TypeError) as err:
        raise AnnotationError(f"{path}: field 'meta': expected JSON with "
                              f"'samples' and 'split' ({err})") from None
    keypoint, score = arrays['keypoint'], arrays.get('keypoint_score')
    sizes = []
    for index, sample in enumerate(samples):
        try:
            sizes.append(int(sample['num_person']) *
                         int(sample['total_frames']))
        except (KeyError, TypeError, ValueError):
            raise AnnotationError(
                f'{path}: sample {index}: fields num_person and '
                'total_frames: expected integers') from None
    rows = sum(sizes)
    for name, array in (('keypoint', keypoint), ('keypoint_score', score)):
        if array is not None and array.shape[0] != rows:
            raise AnnotationError(
                f"{path}: field {name!r}: expected {rows} rows (sum of "
                f'num_person * total_frames), got {array.shape[0]}')
    annotations, start = [], 0
    for sample, size in zip(samples, sizes):
        anno = dict(sample)
        num_person = anno.pop('num_person')
        shape = (num_person, anno['total_frames'])
        anno['keypoint'] = keypoint[start:start + size].reshape(
            *shape, *keypoint.shape[1:])
        if score is not None:
            anno['keypoint_score'] = score[start:start + size].reshape(
                *shape, -1)
        start += size
        annotations.append(anno)
    return dict(split=split, annotations=annotations)


def _jsonable(sample: Dict, where: str) -> Dict:
    """``sample`` with numpy scalars/arrays turned into JSON values."""
    out = {}
    for key, value in sample.items():
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        elif isinstance(value, tuple):
            value = list(value)
        try:
            json.dumps(value)
        except TypeError:
            raise AnnotationError(
                f'{where}: field {key!r}: expected a JSON value (number, '
                f'string, list), got {type(value).__name__}') from None
        out[key] = value
    return out
