# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .multi_stage import (StageError, final_checkpoint, is_multi_stage,
                          last_stage_config, run_stages, stage_config,
                          stage_list)

__all__ = [
    'StageError', 'final_checkpoint', 'is_multi_stage', 'last_stage_config',
    'run_stages', 'stage_config', 'stage_list'
]
