# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .action_tokenizer_metric import ActionTokenizerMetric
from .zero_shot_metric import ZeroShotAccMetric

__all__ = ['ActionTokenizerMetric', 'ZeroShotAccMetric']
