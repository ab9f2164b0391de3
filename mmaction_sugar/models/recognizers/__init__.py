# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .sugar_recognizer import SugarRecognizer

__all__ = ['SugarRecognizer']
