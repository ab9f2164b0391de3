# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .hooks import KnowledgeCheckHook, LoRAExportHook
from .optimizers import CPUAmpOptimWrapper

__all__ = ['CPUAmpOptimWrapper', 'KnowledgeCheckHook', 'LoRAExportHook']
