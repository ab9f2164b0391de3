# Copyright (c) mmaction-sugar contributors. All rights reserved.
from typing import Dict

from mmengine._strategy import FSDPStrategy
from mmengine.registry import STRATEGIES

from mmaction_sugar.models.llms.causal_lm import FSDP_PREFIX, LoRACausalLM


@STRATEGIES.register_module()
class LoRAFSDPStrategy(FSDPStrategy):
    """mmengine's ``FSDPStrategy`` for models with a frozen LLM.

    :class:`LoRACausalLM` keeps its frozen weights out of checkpoints
    with a state-dict hook. Under FSDP that hook must let them through,
    because FSDP gathers every wrapped entry after the module hooks run;
    this strategy drops them from the gathered (full) state dict instead,
    so an FSDP checkpoint holds what a single-process one holds (the
    trained weights only) and loads the same way.

    Use it through ``configs/_base_/fsdp.py`` with ``FlexibleRunner``;
    the arguments are :class:`FSDPStrategy`'s.

    Example:
        >>> from mmengine.registry import STRATEGIES
        >>> import mmaction_sugar  # noqa: F401
        >>> STRATEGIES.get('LoRAFSDPStrategy').__name__
        'LoRAFSDPStrategy'
    """

    def model_state_dict(self) -> Dict:
        """The full state dict without the frozen LLM weights.

        Returns:
            dict: Parameter and buffer names (without FSDP's wrapper
            names) to tensors; empty on ranks other than 0 with
            ``rank0_only=True``.
        """
        state_dict = super().model_state_dict()
        for name, module in self.model.named_modules():
            if isinstance(module, LoRACausalLM):
                prefix = name.replace(FSDP_PREFIX, '')
                module.drop_frozen(state_dict, prefix + '.' if prefix else '')
        return state_dict
