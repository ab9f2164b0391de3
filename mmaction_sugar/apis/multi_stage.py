# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Run a method's training stages one after another from one config.

A *multi-stage config* lists ordinary configs instead of defining a model::

    stages = [
        dict(name='stage2', config='sugar/sugar-stage2_....py'),
        dict(name='stage3', config='sugar/sugar-stage3_....py',
             encoder_from='stage2'),
    ]

``tools/train.py`` trains each stage with the stock mmengine runner in
``<work_dir>/<name>``; ``encoder_from`` sets the stage's
``model.encoder_checkpoint`` to the final checkpoint of an earlier stage.
A finished stage leaves ``stage_done.json`` (written atomically) and is
skipped when the command runs again; an interrupted stage resumes from
its latest checkpoint. ``tools/test.py`` tests the last stage.
"""
import json
import os
import os.path as osp
from typing import Callable, Dict, List, Optional

from mmengine.config import Config

__all__ = [
    'is_multi_stage', 'stage_list', 'stage_config', 'last_stage_config',
    'final_checkpoint', 'run_stages', 'StageError'
]

DONE_FILE = 'stage_done.json'


class StageError(ValueError):
    """A malformed multi-stage config or a missing stage result."""


def is_multi_stage(cfg: Config) -> bool:
    """Whether ``cfg`` lists stages instead of defining one run."""
    return 'stages' in cfg


def stage_list(cfg: Config) -> List[Dict]:
    """The validated stage entries of a multi-stage config."""
    stages, names = cfg.get('stages'), []
    if not isinstance(stages, (list, tuple)) or not stages:
        raise StageError(f'{cfg.filename}: `stages` must be a non-empty list')
    for i, stage in enumerate(stages):
        where = f'{cfg.filename}: stages[{i}]'
        if not isinstance(stage, dict) or not {'name', 'config'} <= set(stage):
            raise StageError(f'{where} needs `name` and `config`')
        source = stage.get('encoder_from')
        if source is not None and source not in names:
            raise StageError(f'{where}: encoder_from={source!r} is not an '
                             f'earlier stage (have {names})')
        if stage['name'] in names:
            raise StageError(f'{where}: duplicate name {stage["name"]!r}')
        names.append(stage['name'])
    return [dict(s) for s in stages]


def stage_config(cfg: Config, stage: Dict) -> Config:
    """Load one stage's config (paths relative to the multi-stage file)."""
    path = osp.join(osp.dirname(cfg.filename), stage['config'])
    if not osp.isfile(path):
        raise StageError(f'{cfg.filename}: stage {stage["name"]!r} config '
                         f'{path!r} does not exist')
    return Config.fromfile(path)


def last_stage_config(cfg: Config) -> Config:
    """The config that a multi-stage config tests and serves (its last
    stage); any other config is returned as it is."""
    if not is_multi_stage(cfg):
        return cfg
    return stage_config(cfg, stage_list(cfg)[-1])


def final_checkpoint(work_dir: str) -> str:
    """The checkpoint a finished stage hands on: its best, else its last.

    Raises:
        StageError: If the stage has not finished.
    """
    done = osp.join(work_dir, DONE_FILE)
    if not osp.isfile(done):
        raise StageError(f'{work_dir} has no finished stage ({DONE_FILE} '
                         'missing): train that stage first')
    with open(done, encoding='utf-8') as f:
        return json.load(f)['checkpoint']


def _pick_checkpoint(work_dir: str) -> str:
    best = sorted((f for f in os.listdir(work_dir)
                   if f.startswith('best_') and f.endswith('.pth')),
                  key=lambda f: osp.getmtime(osp.join(work_dir, f)))
    if best:
        return osp.join(work_dir, best[-1])
    last = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(last):
        raise StageError(f'{work_dir}: training wrote no checkpoint')
    with open(last, encoding='utf-8') as f:
        return osp.join(work_dir, osp.basename(f.read().strip()))


def _mark_done(work_dir: str, checkpoint: str) -> None:
    tmp = osp.join(work_dir, DONE_FILE + '.tmp')
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(dict(checkpoint=checkpoint), f)
    os.replace(tmp, osp.join(work_dir, DONE_FILE))


def run_stages(cfg: Config,
               work_dir: str,
               prepare: Callable[[Config, str], Config],
               build_and_train: Callable[[Config], None],
               only: Optional[str] = None) -> Dict[str, str]:
    """Train the stages in order; skip finished ones.

    Args:
        cfg (Config): The multi-stage config.
        work_dir (str): The root work directory (a folder per stage).
        prepare (Callable): ``(stage_cfg, stage_work_dir) -> cfg``; applies
            the command-line options to a stage config.
        build_and_train (Callable): Builds a runner from a stage config
            and trains it.
        only (str, optional): Train this stage only. Defaults to None.

    Returns:
        dict: Stage name -> final checkpoint.
    """
    results = dict()
    for stage in stage_list(cfg):
        name = stage['name']
        stage_dir = osp.join(work_dir, name)
        if only is not None and name != only:
            if osp.isfile(osp.join(stage_dir, DONE_FILE)):
                results[name] = final_checkpoint(stage_dir)
            continue
        if osp.isfile(osp.join(stage_dir, DONE_FILE)):
            results[name] = final_checkpoint(stage_dir)
            print(f'[stages] {name}: already done ({results[name]})')
            continue
        sub = prepare(stage_config(cfg, stage), stage_dir)
        source = stage.get('encoder_from')
        if source is not None:
            if source not in results:
                results[source] = final_checkpoint(osp.join(work_dir, source))
            sub.model.encoder_checkpoint = results[source]
        if osp.isfile(osp.join(stage_dir, 'last_checkpoint')):
            sub.resume, sub.load_from = True, None  # interrupted: go on
        print(f'[stages] {name}: training {stage["config"]} in {stage_dir}')
        build_and_train(sub)
        results[name] = _pick_checkpoint(stage_dir)
        _mark_done(stage_dir, results[name])
    return results
