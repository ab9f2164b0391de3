# Copyright (c) mmaction-sugar contributors. All rights reserved.
import math

import pytest
import torch

from mmaction_sugar.models.losses import MILNCELoss, mil_nce


def hand_computed(logits, mask):
    """The formula written out with plain Python floats."""
    total = 0.0
    for row, pos in zip(logits, mask):
        num = sum(math.exp(v) for v, p in zip(row, pos) if p)
        den = sum(math.exp(v) for v in row)
        total += -math.log(num / den)
    return total / len(logits)


def test_matches_hand_computed_value():
    logits = [[1.0, 2.0, 3.0, -1.0], [0.5, 0.0, 1.0, 2.0]]
    mask = [[True, True, False, False], [False, False, False, True]]
    value = mil_nce(torch.tensor(logits), torch.tensor(mask))
    assert value.item() == pytest.approx(hand_computed(logits, mask),
                                         rel=1e-6)


def test_single_positive_is_cross_entropy():
    logits = torch.randn(5, 7)
    target = torch.tensor([0, 3, 6, 2, 2])
    mask = torch.nn.functional.one_hot(target, 7).bool()
    torch.testing.assert_close(
        mil_nce(logits, mask),
        torch.nn.functional.cross_entropy(logits, target))


def test_padding_texts_are_ignored():
    logits = torch.tensor([[1.0, 2.0, 50.0]])
    mask = torch.tensor([[True, False, True]])
    valid = torch.tensor([True, True, False])  # the 50.0 text is padding
    expected = hand_computed([[1.0, 2.0]], [[True, False]])
    assert mil_nce(logits, mask, valid).item() == pytest.approx(expected)


def test_stable_at_low_temperature():
    logits = torch.tensor([[1000.0, 999.0, -1000.0]])
    mask = torch.tensor([[False, True, False]])
    value = mil_nce(logits, mask)
    assert torch.isfinite(value)
    assert value.item() == pytest.approx(
        1.0 + math.log1p(math.exp(-1.0)), rel=1e-4)


def test_gradient_flows_and_training_lowers_the_loss():
    torch.manual_seed(0)
    features = torch.randn(8, 16, requires_grad=True)
    texts = torch.nn.functional.normalize(torch.randn(12, 16), dim=1)
    mask = torch.zeros(8, 12, dtype=torch.bool)
    for i in range(8):
        mask[i, (i % 4) * 3:(i % 4) * 3 + 3] = True  # 4 classes x 3 texts
    optimizer = torch.optim.SGD([features], lr=0.5)
    losses = []
    for _ in range(20):
        logits = torch.nn.functional.normalize(features, dim=1) @ texts.T
        loss = MILNCELoss()(logits / 0.1, mask)
        optimizer.zero_grad()
        loss.backward()
        assert torch.isfinite(features.grad).all()
        assert features.grad.abs().sum() > 0
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_loss_weight():
    logits, mask = torch.randn(3, 4), torch.eye(3, 4).bool()
    assert MILNCELoss(loss_weight=2.0)(logits, mask).item() == pytest.approx(
        2.0 * mil_nce(logits, mask).item())


def test_errors():
    with pytest.raises(ValueError, match='same shape'):
        mil_nce(torch.zeros(2, 3), torch.ones(2, 4, dtype=torch.bool))
    mask = torch.tensor([[True, False], [False, False]])
    with pytest.raises(ValueError, match=r'samples \[1\] have none'):
        mil_nce(torch.zeros(2, 2), mask)


def test_registered():
    from mmaction.registry import MODELS
    assert isinstance(MODELS.build(dict(type='MILNCELoss')), MILNCELoss)
