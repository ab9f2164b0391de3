# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Time training steps of two configs in one run and print a table.

Used for the stage-2 cost target: a SUGAR stage-2 step (text-supervised
head) may cost at most 1.10x the baseline step with the same backbone and
batch, because the class texts are embedded once and cached, never per
step. Both models train on the same preloaded batches, alternating in
rounds so that machine load affects both alike; data loading is excluded.
The script also counts text-encoder calls during the timed steps.

Example::

    python tools/analysis/benchmark_train_step.py \\
        configs/stgcn/stgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py \\
        configs/sugar/sugar-stage2_stgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py
"""
import argparse
import os.path as osp
import platform
import statistics
import time

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mmaction_sugar  # noqa: F401
from mmaction_sugar.models.text_encoders import FrozenTextEncoder


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('baseline', help='config of the reference model')
    parser.add_argument('candidate', help='config of the model compared')
    parser.add_argument('--batches', type=int, default=4,
                        help='distinct preloaded batches (default 4)')
    parser.add_argument('--rounds', type=int, default=5,
                        help='alternating rounds (default 5)')
    parser.add_argument('--steps', type=int, default=4,
                        help='timed steps per model and round (default 4)')
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed steps per model first (default 3)')
    parser.add_argument('--target', type=float, default=1.10,
                        help='largest acceptable ratio (default 1.10)')
    parser.add_argument('--device', default=None,
                        help="'cpu' or 'cuda' (default: cuda if available)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides applied to both configs')
    return parser.parse_args()


class Model:
    """One config's model, optimiser and training step."""

    def __init__(self, path, options, device, work_dir):
        cfg = Config.fromfile(path)
        if options:
            cfg.merge_from_dict(options)
        cfg.work_dir = work_dir
        cfg.train_dataloader.num_workers = 0
        cfg.train_dataloader.persistent_workers = False
        cfg.randomness = dict(seed=0)
        init_default_scope(cfg.get('default_scope', 'mmaction'))
        self.name = osp.splitext(osp.basename(path))[0]
        self.cfg = cfg
        self.runner = Runner.from_cfg(cfg)
        self.model = self.runner.model.to(device).train()
        self.optim = self.runner.build_optim_wrapper(cfg.optim_wrapper)
        self.device = device
        self.batch_size = cfg.train_dataloader.batch_size

    def batches(self, count):
        out = []
        for batch in self.runner.train_dataloader:
            out.append(batch)
            if len(out) == count:
                return out
        return out

    def step(self, batch):
        self.model.train_step(batch, self.optim)
        if self.device.startswith('cuda'):
            torch.cuda.synchronize()


def main():
    args = parse_args()
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    calls = {'n': 0}
    forward = FrozenTextEncoder.forward

    def counted(self, *a, **k):
        calls['n'] += 1
        return forward(self, *a, **k)

    FrozenTextEncoder.forward = counted
    models = [
        Model(p, args.cfg_options, device, f'work_dirs/benchmark/{i}')
        for i, p in enumerate((args.baseline, args.candidate))
    ]
    if models[0].batch_size != models[1].batch_size:
        raise ValueError('the configs use different batch sizes: '
                         f'{models[0].batch_size} and '
                         f'{models[1].batch_size}')
    batches = models[0].batches(args.batches)
    for model in models:
        for i in range(args.warmup):
            model.step(batches[i % len(batches)])
    calls['n'] = 0
    times = {m.name: [] for m in models}
    for _ in range(args.rounds):
        for model in models:
            for i in range(args.steps):
                start = time.perf_counter()
                model.step(batches[i % len(batches)])
                times[model.name].append(time.perf_counter() - start)
    base = statistics.median(times[models[0].name])
    print(f'\ndevice: {device} ({platform.processor() or platform.machine()}'
          f', {torch.get_num_threads()} threads), batch '
          f'{models[0].batch_size}, {args.rounds} rounds x {args.steps} '
          'steps per model')
    print('| model | median s/step | mean s/step | ratio |')
    print('|---|---|---|---|')
    for model in models:
        t = times[model.name]
        print(f'| {model.name} | {statistics.median(t):.3f} | '
              f'{statistics.mean(t):.3f} | '
              f'{statistics.median(t) / base:.3f} |')
    ratio = statistics.median(times[models[1].name]) / base
    print(f'\ntext-encoder calls during timed steps: {calls["n"]}')
    verdict = 'meets' if ratio <= args.target else 'MISSES'
    print(f'ratio {ratio:.3f} {verdict} the target <= {args.target:.2f}')


if __name__ == '__main__':
    main()
