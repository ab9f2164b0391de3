# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Plot training losses and validation metrics of one or more runs.

Reads what mmengine's ``LocalVisBackend`` writes into a work_dir,
``<work_dir>/<timestamp>/vis_data/scalars.json`` (one JSON object per
logged step; a resumed run adds a timestamp folder and its records
continue the earlier ones), and draws up to three panels: the training
losses (``loss*`` keys) and the training accuracies (``*acc*`` keys)
against the iteration, and the validation metrics (``acc/top1``, ...)
against the epoch. Several work_dirs are overlaid, one colour per run.

Example:
    python tools/visualize/training_curves.py work_dirs/sugar_stage2 \
        work_dirs/sugar_stage2_ctrgcn --labels ST-GCN CTR-GCN \
        --out curves.png

TensorBoard: mmengine logs the same scalars to TensorBoard when the
config's visualizer lists ``TensorboardVisBackend``. ``--cfg-options``
cannot add a backend (mmengine's ``DictAction`` reads
``vis_backends=[dict(type=...),...]`` as a list of strings), so add it in
a config that inherits the one to run, e.g. ``tb.py`` in the repository
root::

    _base_ = ('configs/sugar/sugar-stage2_stgcn_1xb16-joint-u32-5e_'
              'synthntu-xsub-keypoint-3d.py')
    visualizer = dict(vis_backends=[
        dict(type='LocalVisBackend'),
        dict(type='TensorboardVisBackend')
    ])

then ``python tools/train.py tb.py`` and ``tensorboard --logdir
work_dirs/tb``. To log to TensorBoard only, replace the one backend of
any config: ``--cfg-options
visualizer.vis_backends.0.type=TensorboardVisBackend`` (no
``scalars.json`` is then written for this script). That backend needs the
``tensorboard`` package, which this project does not install (``pip
install tensorboard``); the local backend and this script need nothing
more.
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator
from vis_utils import (TIMING_KEYS, check_out_file, exit_on_error,
                       load_scalars, save_figure)

LINESTYLES = ('-', '--', ':', '-.')  # one per metric of a panel
MARKERS = ('o', 's', '^', 'D')

Series = Dict[str, Tuple[List[float], List[float]]]  # key: (xs, ys)


def series(records: Sequence[Dict], keys: Sequence[str]) -> Series:
    """The values of some keys against each record's ``step``.

    Args:
        records (Sequence[dict]): Log records with ``step``.
        keys (Sequence[str]): The keys to collect.

    Returns:
        dict: Key to ``(steps, values)``, only keys that occur.
    """
    out = {}
    for key in keys:
        points = [(r['step'], float(r[key])) for r in records if key in r]
        if points:
            out[key] = ([x for x, _ in points], [y for _, y in points])
    return out


def metric_keys(records: Sequence[Dict],
                only: Optional[Sequence[str]] = None) -> List[str]:
    """The metric keys of some records, in first-seen order.

    Args:
        records (Sequence[dict]): Log records.
        only (Sequence[str], optional): Keep only these keys. Defaults to
            None (all but timing and learning-rate keys).

    Returns:
        list[str]: The keys.
    """
    keys = []
    for record in records:
        for key, value in record.items():
            if (key not in keys and key not in TIMING_KEYS
                    and isinstance(value, (int, float))):
                keys.append(key)
    return [k for k in keys if only is None or k in only]


def drop_duplicates(curves: Series) -> Series:
    """Drop a curve equal to an earlier one (``loss_cls`` = ``loss``).

    Args:
        curves (dict): Key to ``(steps, values)``.

    Returns:
        dict: The curves without repeats (equal up to float rounding).
    """
    out = {}
    for key, (xs, ys) in curves.items():
        if not any(xs == x and np.allclose(ys, y) for x, y in out.values()):
            out[key] = (xs, ys)
    return out


def panels_of(path: str, keys: Optional[Sequence[str]]) -> Dict[str, Series]:
    """The curves of one run, grouped into panels.

    Args:
        path (str): A work_dir or a ``scalars.json`` file.
        keys (Sequence[str], optional): Keep only these keys.

    Returns:
        dict: Panel name (``'training loss'``, ``'training accuracy'``,
        ``'validation'``) to its curves; empty panels are left out.
    """
    train, val = load_scalars(path)
    train_keys = metric_keys(train, keys)
    panels = {
        'training loss':
        drop_duplicates(
            series(train, [k for k in train_keys if k.startswith('loss')])),
        'training accuracy':
        series(train, [k for k in train_keys if 'acc' in k]),
        'validation':
        drop_duplicates(series(val, metric_keys(val, keys))),
    }
    return {name: curves for name, curves in panels.items() if curves}


def plot_runs(runs: Dict[str, Dict[str, Series]],
              out_file: str,
              val_unit: str = 'epoch',
              dpi: int = 90) -> str:
    """Draw the panels of several runs, one colour per run.

    Args:
        runs (dict): Run label to :func:`panels_of`.
        out_file (str): The ``.png`` (``.pdf``, ``.svg``) to write.
        val_unit (str): The x unit of validation records (``'epoch'`` or
            ``'iteration'``). Defaults to ``'epoch'``.
        dpi (int): Resolution. Defaults to 90.

    Returns:
        str: ``out_file``.

    Raises:
        ValueError: If no run has any curve.
    """
    names = [
        n for n in ('training loss', 'training accuracy', 'validation')
        if any(n in panels for panels in runs.values())
    ]
    if not names:
        raise ValueError(f'no metric to plot in {", ".join(runs)}')
    fig, axes = plt.subplots(
        1, len(names), figsize=(4.2 * len(names), 3.4), squeeze=False)
    colours = plt.get_cmap('tab10').colors
    for ax, name in zip(axes[0], names):
        for run, (label, panels) in enumerate(runs.items()):
            for k, (key, (xs, ys)) in enumerate(panels.get(name, {}).items()):
                ax.plot(
                    xs,
                    ys,
                    LINESTYLES[k % len(LINESTYLES)],
                    color=colours[run % len(colours)],
                    marker=MARKERS[k % len(MARKERS)] if len(xs) < 12 else None,
                    ms=4,
                    label=f'{label}: {key}' if len(runs) > 1 else key)
                if len(xs) <= 3:  # a few points: print their values
                    for x, y in zip(xs, ys):
                        ax.annotate(
                            f'{y:.4g}', (x, y),
                            fontsize=7,
                            xytext=(-4, 4),
                            ha='right',
                            textcoords='offset points')
        ax.set_title(name)
        ax.set_xlabel(val_unit if name == 'validation' else 'iteration')
        ax.set_xlim(left=0, right=ax.get_xlim()[1] + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, out_file, dpi)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments. Defaults to None.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='Plot the training curves of mmengine work_dirs')
    parser.add_argument(
        'runs', nargs='+', help='work_dirs (or scalars.json files)')
    parser.add_argument(
        '--out', required=True, help='the .png (or .pdf, .svg) to write')
    parser.add_argument(
        '--labels',
        nargs='+',
        help='one label per run (default: the '
        'work_dir names)')
    parser.add_argument(
        '--keys',
        nargs='+',
        help='only these metrics (e.g. loss '
        'acc/top1); default: all losses, accuracies and validation metrics')
    parser.add_argument(
        '--val-unit',
        choices=['epoch', 'iteration'],
        default='epoch',
        help="x unit of the validation records: 'iteration' for "
        'iteration-based loops (default: epoch)')
    parser.add_argument(
        '--dpi', type=int, default=90, help='resolution (default: 90)')
    return parser.parse_args(argv)


def run_label(path: str) -> str:
    """A run's default label: its work_dir's name."""
    path = osp.abspath(path)
    if osp.isfile(path):  # <work_dir>/<timestamp>/vis_data/scalars.json
        path = osp.dirname(osp.dirname(osp.dirname(path)))
    return osp.basename(path)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Dict]:
    """Run the script.

    Args:
        argv (Sequence[str], optional): The arguments. Defaults to None.

    Returns:
        dict: Run label to its panels (:func:`panels_of`).

    Raises:
        ValueError: On a missing run, a bad log or output name, or a
            label count that does not match the runs.
    """
    args = parse_args(argv)
    check_out_file(args.out, ('.png', '.pdf', '.svg'))
    labels = args.labels or [run_label(p) for p in args.runs]
    if len(labels) != len(args.runs):
        raise ValueError(f'expected one --labels entry per run '
                         f'({len(args.runs)}), got {len(labels)}')
    if len(set(labels)) != len(labels):
        raise ValueError(f'expected distinct run labels, got {labels}: '
                         'give --labels')
    runs = {
        label: panels_of(path, args.keys)
        for label, path in zip(labels, args.runs)
    }
    plot_runs(runs, args.out, args.val_unit, args.dpi)
    print(f'wrote {args.out}')
    return runs


if __name__ == '__main__':
    exit_on_error(main)
