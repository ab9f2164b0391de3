# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .epoch_seed_hook import EpochSeedHook
from .knowledge_check_hook import KnowledgeCheckHook
from .lora_export_hook import LoRAExportHook

__all__ = ['EpochSeedHook', 'KnowledgeCheckHook', 'LoRAExportHook']
