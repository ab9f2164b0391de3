# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .lora_fsdp_strategy import LoRAFSDPStrategy

__all__ = ['LoRAFSDPStrategy']
