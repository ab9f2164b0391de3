# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .action_knowledge import (BUNDLED, ActionClass, ActionKnowledge,
                               KnowledgeError, UnknownClassError)
from .npz_annotations import load_annotations_npz, save_annotations_npz
from .skeleton_dataset import AnnotationError, SkeletonDataset

__all__ = [
    'AnnotationError', 'SkeletonDataset', 'load_annotations_npz',
    'save_annotations_npz', 'BUNDLED', 'ActionClass',
    'ActionKnowledge', 'KnowledgeError', 'UnknownClassError'
]
