# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Convert raw NTU RGB+D ``.skeleton`` files to a PoseDataset pickle, or
to the pickle-free ``.npz`` format when the output name ends with ``.npz``.

Example::

    python tools/data/ntu_raw_to_pkl.py data/nturgb+d_skeletons \\
        data/skeleton/ntu60_3d.pkl --benchmark ntu60 \\
        --missing-list NTU_RGBD_samples_with_missing_skeletons.txt
"""
import argparse
import os
import os.path as osp
import pickle
import sys

try:
    import mmaction_sugar  # noqa: F401
except ImportError:
    # Run from a checkout without the package installed.
    sys.path.insert(
        0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmaction_sugar.datasets import save_annotations_npz  # noqa: E402
from mmaction_sugar.datasets.ntu_raw import NTUSkeletonError, convert_ntu_raw


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (list[str], optional): Arguments, ``sys.argv[1:]`` if None.
            Defaults to None.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='Convert a folder of raw NTU RGB+D / NTU RGB+D 120 '
        '.skeleton files into an MMAction2 PoseDataset pickle '
        '(like ntu60_3d.pkl / ntu120_3d.pkl).')
    parser.add_argument('raw_dir', help='folder of .skeleton files')
    parser.add_argument(
        'out',
        help='output .pkl file, or .npz for the pickle-free format '
        '(mmaction_sugar/datasets/npz_annotations.py)')
    parser.add_argument(
        '--benchmark',
        choices=['ntu60', 'ntu120'],
        default='ntu60',
        help='ntu60: actions 1-60, setups 1-17, xsub/xview splits; '
        'ntu120: xsub/xset splits (default: ntu60)')
    parser.add_argument(
        '--max-persons',
        type=int,
        default=2,
        help='keep at most this many (most active) bodies (default: 2)')
    parser.add_argument(
        '--missing-list',
        help='text file of samples to skip, e.g. NTU\'s "samples with '
        'missing skeletons" list')
    parser.add_argument(
        '--no-progress', action='store_true', help='do not show progress')
    args = parser.parse_args(argv)
    if args.max_persons < 1:
        parser.error('--max-persons must be >= 1')
    return args


def main(argv=None) -> None:
    """Run the conversion and write the pickle (protocol 4)."""
    args = parse_args(argv)
    try:
        data = convert_ntu_raw(
            args.raw_dir,
            benchmark=args.benchmark,
            max_persons=args.max_persons,
            missing_list=args.missing_list,
            progress=not args.no_progress)
    except (NTUSkeletonError, ValueError, OSError) as e:
        sys.exit(f'error: {e}')

    out_dir = osp.dirname(osp.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    if args.out.endswith('.npz'):
        save_annotations_npz(args.out, data['annotations'], data['split'])
    else:
        # Write to a temporary file first so a crash never leaves a
        # truncated pickle under the final name.
        tmp = args.out + '.tmp'
        with open(tmp, 'wb') as f:
            pickle.dump(data, f, protocol=4)
        os.replace(tmp, args.out)

    sizes = ', '.join(f'{k}: {len(v)}' for k, v in data['split'].items())
    print(f'wrote {len(data["annotations"])} samples to {args.out} '
          f'({sizes})')


if __name__ == '__main__':
    main()
