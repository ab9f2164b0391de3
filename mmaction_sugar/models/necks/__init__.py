# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .temporal_query_projection import TemporalQueryProjection

__all__ = ['TemporalQueryProjection']
