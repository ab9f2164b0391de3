# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .metrics import ActionTokenizerMetric, ZeroShotAccMetric

__all__ = ['ActionTokenizerMetric', 'ZeroShotAccMetric']
