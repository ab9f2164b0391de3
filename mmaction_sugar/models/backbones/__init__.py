# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .ctrgcn import CTRGCN

__all__ = ['CTRGCN']
