# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .text_supervised_head import TextSupervisedHead

__all__ = ['TextSupervisedHead']
