# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .hooks import EpochSeedHook, KnowledgeCheckHook, LoRAExportHook
from .optimizers import CPUAmpOptimWrapper
from .strategies import LoRAFSDPStrategy

__all__ = [
    'CPUAmpOptimWrapper', 'EpochSeedHook', 'KnowledgeCheckHook',
    'LoRAExportHook', 'LoRAFSDPStrategy'
]
