# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Time training steps of two configs in one run and print a table.

Used for the stage-2 cost target: a SUGAR stage-2 step (text-supervised
head) may cost at most 1.10x the baseline step with the same backbone and
batch, because the class texts are embedded once and cached, never per
step. Both models train on the same preloaded batches, alternating in
rounds so that machine load affects both alike; data loading is excluded.
The script also counts text-encoder calls during the timed steps.
``compare_steps`` is the same measurement as a function
(``tools/benchmark.py`` runs this script with ``--out``).

Example::

    python tools/analysis/benchmark_train_step.py \\
        configs/stgcn/stgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py \\
        configs/sugar/sugar-stage2_stgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py
"""
import argparse
import json
import os.path as osp
import platform
import statistics
import time
from typing import Dict, Optional

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mmaction_sugar  # noqa: F401
from mmaction_sugar.models.text_encoders import FrozenTextEncoder


def parse_args(argv=None):
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
    parser.add_argument('--work-dir', default='work_dirs/benchmark',
                        help='runner work dirs go to WORK_DIR/0 and /1')
    parser.add_argument('--out', help='also write the results as JSON here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='overrides applied to both configs')
    return parser.parse_args(argv)


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


def compare_steps(baseline: str,
                  candidate: str,
                  *,
                  batches: int = 4,
                  rounds: int = 5,
                  steps: int = 4,
                  warmup: int = 3,
                  device: Optional[str] = None,
                  cfg_options: Optional[Dict] = None,
                  work_dir: str = 'work_dirs/benchmark') -> Dict:
    """Time both configs' training steps on the same batches.

    Args:
        baseline (str): Config of the reference model.
        candidate (str): Config of the model compared.
        batches (int): Distinct preloaded batches. Defaults to 4.
        rounds (int): Alternating rounds. Defaults to 5.
        steps (int): Timed steps per model and round. Defaults to 4.
        warmup (int): Untimed steps per model first. Defaults to 3.
        device (str, optional): ``'cpu'`` or ``'cuda'``. Defaults to cuda
            when available.
        cfg_options (dict, optional): Overrides for both configs.
        work_dir (str): Runner work dirs go to ``work_dir/0`` and ``/1``.
            Defaults to ``'work_dirs/benchmark'``.

    Returns:
        dict: ``models`` (name, median and mean s/step, all times),
        ``ratio`` (candidate median / baseline median), ``batch_size``,
        ``device``, ``threads`` and ``text_encoder_calls`` (during the
        timed steps).
    """
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    calls = {'n': 0}
    forward = FrozenTextEncoder.forward

    def counted(self, *a, **k):
        calls['n'] += 1
        return forward(self, *a, **k)

    FrozenTextEncoder.forward = counted
    try:
        models = [
            Model(p, cfg_options, device, osp.join(work_dir, str(i)))
            for i, p in enumerate((baseline, candidate))
        ]
        if models[0].batch_size != models[1].batch_size:
            raise ValueError('the configs use different batch sizes: '
                             f'{models[0].batch_size} and '
                             f'{models[1].batch_size}')
        data = models[0].batches(batches)
        for model in models:
            for i in range(warmup):
                model.step(data[i % len(data)])
        calls['n'] = 0
        times = [[] for _ in models]
        for _ in range(rounds):
            for model, record in zip(models, times):
                for i in range(steps):
                    start = time.perf_counter()
                    model.step(data[i % len(data)])
                    record.append(time.perf_counter() - start)
    finally:
        FrozenTextEncoder.forward = forward
    base = statistics.median(times[0])
    return dict(
        device=device,
        threads=torch.get_num_threads(),
        batch_size=models[0].batch_size,
        rounds=rounds,
        steps=steps,
        models=[
            dict(
                name=m.name,
                config=path,
                median_s=statistics.median(t),
                mean_s=statistics.mean(t),
                times_s=t)
            for m, t, path in zip(models, times, (baseline, candidate))
        ],
        ratio=statistics.median(times[1]) / base,
        text_encoder_calls=calls['n'])


def main(argv=None):
    args = parse_args(argv)
    result = compare_steps(
        args.baseline,
        args.candidate,
        batches=args.batches,
        rounds=args.rounds,
        steps=args.steps,
        warmup=args.warmup,
        device=args.device,
        cfg_options=args.cfg_options,
        work_dir=args.work_dir)
    base = result['models'][0]['median_s']
    print(f'\ndevice: {result["device"]} '
          f'({platform.processor() or platform.machine()}, '
          f'{result["threads"]} threads), batch {result["batch_size"]}, '
          f'{args.rounds} rounds x {args.steps} steps per model')
    print('| model | median s/step | mean s/step | ratio |')
    print('|---|---|---|---|')
    for model in result['models']:
        print(f'| {model["name"]} | {model["median_s"]:.3f} | '
              f'{model["mean_s"]:.3f} | {model["median_s"] / base:.3f} |')
    ratio = result['ratio']
    print('\ntext-encoder calls during timed steps: '
          f'{result["text_encoder_calls"]}')
    verdict = 'meets' if ratio <= args.target else 'MISSES'
    print(f'ratio {ratio:.3f} {verdict} the target <= {args.target:.2f}')
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
