# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .metrics import ZeroShotAccMetric

__all__ = ['ZeroShotAccMetric']
