# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .zero_shot_metric import ZeroShotAccMetric

__all__ = ['ZeroShotAccMetric']
