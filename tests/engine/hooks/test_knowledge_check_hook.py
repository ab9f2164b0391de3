# Copyright (c) mmaction-sugar contributors. All rights reserved.
import logging
import os.path as osp
from types import SimpleNamespace

import pytest
import torch.nn as nn
from mmengine.dataset import RepeatDataset

from mmaction_sugar.datasets import SkeletonDataset
from mmaction_sugar.datasets.action_knowledge import (ActionKnowledge,
                                                      KnowledgeError)
from mmaction_sugar.engine import KnowledgeCheckHook

UNSEEN = [5, 10, 14, 25, 31]
SEEN = [c for c in range(32) if c not in UNSEEN]


class FakeHead(nn.Module):
    """Carries a knowledge and zero-shot indices, as TextSupervisedHead."""

    def __init__(self, knowledge='synth_ntu', train=None, test=None):
        super().__init__()
        self.knowledge = ActionKnowledge.load(knowledge)
        everything = list(range(len(self.knowledge)))
        self.train_index = train if train is not None else everything
        self.test_index = test if test is not None else everything


def runner(head, train=None, test=None):
    model = nn.Sequential(nn.Linear(1, 1), head)
    return SimpleNamespace(
        model=model,
        logger=logging.getLogger('knowledge-check-test'),
        train_dataloader=SimpleNamespace(dataset=train),
        test_dataloader=SimpleNamespace(dataset=test))


def dataset(root, split='xsub_train', names=True, **kwargs):
    metainfo = dict(classes=osp.join(root, 'synth_ntu_classes.txt'))
    return SkeletonDataset(
        osp.join(root, 'synth_ntu_3d.pkl'),
        pipeline=[],
        split=split,
        metainfo=metainfo if names else None,
        **kwargs)


def test_matching_data_passes(tiny_synth_ntu):
    hook = KnowledgeCheckHook()
    data = RepeatDataset(dataset(tiny_synth_ntu), times=2)
    hook.before_train(runner(FakeHead(), train=data))
    # a zero-shot split whose data keeps exactly the right classes
    zsl = FakeHead(train=SEEN, test=UNSEEN)
    hook.before_train(
        runner(zsl, train=dataset(tiny_synth_ntu, keep_classes=SEEN)))
    hook.before_test(
        runner(
            zsl, test=dataset(tiny_synth_ntu, 'xsub_val',
                              keep_classes=UNSEEN)))


def test_class_names_disagree(tiny_synth_ntu):
    data = dataset(tiny_synth_ntu)
    with pytest.raises(KnowledgeError) as error:
        KnowledgeCheckHook().before_train(
            runner(FakeHead('ntu60'), train=data))
    message = str(error.value)
    assert 'ntu60.json' in message and 'synth_ntu_3d.pkl' in message
    assert 'misordered' in message or 'extra' in message


def test_prefix_of_a_larger_knowledge_passes():
    # NTU-60 class names with the NTU-120 knowledge: labels agree
    knowledge = ActionKnowledge.load('ntu120')
    knowledge.check_class_names(knowledge.class_names[:60], prefix=True)
    with pytest.raises(KnowledgeError, match="missing from"):
        knowledge.check_class_names(knowledge.class_names[:60])
    with pytest.raises(KnowledgeError, match='misordered'):
        names = knowledge.class_names[:60]
        names[0], names[1] = names[1], names[0]
        knowledge.check_class_names(names, prefix=True)


def test_zero_shot_split_errors(tiny_synth_ntu):
    hook = KnowledgeCheckHook()
    zsl = FakeHead(train=SEEN, test=UNSEEN)
    with pytest.raises(ValueError, match='keeps every class'):
        hook.before_train(runner(zsl, train=dataset(tiny_synth_ntu)))
    leaky = dataset(tiny_synth_ntu, keep_classes=SEEN + [5])
    with pytest.raises(ValueError, match=r"5 \('clapping'\)"):
        hook.before_train(runner(zsl, train=leaky))
    wrong_test = dataset(tiny_synth_ntu, 'xsub_val', keep_classes=[0, 5])
    with pytest.raises(ValueError, match=r"0 \('drink water'\).*for test"):
        hook.before_test(runner(zsl, test=wrong_test))


def test_missing_class_names_only_warn(tiny_synth_ntu, caplog):
    data = dataset(tiny_synth_ntu, names=False)
    with caplog.at_level(logging.WARNING, 'knowledge-check-test'):
        KnowledgeCheckHook().before_train(runner(FakeHead(), train=data))
    assert 'no class names' in caplog.text
