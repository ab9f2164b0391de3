# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .knowledge_check_hook import KnowledgeCheckHook
from .lora_export_hook import LoRAExportHook

__all__ = ['KnowledgeCheckHook', 'LoRAExportHook']
