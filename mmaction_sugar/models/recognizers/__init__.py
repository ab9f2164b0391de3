# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .llmar_recognizer import LLMARRecognizer
from .sugar_recognizer import SugarRecognizer

__all__ = ['LLMARRecognizer', 'SugarRecognizer']
