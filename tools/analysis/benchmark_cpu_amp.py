# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Time ST-GCN training steps on SynthNTU with fp32 and with bfloat16 CPU
autocast (``CPUAmpOptimWrapper``), in one process, and print the ratio.

Example::

    python tools/analysis/benchmark_cpu_amp.py
"""
import time

import torch
from mmaction.registry import MODELS, OPTIM_WRAPPERS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mmaction_sugar  # noqa: F401


def main():
    init_default_scope('mmaction')
    cfg = Config.fromfile(
        'configs/stgcn/stgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py')
    dl = Runner.build_dataloader(cfg.train_dataloader)
    batches = [b for _, b in zip(range(4), dl)]
    res = {}
    for name in ('OptimWrapper', 'CPUAmpOptimWrapper'):
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
        wrapper = OPTIM_WRAPPERS.build(
            dict(
                type=name,
                optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
        times = []
        for r in range(3):
            for b in batches:
                t = time.perf_counter()
                model.train_step(b, wrapper)
                times.append(time.perf_counter() - t)
        res[name] = sum(times[4:]) / len(times[4:])
    print({
        k: round(v, 3)
        for k, v in res.items()
    }, 'speed-up', round(res['OptimWrapper'] / res['CPUAmpOptimWrapper'], 2))


if __name__ == '__main__':
    main()
