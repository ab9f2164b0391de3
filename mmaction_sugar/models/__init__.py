# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .backbones import CTRGCN
from .heads import ActionSentenceHead, LLMHead, TextSupervisedHead
from .llms import LoRACausalLM
from .losses import MILNCELoss, mil_nce
from .necks import TemporalQueryProjection
from .recognizers import LLMARRecognizer, SugarRecognizer
from .text_encoders import (ClassTextBank, FrozenTextEncoder,
                            build_class_text_bank)
from .tokenizers import ActionVQVAE, HyperbolicCodebook

__all__ = [
    'ActionSentenceHead', 'ActionVQVAE', 'CTRGCN', 'HyperbolicCodebook',
    'LLMARRecognizer', 'LLMHead', 'LoRACausalLM', 'SugarRecognizer',
    'TemporalQueryProjection', 'TextSupervisedHead', 'MILNCELoss', 'mil_nce',
    'ClassTextBank', 'FrozenTextEncoder', 'build_class_text_bank'
]
