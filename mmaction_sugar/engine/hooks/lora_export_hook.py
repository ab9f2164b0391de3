# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Export LoRA adapters in peft's own format next to every checkpoint."""
import os.path as osp

from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmaction_sugar.models.llms import LoRACausalLM

__all__ = ['LoRAExportHook']


@HOOKS.register_module()
class LoRAExportHook(Hook):
    """Write each LLM's LoRA adapter with ``save_pretrained`` whenever a
    checkpoint is saved (the same weights), atomically (a temporary folder
    renamed into place).

    The adapter loads back into the plain base model with
    ``peft.PeftModel.from_pretrained(base, folder)``, e.g. to serve the
    tuned LLM without this plugin.

    Args:
        out_dir (str): The adapter folder, relative to the work directory.
            A model with several LLMs gets ``out_dir/<module name>``.
            Defaults to ``'lora_adapter'``.

    Example:
        >>> hook = LoRAExportHook(out_dir='adapter')
        >>> hook.out_dir
        'adapter'
    """

    priority = 'LOW'

    def __init__(self, out_dir: str = 'lora_adapter') -> None:
        self.out_dir = out_dir

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        llms = [
            (name, m) for name, m in model.named_modules()
            if isinstance(m, LoRACausalLM) and hasattr(m.model, 'peft_config')
        ]
        for name, llm in llms:
            out = osp.join(runner.work_dir, self.out_dir)
            if len(llms) > 1:
                out = osp.join(out, name)
            llm.save_adapter(out)
            runner.logger.info(f'LoRA adapter of {name} exported to {out}')
