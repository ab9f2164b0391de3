# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Generate the embedded SynthNTU skeleton dataset.

Example::

    python tools/data/generate_synth_ntu.py --out-dir data/synth_ntu \
        --size small --seed 0
"""
import argparse
import importlib.util
import os.path as osp
import sys
import time

if importlib.util.find_spec('mmaction_sugar') is None:
    # run from a checkout without installing the package
    sys.path.insert(
        0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmaction_sugar.datasets.synthetic import SIZE_PRESETS  # noqa: E402
from mmaction_sugar.datasets.synthetic import (SYNTH_NTU_CLASSES,
                                               write_synth_ntu)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate the SynthNTU 3D skeleton dataset (NTU RGB+D '
        'layout, MMAction2 PoseDataset pickle).')
    parser.add_argument(
        '--out-dir', default='data/synth_ntu', help='output folder')
    parser.add_argument(
        '--size',
        default='small',
        choices=sorted(SIZE_PRESETS),
        help='size preset')
    parser.add_argument('--seed', type=int, default=0, help='dataset seed')
    parser.add_argument(
        '--num-subjects', type=int, help='override the number of subjects')
    parser.add_argument(
        '--num-cameras',
        type=int,
        choices=[1, 2, 3],
        help='override the number of cameras')
    parser.add_argument(
        '--num-reps', type=int, help='override the number of repetitions')
    parser.add_argument(
        '--no-noise',
        action='store_true',
        help='do not add sensor noise and dropouts')
    parser.add_argument(
        '--format',
        default='pkl',
        choices=['pkl', 'npz'],
        help='pkl: the toolbox\'s pickle (default); npz: the pickle-free '
        'format (mmaction_sugar/datasets/npz_annotations.py)')
    parser.add_argument(
        '--quiet', action='store_true', help='do not print progress')
    return parser.parse_args(argv)


def make_progress(quiet: bool):
    """Return a progress callback printing about every 10%."""
    if quiet:
        return None
    state = dict(last=-1)

    def progress(done: int, total: int) -> None:
        tenth = done * 10 // total
        if tenth != state['last']:
            state['last'] = tenth
            print(f'  {done}/{total} performances', flush=True)

    return progress


def main(argv=None) -> None:
    args = parse_args(argv)
    start = time.time()
    print(f'Generating SynthNTU ({args.size}, seed {args.seed}, '
          f'{len(SYNTH_NTU_CLASSES)} classes) into {args.out_dir}')
    path = write_synth_ntu(
        args.out_dir,
        size=args.size,
        seed=args.seed,
        num_subjects=args.num_subjects,
        num_cameras=args.num_cameras,
        num_reps=args.num_reps,
        noise=not args.no_noise,
        progress=make_progress(args.quiet),
        file_format=args.format)
    print(f'Wrote {path} in {time.time() - start:.1f}s')


if __name__ == '__main__':
    main()
