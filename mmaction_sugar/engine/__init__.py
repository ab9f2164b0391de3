# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .hooks import KnowledgeCheckHook

__all__ = ['KnowledgeCheckHook']
