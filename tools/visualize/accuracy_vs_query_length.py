# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Plot top-1 against the total query length of the TQP (SUGAR Fig. 4).

Each run is given as ``LENGTH=PATH``: the total number of soft tokens of
its Temporal Query Projection (``model.neck.num_queries``) and where its
accuracy is:

- a work_dir: the newest test result in it or one folder below
  (``tools/test.py --work-dir`` writes ``<timestamp>/<timestamp>.json``,
  one JSON object of the test metrics), else the last validation record
  of its ``<timestamp>/vis_data/scalars.json``;
- a ``.json`` file: a test result (one object) or a ``scalars.json``
  (one object per line; the last one holding the metric is used).

Example (the stage-3 runs are trained with
``--cfg-options model.neck.num_queries=N`` and tested into their
work_dirs):
    python tools/visualize/accuracy_vs_query_length.py \
        --runs 8=work_dirs/s3_q8 16=work_dirs/s3_q16 32=work_dirs/s3_q32 \
        --out accuracy_vs_query_length.png
"""
import argparse
import glob
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import matplotlib.pyplot as plt
from vis_utils import (check_out_file, exit_on_error, last_value, load_scalars,
                       read_json_lines, save_figure)


def parse_run(spec: str) -> Tuple[int, str]:
    """Split a ``LENGTH=PATH`` run argument.

    Args:
        spec (str): E.g. ``'16=work_dirs/s3E'``.

    Returns:
        tuple[int, str]: The query length and the path.

    Raises:
        ValueError: If the form or the length is wrong.
    """
    length, sep, path = spec.partition('=')
    if not sep or not path or not length.strip().isdigit():
        raise ValueError(f'--runs {spec!r}: expected LENGTH=PATH with a '
                         'positive integer LENGTH, e.g. 16=work_dirs/s3E')
    if int(length) < 1:
        raise ValueError(f'--runs {spec!r}: the query length must be at '
                         'least 1')
    return int(length), path


def find_test_results(work_dir: str) -> List[str]:
    """Test metric files of a work_dir, oldest first.

    ``tools/test.py`` writes ``<work_dir>/<timestamp>/<timestamp>.json``;
    a test run into ``<work_dir>/test`` is found one level down.

    Args:
        work_dir (str): The folder.

    Returns:
        list[str]: The files, sorted by timestamp.
    """
    files = glob.glob(osp.join(work_dir, '*', '*.json')) + glob.glob(
        osp.join(work_dir, '*', '*', '*.json'))
    files = [
        f for f in files
        if osp.splitext(osp.basename(f))[0] == osp.basename(osp.dirname(f))
    ]
    return sorted(files, key=lambda f: osp.basename(f))


def read_metric(path: str, metric: str) -> Tuple[float, str]:
    """A run's final value of a metric.

    Args:
        path (str): A work_dir, a test result ``.json`` or a
            ``scalars.json``.
        metric (str): E.g. ``'acc/top1'``.

    Returns:
        tuple[float, str]: The value and the file it came from.

    Raises:
        ValueError: If the path is missing or holds no such metric.
    """
    if osp.isdir(path):
        for file in reversed(find_test_results(path)):
            value = last_value(read_json_lines(file), metric)
            if value is not None:
                return value, file
        value = last_value(load_scalars(path)[1], metric)
        if value is None:
            raise ValueError(f'{path}: no test result and no validation '
                             f'record with {metric!r} in this work_dir')
        return value, path
    if not osp.isfile(path):
        raise ValueError(f'{path}: no such work_dir or metrics file')
    try:
        value = last_value(read_json_lines(path), metric)
    except ValueError:  # a pretty-printed JSON object over several lines
        with open(path, encoding='utf-8') as f:
            value = last_value([json.load(f)], metric)
    if value is None:
        raise ValueError(f'{path}: expected a {metric!r} entry, found none')
    return value, path


def plot_curve(points: Dict[int, Dict[str, float]],
               out_file: str,
               title: str = '',
               dpi: int = 100) -> str:
    """Draw metric (in %) against query length, one line per metric.

    Args:
        points (dict): Query length to metric name to value (0 to 1).
        out_file (str): The ``.png`` (``.pdf``, ``.svg``) to write.
        title (str): The title. Defaults to ''.
        dpi (int): Resolution. Defaults to 100.

    Returns:
        str: ``out_file``.
    """
    lengths = sorted(points)
    metrics = list(points[lengths[0]])
    fig, ax = plt.subplots(figsize=(4.8, 3.4))
    for metric in metrics:
        ys = [points[n][metric] * 100 for n in lengths]
        ax.plot(lengths, ys, 'o-', label=metric)
        for x, y in zip(lengths, ys):
            ax.annotate(
                f'{y:.1f}', (x, y),
                xytext=(0, 5),
                ha='center',
                textcoords='offset points',
                fontsize=8)
    if len(lengths) > 1 and lengths[-1] / lengths[0] >= 8:
        ax.set_xscale('log', base=2)
    ax.set_xticks(lengths, labels=[str(n) for n in lengths])
    ax.minorticks_off()
    ax.set_xlabel('total query length (soft tokens)')
    ax.set_ylabel('accuracy (%)')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
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
        description='Plot accuracy against the TQP total query length')
    parser.add_argument(
        '--runs',
        nargs='+',
        required=True,
        metavar='LENGTH=PATH',
        help='query length and work_dir (or metrics .json) of each run')
    parser.add_argument(
        '--out', required=True, help='the .png (or .pdf, .svg) to write')
    parser.add_argument(
        '--metrics',
        nargs='+',
        default=['acc/top1'],
        help='metrics to plot (default: acc/top1)')
    parser.add_argument(
        '--title', default='Top-1 vs. TQP query length', help='title')
    parser.add_argument(
        '--dpi', type=int, default=100, help='resolution (default: 100)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> Dict[int, Dict]:
    """Run the script.

    Args:
        argv (Sequence[str], optional): The arguments. Defaults to None.

    Returns:
        dict: Query length to metric name to value.

    Raises:
        ValueError: On a malformed or repeated run, a missing metric or a
            bad output name.
    """
    args = parse_args(argv)
    check_out_file(args.out, ('.png', '.pdf', '.svg'))
    runs = [parse_run(spec) for spec in args.runs]
    lengths = [length for length, _ in runs]
    for length in lengths:
        if lengths.count(length) > 1:
            raise ValueError(f'--runs: query length {length} is given twice')
    points: Dict[int, Dict[str, float]] = {}
    for length, path in runs:
        points[length] = {}
        for metric in args.metrics:
            value, source = read_metric(path, metric)
            points[length][metric] = value
            print(f'{length:>5}: {metric} = {value * 100:.2f} ({source})')
    plot_curve(points, args.out, args.title, args.dpi)
    print(f'wrote {args.out}')
    return points


if __name__ == '__main__':
    exit_on_error(main)
