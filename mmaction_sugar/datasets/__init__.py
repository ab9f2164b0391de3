# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .action_knowledge import (BUNDLED, ActionClass, ActionKnowledge,
                               KnowledgeError, UnknownClassError)
from .skeleton_dataset import AnnotationError, SkeletonDataset

__all__ = [
    'AnnotationError', 'SkeletonDataset', 'BUNDLED', 'ActionClass',
    'ActionKnowledge', 'KnowledgeError', 'UnknownClassError'
]
