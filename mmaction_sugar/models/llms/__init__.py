# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .causal_lm import LLMLoadError, LoRACausalLM

__all__ = ['LLMLoadError', 'LoRACausalLM']
