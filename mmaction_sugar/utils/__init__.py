# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .safe_load import UnsafeCheckpointError, safe_torch_load

__all__ = ['UnsafeCheckpointError', 'safe_torch_load']
