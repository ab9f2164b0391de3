# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .llm_head import LLMHead
from .text_supervised_head import TextSupervisedHead

__all__ = ['LLMHead', 'TextSupervisedHead']
