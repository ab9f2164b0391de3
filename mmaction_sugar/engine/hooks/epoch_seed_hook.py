# Copyright (c) mmaction-sugar contributors. All rights reserved.
from typing import Optional

from mmaction.registry import HOOKS
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.runner.utils import set_random_seed


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Re-seed every random generator at the start of each training epoch.

    The Runner seeds Python, numpy and torch once, when it is built. What
    an epoch draws (data augmentation, dropout) then depends on everything
    drawn before it, including validation: the toolbox's test-mode
    ``UniformSampleFrames`` re-seeds numpy's global generator. A run
    resumed from ``epoch_N.pth`` therefore continues with different random
    numbers from the run it replaces, and ends with different weights and
    metrics.

    This hook seeds the generators with ``seed + epoch`` (plus the rank
    under ``randomness.diff_rank_seed=True``) before each training epoch,
    so an epoch's random numbers depend only on the seed and the epoch.
    Together with the epoch-seeded ``DefaultSampler`` and checkpoints
    written at epoch ends, a run killed at any point and resumed with
    ``--resume`` ends bitwise identical to an uninterrupted run on the
    same machine (for data loading in the main process,
    ``num_workers=0``; with workers, their seeds also follow the epoch
    through mmengine's ``worker_init_fn`` only when ``persistent_workers``
    is False). Iteration-based loops are not re-seeded.

    Args:
        seed (int, optional): The base seed. Defaults to None: the
            Runner's seed (``randomness.seed``, or the one it drew).

    Example:
        >>> import random, numpy as np
        >>> from types import SimpleNamespace
        >>> from mmaction_sugar.engine.hooks import EpochSeedHook
        >>> hook = EpochSeedHook(seed=3)
        >>> runner = SimpleNamespace(epoch=1, seed=0,
        ...                          _randomness_cfg=dict())
        >>> hook.before_train_epoch(runner)
        >>> first = np.random.rand(), random.random()
        >>> hook.before_train_epoch(runner)
        >>> first == (np.random.rand(), random.random())
        True
    """
    priority = 'VERY_HIGH'

    def __init__(self, seed: Optional[int] = None) -> None:
        self.seed = seed

    def before_train_epoch(self, runner) -> None:
        """Seed Python, numpy and torch (all devices) for this epoch."""
        seed = self.seed if self.seed is not None else runner.seed
        randomness = getattr(runner, '_randomness_cfg', None) or {}
        if randomness.get('diff_rank_seed', False):
            seed += get_rank()
        # mmengine's helper seeds random, numpy, torch and CUDA; the rank
        # offset is added above, and the deterministic flags are left as
        # the Runner set them
        set_random_seed((seed + runner.epoch) % 2**32, deterministic=False)
