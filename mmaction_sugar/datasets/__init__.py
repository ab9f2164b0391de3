# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .skeleton_dataset import AnnotationError, SkeletonDataset

__all__ = ['AnnotationError', 'SkeletonDataset']
