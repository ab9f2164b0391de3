# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .mil_nce_loss import MILNCELoss, mil_nce

__all__ = ['MILNCELoss', 'mil_nce']
