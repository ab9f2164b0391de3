# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .action_sentence_head import ActionSentenceHead
from .llm_head import LLMHead
from .text_supervised_head import TextSupervisedHead

__all__ = ['ActionSentenceHead', 'LLMHead', 'TextSupervisedHead']
