# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Plot the confusion matrix of dumped test predictions.

Reads the predictions that ``tools/test.py CONFIG CKPT --dump preds.pkl``
writes (mmengine's ``DumpResults``: a list of dicts with ``gt_label`` and
``pred_label``) with an unpickler that accepts only tensors, numpy arrays
and plain containers, and draws the confusion matrix normalised per true
class (each row sums to 1), class names on both axes.

Class names come from ``--config`` (its test data's ``metainfo.classes``,
else its head's knowledge) or from ``--classes`` (a class list ``.txt``,
a knowledge JSON or a bundled knowledge name such as ``synth_ntu``).

Example:
    CONFIG=configs/sugar/sugar-stage2_stgcn_1xb16-joint-u32-5e_synthntu-\
xsub-keypoint-3d.py
    python tools/test.py $CONFIG \
        work_dirs/sugar_stage2/best_acc_top1_epoch_5.pth \
        --dump work_dirs/sugar_stage2/preds.pkl
    python tools/visualize/confusion_matrix.py \
        work_dirs/sugar_stage2/preds.pkl confusion_matrix.png --config $CONFIG
"""
import argparse
import collections
import io
import os.path as osp
import pickle
from typing import BinaryIO, Callable, Dict, List, Optional, Sequence, Tuple

import matplotlib.pyplot as plt
import numpy as np
from vis_utils import (check_out_file, config_class_names, exit_on_error,
                       load_config, read_class_names, save_figure)


def _safe_globals() -> Dict[Tuple[str, str], Callable]:
    """The only globals a predictions pickle may name."""
    import _codecs
    import torch
    from numpy._core import multiarray

    def load_storage(data: bytes):  # torch.storage._load_from_bytes, safe
        return torch.load(io.BytesIO(data), weights_only=True)

    allowed = {
        ('torch._utils', '_rebuild_tensor_v2'):
        torch._utils._rebuild_tensor_v2,
        ('torch.storage', '_load_from_bytes'): load_storage,
        ('collections', 'OrderedDict'): collections.OrderedDict,
        ('_codecs', 'encode'): _codecs.encode,
        ('numpy', 'ndarray'): np.ndarray,
        ('numpy', 'dtype'): np.dtype,
    }
    for module in ('numpy._core.multiarray', 'numpy.core.multiarray'):
        allowed[(module, '_reconstruct')] = multiarray._reconstruct
        allowed[(module, 'scalar')] = multiarray.scalar
    for name in dir(np.dtypes):  # numpy 2 pickles dtypes by class
        if name.endswith('DType'):
            allowed[('numpy.dtypes', name)] = getattr(np.dtypes, name)
    return allowed


class PredictionUnpickler(pickle.Unpickler):
    """Unpickle tensors, arrays and containers; refuse anything else.

    Args:
        file (BinaryIO): The open pickle file.
    """

    def __init__(self, file: BinaryIO) -> None:
        super().__init__(file)
        self.allowed = _safe_globals()

    def find_class(self, module: str, name: str) -> Callable:
        """Resolve an allow-listed global.

        Args:
            module (str): The global's module.
            name (str): Its name.

        Returns:
            Callable: The allowed object.

        Raises:
            pickle.UnpicklingError: For any other global.
        """
        if (module, name) not in self.allowed:
            raise pickle.UnpicklingError(
                f'{module}.{name} is not allowed in a predictions file')
        return self.allowed[(module, name)]


def _label(value, where: str) -> int:
    """One label from a tensor, an array or an int."""
    array = np.asarray(value.cpu() if hasattr(value, 'cpu') else value)
    if array.size != 1:
        raise ValueError(f'{where}: expected one label, got shape '
                         f'{array.shape}')
    return int(array.reshape(-1)[0])


def load_predictions(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """True and predicted labels of a ``tools/test.py --dump`` file.

    Args:
        path (str): The ``.pkl`` file.

    Returns:
        tuple[np.ndarray, np.ndarray]: True and predicted labels, shape
        (N, ) each.

    Raises:
        ValueError: If the file is missing, unreadable or not a list of
            dicts with ``gt_label`` and ``pred_label``.
    """
    if not osp.isfile(path):
        raise ValueError(f'{path}: predictions file does not exist')
    try:
        with open(path, 'rb') as f:
            results = PredictionUnpickler(f).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError,
            AttributeError, IndexError, RuntimeError) as err:
        raise ValueError(f'{path}: expected the pickle of tools/test.py '
                         f'--dump, cannot read it: {err}') from None
    if not isinstance(results, list) or not results:
        raise ValueError(f'{path}: expected a non-empty list of predictions '
                         f'(tools/test.py --dump), got '
                         f'{type(results).__name__}')
    gt, pred = [], []
    for i, item in enumerate(results):
        if not isinstance(item, dict) or not {'gt_label', 'pred_label'
                                              } <= set(item):
            raise ValueError(f"{path}: prediction {i}: expected a dict with "
                             "'gt_label' and 'pred_label'")
        gt.append(_label(item['gt_label'], f'{path}: prediction {i}'))
        pred.append(_label(item['pred_label'], f'{path}: prediction {i}'))
    return np.array(gt), np.array(pred)


def confusion(gt: np.ndarray, pred: np.ndarray,
              num_classes: int) -> np.ndarray:
    """Row-normalised confusion matrix.

    Args:
        gt (np.ndarray): True labels, shape (N, ).
        pred (np.ndarray): Predicted labels, shape (N, ).
        num_classes (int): C.

    Returns:
        np.ndarray: Shape (C, C); entry (i, j) is the fraction of class i
        predicted as j (a row without samples is all zero).

    Raises:
        ValueError: If a label is outside ``[0, C)``.
    """
    labels = np.concatenate([gt, pred])
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f'expected labels in [0, {num_classes}) (the class '
                         f'names), got labels {labels.min()} to '
                         f'{labels.max()}')
    counts = np.zeros((num_classes, num_classes))
    np.add.at(counts, (gt, pred), 1)
    totals = counts.sum(1, keepdims=True)
    return counts / np.maximum(totals, 1)


def plot_confusion(matrix: np.ndarray,
                   class_names: Sequence[str],
                   out_file: str,
                   title: str = '',
                   dpi: int = 80) -> str:
    """Draw a row-normalised confusion matrix with class names.

    Args:
        matrix (np.ndarray): Shape (C, C), rows summing to 1.
        class_names (Sequence[str]): C names, in label order.
        out_file (str): The ``.png`` (``.pdf``, ``.svg``) to write.
        title (str): The title. Defaults to ''.
        dpi (int): Resolution. Defaults to 80.

    Returns:
        str: ``out_file``.
    """
    num = len(class_names)
    size = max(4.0, 0.28 * num + 2.5)
    fig, ax = plt.subplots(figsize=(size + 1.0, size))
    image = ax.imshow(matrix, cmap='Blues', vmin=0, vmax=1)
    ticks = np.arange(num)
    ax.set_xticks(ticks, labels=class_names, rotation=90, fontsize=7)
    ax.set_yticks(ticks, labels=class_names, fontsize=7)
    ax.set_xlabel('predicted class')
    ax.set_ylabel('true class')
    if num <= 40:  # the percentages stay readable
        for i, j in zip(*np.nonzero(matrix >= 0.005)):
            ax.text(
                j,
                i,
                f'{matrix[i, j] * 100:.0f}',
                ha='center',
                va='center',
                fontsize=5,
                color='white' if matrix[i, j] > 0.5 else 'black')
    fig.colorbar(
        image,
        ax=ax,
        fraction=0.04,
        pad=0.02,
        label='fraction of the true class')
    if title:
        ax.set_title(title)
    return save_figure(fig, out_file, dpi)


def class_names_of(args: argparse.Namespace) -> List[str]:
    """The class names from ``--classes`` or ``--config``.

    Args:
        args (argparse.Namespace): The parsed arguments.

    Returns:
        list[str]: The names, in label order.

    Raises:
        ValueError: If neither option is given.
    """
    if args.classes:
        return read_class_names(args.classes)
    if args.config:
        return config_class_names(load_config(args.config))
    raise ValueError('give --config (the tested config) or --classes (a '
                     'class list or knowledge) for the class names')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments. Defaults to None.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='Confusion matrix of tools/test.py --dump predictions')
    parser.add_argument('preds', help='the .pkl of tools/test.py --dump')
    parser.add_argument('out', help='the .png (or .pdf, .svg) to write')
    parser.add_argument('--config', help='the tested config (class names)')
    parser.add_argument(
        '--classes',
        help='class names: a .txt list, a knowledge JSON or a bundled '
        'knowledge name (overrides --config)')
    parser.add_argument('--title', default=None, help='figure title')
    parser.add_argument(
        '--dpi', type=int, default=80, help='resolution (default: 80)')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> np.ndarray:
    """Run the script.

    Args:
        argv (Sequence[str], optional): The arguments. Defaults to None.

    Returns:
        np.ndarray: The row-normalised confusion matrix.

    Raises:
        ValueError: On a bad predictions file, class list or output name.
    """
    args = parse_args(argv)
    check_out_file(args.out, ('.png', '.pdf', '.svg'))
    gt, pred = load_predictions(args.preds)
    names = class_names_of(args)
    matrix = confusion(gt, pred, len(names))
    top1 = float((gt == pred).mean())
    title = args.title if args.title is not None else (
        f'{osp.basename(args.preds)}: {len(gt)} clips, top-1 '
        f'{top1:.2%}, rows normalised')
    plot_confusion(matrix, names, args.out, title, args.dpi)
    print(f'wrote {args.out} ({len(gt)} predictions, top-1 {top1:.2%})')
    return matrix


if __name__ == '__main__':
    exit_on_error(main)
