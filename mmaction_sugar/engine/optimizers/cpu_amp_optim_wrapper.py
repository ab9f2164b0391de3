# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Mixed-precision training on CPU (bfloat16 autocast)."""
import contextlib
from typing import Union

import torch
from mmaction.registry import OPTIM_WRAPPERS
from mmengine.optim import OptimWrapper
from torch import nn

__all__ = ['CPUAmpOptimWrapper']


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """An :class:`OptimWrapper` that runs forward passes under CPU autocast.

    mmengine's ``AmpOptimWrapper`` asserts a GPU (or NPU/MLU/MUSA). On a CPU
    with bfloat16 support, ``torch.autocast('cpu', dtype=torch.bfloat16)``
    runs matrix multiplications and convolutions in bfloat16 while the
    weights, gradients and optimizer state stay float32. bfloat16 has
    float32's exponent range, so no loss scaling is needed. Heads whose
    scores reach numpy are given float32 scores (``mmaction_sugar.compat``
    fix 6).

    Use it in a config::

        optim_wrapper = dict(type='CPUAmpOptimWrapper', optimizer=...)

    Args:
        dtype (str | torch.dtype): The autocast dtype; only bfloat16 is
            supported (float16 would need loss scaling). Defaults to
            ``'bfloat16'``.
        **kwargs: :class:`OptimWrapper` arguments (``optimizer``,
            ``accumulative_counts``, ``clip_grad``).

    Example:
        >>> model = nn.Linear(4, 2)
        >>> wrapper = CPUAmpOptimWrapper(
        ...     optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
        >>> with wrapper.optim_context(model):
        ...     out = model(torch.randn(3, 4))
        >>> out.dtype, model.weight.dtype
        (torch.bfloat16, torch.float32)
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype] = 'bfloat16',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(dtype, str):
            dtype = getattr(torch, dtype, None)
        if dtype != torch.bfloat16:
            raise ValueError('CPUAmpOptimWrapper supports dtype bfloat16 '
                             f'only (float16 needs loss scaling), got {dtype}')
        self.cast_dtype = dtype

    @contextlib.contextmanager
    def optim_context(self, model: nn.Module):
        """Gradient-accumulation context of :class:`OptimWrapper` and CPU
        autocast."""
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=self.cast_dtype):
            yield
