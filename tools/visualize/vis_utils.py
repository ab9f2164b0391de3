# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Helpers shared by the scripts of ``tools/visualize``.

Figures are drawn with matplotlib's non-interactive Agg backend, so the
scripts run on machines without a display. The scripts import this module
by name: run them as files (``python tools/visualize/NAME.py ...``), which
puts this folder first on ``sys.path``, or put the folder there first.
"""
import glob
import importlib.util
import json
import os.path as osp
import sys
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

TOOLS_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))

# NTU RGB+D 25-joint layout (0-based): the parent of each joint, -1 for the
# spine base. Joints: 0 spine base, 1 spine mid, 2 neck, 3 head, 4-7 left
# shoulder / elbow / wrist / hand, 8-11 the right arm, 12-15 left hip /
# knee / ankle / foot, 16-19 the right leg, 20 spine shoulder, 21 / 22 left
# hand tip / thumb, 23 / 24 right hand tip / thumb.
NTU_PARENTS = (-1, 0, 20, 2, 20, 4, 5, 6, 20, 8, 9, 10, 0, 12, 13, 14, 0, 16,
               17, 18, 1, 7, 7, 11, 11)
NTU_BONES = tuple((j, p) for j, p in enumerate(NTU_PARENTS) if p >= 0)
NTU_LEFT = frozenset((4, 5, 6, 7, 12, 13, 14, 15, 21, 22))
NTU_RIGHT = frozenset((8, 9, 10, 11, 16, 17, 18, 19, 23, 24))
NUM_JOINTS = len(NTU_PARENTS)

# Keys of an mmengine scalars record that are bookkeeping, not metrics.
TIMING_KEYS = frozenset(('data_time', 'time', 'step', 'epoch', 'iter',
                         'memory', 'lr', 'base_lr', 'eta'))


def check_out_file(path: str, suffixes: Sequence[str]) -> str:
    """Check an output file name before any work is done.

    Args:
        path (str): The file to write.
        suffixes (Sequence[str]): Accepted extensions, e.g. ``('.png', )``.

    Returns:
        str: ``path``, unchanged.

    Raises:
        ValueError: If the extension is not accepted or the folder does not
            exist.
    """
    suffix = osp.splitext(path)[1].lower()
    if suffix not in suffixes:
        raise ValueError(f'{path}: expected a {" or ".join(suffixes)} '
                         f'file, got the extension {suffix or "(none)"!r}')
    folder = osp.dirname(osp.abspath(path))
    if not osp.isdir(folder):
        raise ValueError(f'{path}: the folder {folder} does not exist')
    return path


def save_figure(fig: plt.Figure, path: str, dpi: int = 100) -> str:
    """Write a figure to a file and close it.

    Args:
        fig (matplotlib.figure.Figure): The figure.
        path (str): A ``.png``, ``.pdf`` or ``.svg`` file.
        dpi (int): Resolution of raster output. Defaults to 100.

    Returns:
        str: ``path``.
    """
    check_out_file(path, ('.png', '.pdf', '.svg'))
    try:
        fig.savefig(path, dpi=dpi, bbox_inches='tight')
    finally:
        plt.close(fig)
    return path


def class_colours(num: int) -> np.ndarray:
    """Distinct colours for up to 60 classes (tab20, tab20b, tab20c).

    Args:
        num (int): The number of classes.

    Returns:
        np.ndarray: RGBA colours, shape (num, 4); they repeat after 60.
    """
    palette = np.concatenate([
        plt.get_cmap(name)(np.arange(20))
        for name in ('tab20', 'tab20b', 'tab20c')
    ])
    return palette[np.arange(num) % len(palette)]


def read_class_names(source: str) -> List[str]:
    """Class names, in label order, from a list file or a knowledge.

    Args:
        source (str): A ``.txt`` file (one name per line, as
            ``synth_ntu_classes.txt``), a knowledge JSON, or the name of a
            bundled knowledge (``'synth_ntu'``, ``'ntu60'``, ...).

    Returns:
        list[str]: The names.

    Raises:
        ValueError: If the file is missing or names no class.
    """
    if source.endswith('.txt'):
        if not osp.isfile(source):
            raise ValueError(f'{source}: class list does not exist')
        with open(source, encoding='utf-8') as f:
            names = [line.strip() for line in f if line.strip()]
        if not names:
            raise ValueError(f'{source}: expected one class name per line, '
                             'got an empty file')
        return names
    from mmaction_sugar.datasets.action_knowledge import ActionKnowledge
    return ActionKnowledge.load(source).class_names


def config_class_names(cfg) -> List[str]:
    """The class names of a config's test data (else its head's knowledge).

    Args:
        cfg (mmengine.config.Config): An action recognition config.

    Returns:
        list[str]: The names, in label order.

    Raises:
        ValueError: If the config names no classes.
    """
    dataset = cfg.get('test_dataloader', {}).get('dataset', {})
    while 'metainfo' not in dataset and 'dataset' in dataset:
        dataset = dataset['dataset']  # RepeatDataset and the like
    classes = dataset.get('metainfo', {}).get('classes')
    if isinstance(classes, str):
        return read_class_names(classes)
    if classes:
        return [str(c) for c in classes]
    knowledge = cfg.get('model', {}).get('cls_head', {}).get('knowledge')
    if knowledge:
        return read_class_names(knowledge)
    raise ValueError(f'{cfg.filename}: expected test_dataloader.dataset.'
                     'metainfo.classes or model.cls_head.knowledge')


def load_config(path: str):
    """Load a config (the last stage of a multi-stage one).

    Args:
        path (str): The config file.

    Returns:
        mmengine.config.Config: The config, with the plugin imported and
        mmaction as the default registry scope.

    Raises:
        ValueError: If the file does not exist.
    """
    if not osp.isfile(path):
        raise ValueError(f'{path}: config file does not exist')
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmaction_sugar  # noqa: F401  (compat fixes, registered modules)
    from mmaction_sugar.apis import last_stage_config
    init_default_scope('mmaction')
    return last_stage_config(Config.fromfile(path))


def import_tool(relpath: str):
    """Import a script of ``tools/`` as a module (e.g. ``'demo.py'``).

    Args:
        relpath (str): The script, relative to ``tools/``.

    Returns:
        module: The loaded module.
    """
    path = osp.join(TOOLS_DIR, relpath)
    name = 'sugar_tool_' + osp.splitext(relpath)[0].replace('/', '_')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------
# mmengine logs
def read_json_lines(path: str) -> List[Dict]:
    """Read a file of one JSON object per line (mmengine's scalars.json).

    Args:
        path (str): The file.

    Returns:
        list[dict]: The records, in file order.

    Raises:
        ValueError: If the file is missing or a line is not a JSON object.
    """
    if not osp.isfile(path):
        raise ValueError(f'{path}: file does not exist')
    records = []
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}: line {number}: expected a JSON '
                                 f'object, got {line.strip()[:40]!r} '
                                 f'({err.msg})') from None
            if not isinstance(record, dict):
                raise ValueError(f'{path}: line {number}: expected a JSON '
                                 f'object, got {type(record).__name__}')
            records.append(record)
    return records


def scalars_files(path: str) -> List[str]:
    """The ``scalars.json`` files of a run, oldest first.

    Args:
        path (str): A ``scalars.json`` file, or a work_dir holding
            ``<timestamp>/vis_data/scalars.json`` (several after resuming).

    Returns:
        list[str]: The files.

    Raises:
        ValueError: If there is none.
    """
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise ValueError(f'{path}: no such work_dir or scalars.json file')
    files = sorted(glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise ValueError(f'{path}: expected <timestamp>/vis_data/scalars.json '
                         "in this work_dir (mmengine's LocalVisBackend "
                         'log), found none')
    return files


def load_scalars(path: str) -> Tuple[List[Dict], List[Dict]]:
    """The training and validation records of a run.

    Training records carry ``iter`` (their ``step`` is the iteration);
    validation records do not (their ``step`` is the epoch, or the
    iteration for iteration-based loops). A resumed run writes a new
    ``scalars.json``; a later record of the same step replaces the earlier.

    Args:
        path (str): A work_dir or a ``scalars.json`` file.

    Returns:
        tuple[list[dict], list[dict]]: Training and validation records,
        each sorted by ``step``.
    """
    train: Dict[int, Dict] = {}
    val: Dict[int, Dict] = {}
    for file in scalars_files(path):
        for record in read_json_lines(file):
            if 'step' not in record:
                continue
            kind = train if 'iter' in record else val
            kind[record['step']] = record
    return ([train[s] for s in sorted(train)], [val[s] for s in sorted(val)])


def last_value(records: Sequence[Dict], key: str) -> Optional[float]:
    """The value of ``key`` in the last record that has it.

    Args:
        records (Sequence[dict]): Log records.
        key (str): The metric, e.g. ``'acc/top1'``.

    Returns:
        float, optional: The value, None if no record has it.
    """
    for record in reversed(records):
        if key in record:
            return float(record[key])
    return None


def exit_on_error(main: Callable[[], object]) -> None:
    """Run a script's ``main``; a ValueError ends it with one line.

    The message goes to stderr as ``error: ...`` and the exit status is 2
    (as for a bad command line), without a traceback.

    Args:
        main (Callable): The script's entry point.
    """
    try:
        main()
    except ValueError as err:
        message = ' '.join(str(err).split())
        print(f'error: {message}', file=sys.stderr)
        raise SystemExit(2) from None
