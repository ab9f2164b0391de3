# Copyright (c) mmaction-sugar contributors. All rights reserved.
from typing import Iterator, List, Optional

import torch
import torch.nn as nn
from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmaction_sugar.datasets.action_knowledge import ActionKnowledge


def _leaf_datasets(dataset) -> Iterator:
    """The datasets inside wrappers (RepeatDataset, ConcatDataset...)."""
    if hasattr(dataset, 'datasets'):
        for inner in dataset.datasets:
            yield from _leaf_datasets(inner)
    elif hasattr(dataset, 'dataset'):
        yield from _leaf_datasets(dataset.dataset)
    else:
        yield dataset


def _knowledge_modules(model: nn.Module) -> List[nn.Module]:
    """Modules of the model that carry an action knowledge."""
    if is_model_wrapper(model):
        model = model.module
    return [
        m for m in model.modules()
        if isinstance(getattr(m, 'knowledge', None), ActionKnowledge)
    ]


@HOOKS.register_module()
class KnowledgeCheckHook(Hook):
    """Check that the datasets agree with the model's action knowledge.

    Before training, validation and testing, for every module of the model
    with a ``knowledge`` (e.g. :class:`TextSupervisedHead`) and every
    dataset of the loop:

    - the dataset's class names (``metainfo['classes']``) must name the
      knowledge's classes at the same labels
      (:meth:`ActionKnowledge.check_class_names`; a dataset may cover just
      the first classes, as NTU-60 data does with the NTU-120 knowledge);
      a dataset without class names is only warned about;
    - the classes the dataset keeps (``keep_classes``) must be the ones
      the module trains on (``train_index``) when training, and among its
      candidates (``test_index``) when validating or testing, so that a
      zero-shot split never trains on an unseen class or scores a sample
      whose class cannot be predicted.

    Each problem raises an error naming the annotation file, the knowledge
    file and the classes. Stage-2 SUGAR configs add this hook through
    ``custom_hooks``.

    Example:
        >>> import logging
        >>> from types import SimpleNamespace
        >>> from mmaction_sugar.datasets.action_knowledge import (
        ...     ActionKnowledge)
        >>> head = torch.nn.Module()  # carries a knowledge, as the heads do
        >>> head.knowledge = ActionKnowledge.load('synth_ntu')
        >>> head.train_index = list(range(32))
        >>> data = SimpleNamespace(
        ...     ann_file='train.pkl', keep_classes=None,
        ...     metainfo=dict(classes=head.knowledge.class_names))
        >>> runner = SimpleNamespace(
        ...     model=head, logger=logging.getLogger('demo'),
        ...     train_dataloader=SimpleNamespace(dataset=data))
        >>> KnowledgeCheckHook().before_train(runner)  # names agree: passes
        >>> head.train_index = list(range(27))  # a zero-shot split
        >>> try:
        ...     KnowledgeCheckHook().before_train(runner)
        ... except ValueError as error:
        ...     print(error)
        train.pkl: the model uses 27 of the 32 classes of ...synth_ntu.json
        for training (a zero-shot split), but the training dataset keeps
        every class; set its keep_classes to those classes
    """
    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        """Check the training data."""
        self._check(runner, runner.train_dataloader.dataset, 'train_index',
                    'training')

    def before_val(self, runner) -> None:
        """Check the validation data."""
        self._check(runner, runner.val_dataloader.dataset, 'test_index',
                    'validation')

    def before_test(self, runner) -> None:
        """Check the test data."""
        self._check(runner, runner.test_dataloader.dataset, 'test_index',
                    'test')

    def _check(self, runner, dataset, index_name: str, stage: str) -> None:
        for module in _knowledge_modules(runner.model):
            knowledge = module.knowledge
            index = getattr(module, index_name, None)
            allowed = (None if index is None else set(
                torch.as_tensor(index).tolist()))
            for leaf in _leaf_datasets(dataset):
                self._check_one(runner, leaf, knowledge, allowed, stage)

    @staticmethod
    def _check_one(runner, dataset, knowledge: ActionKnowledge,
                   allowed: Optional[set], stage: str) -> None:
        where = getattr(dataset, 'ann_file', type(dataset).__name__)
        names = (getattr(dataset, 'metainfo', None) or {}).get('classes')
        if names:
            knowledge.check_class_names(
                names, f"{where} (metainfo['classes'])", prefix=True)
        else:
            runner.logger.warning(
                f'{where}: no class names (metainfo["classes"]) to check '
                f'against {knowledge.path}; its labels are taken to follow '
                'the order of the knowledge')
        if allowed is None or len(allowed) == len(knowledge):
            return
        label_name = knowledge.class_names
        if getattr(dataset, 'keep_classes', None) is None:
            raise ValueError(
                f'{where}: the model uses {len(allowed)} of the '
                f'{len(knowledge)} classes of {knowledge.path} for '
                f'{stage} (a zero-shot split), but the {stage} dataset '
                'keeps every class; set its keep_classes to those classes')
        kept = dataset._kept_labels()
        outside = sorted(kept - allowed)
        if outside:
            listed = ', '.join(
                f'{c} ({label_name[c]!r})' if c < len(label_name) else str(c)
                for c in outside)
            raise ValueError(
                f'{where}: the {stage} dataset keeps classes {listed}, '
                f'which the model does not use for {stage} (its zero-shot '
                f'split over {knowledge.path})')
