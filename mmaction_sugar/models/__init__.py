# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .backbones import CTRGCN
from .heads import TextSupervisedHead
from .losses import MILNCELoss, mil_nce
from .text_encoders import (ClassTextBank, FrozenTextEncoder,
                            build_class_text_bank)

__all__ = [
    'CTRGCN', 'TextSupervisedHead', 'MILNCELoss', 'mil_nce', 'ClassTextBank',
    'FrozenTextEncoder', 'build_class_text_bank'
]
