# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Time training steps with fp32 and with bfloat16 autocast, in one
process, and print the speed-up.

On CPU the autocast run uses ``CPUAmpOptimWrapper``; on a GPU, mmengine's
``AmpOptimWrapper`` with ``dtype='bfloat16'``. Both models start from the
same weights and train on the same preloaded batches, alternating in
rounds so that machine load affects both alike; the first round is a
warm-up. ``amp_speedup`` is the same measurement as a function
(``tools/benchmark.py`` runs this script with ``--out``).

Example::

    python tools/analysis/benchmark_cpu_amp.py
    python tools/analysis/benchmark_cpu_amp.py --config CONFIG --rounds 5
"""
import argparse
import copy
import json
import time
from typing import Dict

import torch
from mmaction.registry import MODELS, OPTIM_WRAPPERS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mmaction_sugar  # noqa: F401

STGCN = 'configs/stgcn/stgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=STGCN,
                        help='training config (default: ST-GCN, SynthNTU)')
    parser.add_argument('--batches', type=int, default=4,
                        help='distinct preloaded batches (default 4)')
    parser.add_argument('--rounds', type=int, default=3,
                        help='rounds over the batches per precision, the '
                        'first untimed (default 3)')
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    parser.add_argument('--out', help='also write the results as JSON here')
    return parser.parse_args(argv)


def autocast_wrapper(device: str) -> Dict:
    """The bfloat16 autocast optim-wrapper config for ``device``."""
    if device.startswith('cuda'):
        return dict(type='AmpOptimWrapper', dtype='bfloat16')
    return dict(type='CPUAmpOptimWrapper')


def amp_speedup(config: str = STGCN,
                *,
                batches: int = 4,
                rounds: int = 3,
                device: str = 'cpu',
                seed: int = 0) -> Dict:
    """fp32 and bfloat16-autocast training steps of one config.

    Args:
        config (str): A training config. Defaults to ST-GCN on SynthNTU.
        batches (int): Distinct preloaded batches. Defaults to 4.
        rounds (int): Rounds over the batches per precision, alternating;
            the first is a warm-up. Defaults to 3.
        device (str): ``'cpu'`` or ``'cuda'``. Defaults to ``'cpu'``.
        seed (int): Seed of both models' initial weights. Defaults to 0.

    Returns:
        dict: ``fp32_s_per_step``, ``amp_s_per_step`` (means over the
        timed steps), ``speedup`` (fp32 / autocast time), ``wrapper``,
        ``batch_size``, ``steps`` (timed, per precision), ``device``.
    """
    if rounds < 2:
        raise ValueError(f'rounds must be >= 2 (one warm-up), got {rounds}')
    init_default_scope('mmaction')
    cfg = Config.fromfile(config)
    loader = copy.deepcopy(cfg.train_dataloader)
    loader.update(num_workers=0, persistent_workers=False)
    data = [b for _, b in zip(range(batches), Runner.build_dataloader(loader))]
    amp = autocast_wrapper(device)
    runs = dict()
    for name, wrapper in (('fp32', dict(type='OptimWrapper')), ('amp', amp)):
        torch.manual_seed(seed)
        model = MODELS.build(cfg.model).to(device).train()
        optim = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        runs[name] = (model, OPTIM_WRAPPERS.build(
            dict(wrapper, optimizer=optim)), [])
    for r in range(rounds):
        for model, wrapper, times in runs.values():
            for batch in data:
                start = time.perf_counter()
                model.train_step(batch, wrapper)
                if device.startswith('cuda'):
                    torch.cuda.synchronize()
                if r:  # the first round warms up
                    times.append(time.perf_counter() - start)
    fp32, half = (sum(t) / len(t) for _, _, t in runs.values())
    return dict(
        config=config,
        device=device,
        wrapper=amp['type'],
        batch_size=cfg.train_dataloader.batch_size,
        steps=len(runs['fp32'][2]),
        fp32_s_per_step=fp32,
        amp_s_per_step=half,
        speedup=fp32 / half)


def main(argv=None):
    args = parse_args(argv)
    result = amp_speedup(
        args.config,
        batches=args.batches,
        rounds=args.rounds,
        device=args.device)
    print({
        'OptimWrapper': round(result['fp32_s_per_step'], 3),
        result['wrapper']: round(result['amp_s_per_step'], 3)
    }, 'speed-up', round(result['speedup'], 2))
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
