# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Convert a skeleton annotation pickle into the pickle-free ``.npz`` format.

Loading a pickle can run code, so convert only files you trust (your own,
or from the toolbox's download page); share and load the ``.npz`` after
that. The result is checked by reading it back and comparing every sample.

Example::

    python tools/data/pkl_to_npz.py data/skeleton/ntu60_3d.pkl \\
        data/skeleton/ntu60_3d.npz
"""
import argparse
import os.path as osp
import sys

import numpy as np

try:
    import mmaction_sugar  # noqa: F401
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(
        0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmaction_sugar.datasets import (AnnotationError,  # noqa: E402
                                     load_annotations_npz,
                                     save_annotations_npz)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('pkl', help='a PoseDataset pickle you trust')
    parser.add_argument('out', help='the .npz file to write')
    return parser.parse_args(argv)


def convert(pkl: str, out: str) -> str:
    """Convert ``pkl`` to ``out`` and verify the round trip.

    Args:
        pkl (str): The annotation pickle (a dict with ``annotations`` and
            ``split``, or a list of annotations).
        out (str): The ``.npz`` path.

    Returns:
        str: The path written.

    Raises:
        AnnotationError: If the pickle is not annotations, or the
            round trip changed a sample.
    """
    import mmengine
    data = mmengine.load(pkl, file_format='pkl')
    if isinstance(data, list):
        data = dict(split={}, annotations=data)
    if not isinstance(data, dict) or 'annotations' not in data:
        raise AnnotationError(f"{pkl}: expected a dict with 'annotations' "
                              'or a list of annotations')
    path = save_annotations_npz(out, data['annotations'], data.get('split'))
    back = load_annotations_npz(path)['annotations']
    for index, (a, b) in enumerate(zip(data['annotations'], back)):
        same = np.array_equal(np.asarray(a['keypoint'], np.float32),
                              b['keypoint']) and a['label'] == b['label']
        if not same:
            raise AnnotationError(f'{path}: sample {index} differs from '
                                  f'{pkl} after conversion')
    return path


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        path = convert(args.pkl, args.out)
    except (AnnotationError, OSError) as err:
        sys.exit(f'error: {err}')
    print(f'wrote {path}')


if __name__ == '__main__':
    main()
