# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Train a model with mmengine's runner; same interface as MMAction2's.

A multi-stage config (one that lists ``stages``, e.g.
``configs/sugar_ntu60.py``) trains its stages in order, each with the
stock runner in ``<work_dir>/<stage name>``; finished stages are skipped
and an interrupted one resumes (see :mod:`mmaction_sugar.apis`).

Example:
    python tools/train.py configs/sugar_ntu60.py --work-dir work_dirs/x
"""
import argparse
import os
import os.path as osp

from mmaction.registry import RUNNERS
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import mmaction_sugar  # noqa: F401  (compat fixes, registered modules)
from mmaction_sugar.apis import is_multi_stage, run_stages, stage_list


def parse_args():
    parser = argparse.ArgumentParser(description='Train an action recognizer')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or with no value from the '
        'latest checkpoint in the work directory')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic mixed-precision training')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate checkpoints during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual batch size')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument(
        '--diff-rank-seed',
        action='store_true',
        help='use a different seed on each rank')
    parser.add_argument(
        '--deterministic',
        action='store_true',
        help='use deterministic algorithms where torch has them')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. key=value or key="[a,b]"')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument(
        '--stage',
        help='with a multi-stage config: train only this stage (earlier '
        'stages must be done)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Merge the command-line arguments into the config."""
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper not in ('OptimWrapper', 'AmpOptimWrapper'):
            raise ValueError(f'--amp does not apply to optim_wrapper type '
                             f'{wrapper!r} in {args.config}')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    if cfg.get('randomness', None) is None:
        cfg.randomness = dict(
            seed=args.seed,
            diff_rank_seed=args.diff_rank_seed,
            deterministic=args.deterministic)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def build_and_train(cfg: Config) -> None:
    """Build the runner the config asks for and train."""
    runner = (Runner.from_cfg(cfg)
              if 'runner_type' not in cfg else RUNNERS.build(cfg))
    runner.train()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if not is_multi_stage(cfg):
        build_and_train(merge_args(cfg, args))
        return
    root = args.work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs', osp.splitext(osp.basename(args.config))[0])
    stage_args = argparse.Namespace(**vars(args))
    if args.resume == 'auto':  # finished stages are skipped anyway
        stage_args.resume = None

    names = [stage['name'] for stage in stage_list(cfg)]

    def prepare(stage_cfg: Config, stage_dir: str) -> Config:
        # options prefixed with a stage name ("stage3.model.x=1") apply to
        # that stage only; the others to every stage
        name = osp.basename(stage_dir)
        options = dict()
        for key, value in (args.cfg_options or dict()).items():
            head, _, rest = key.partition('.')
            if head not in names:
                options[key] = value
            elif head == name and rest:
                options[rest] = value
        stage_args.work_dir = stage_dir
        stage_args.cfg_options = options or None
        return merge_args(stage_cfg, stage_args)

    results = run_stages(cfg, root, prepare, build_and_train, args.stage)
    for name, checkpoint in results.items():
        print(f'[stages] {name}: {checkpoint}')


if __name__ == '__main__':
    main()
