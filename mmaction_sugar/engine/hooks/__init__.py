# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .knowledge_check_hook import KnowledgeCheckHook

__all__ = ['KnowledgeCheckHook']
