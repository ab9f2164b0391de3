# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .hooks import KnowledgeCheckHook, LoRAExportHook

__all__ = ['KnowledgeCheckHook', 'LoRAExportHook']
