# Copyright (c) mmaction-sugar contributors. All rights reserved.
import pytest
import torch
from mmaction.structures import ActionDataSample

from mmaction_sugar.evaluation import ZeroShotAccMetric


def run(metric, labels, scores):
    samples = [
        ActionDataSample().set_gt_label(int(y)).set_pred_score(
            torch.as_tensor(s, dtype=torch.float)).to_dict()
        for y, s in zip(labels, scores)
    ]
    metric.process(None, samples)
    return metric.compute_metrics(metric.results)


# 6 classes: 0-3 seen, 4-5 unseen
SCORES = [
    [.5, .1, .1, .1, .1, .1],  # 0: seen right
    [.1, .2, .4, .1, .1, .1],  # 1: seen wrong (2)
    [.1, .1, .1, .1, .5, .1],  # 2: seen, GZSL picks unseen 4
    [.1, .1, .1, .6, .05, .05],  # 3: seen right
    [.6, .0, .0, .0, .3, .1],  # 4: ZSL right, GZSL wrong (0)
    [.1, .1, .1, .1, .2, .4],  # 5: ZSL right, GZSL right
    [.1, .1, .1, .1, .35, .25],  # 5: ZSL wrong (4)
]
LABELS = [0, 1, 2, 3, 4, 5, 5]


def test_hand_computed_values():
    out = run(
        ZeroShotAccMetric(unseen_classes=[4, 5], topk=(1, 2, 5)), LABELS,
        SCORES)
    assert out['unseen_top1'] == pytest.approx(2 / 3)
    assert out['chance_top1'] == 0.5
    # top-2 and top-5 of 2 unseen classes are always right: not reported
    assert 'unseen_top2' not in out and 'unseen_top5' not in out
    assert out['gzsl_seen'] == pytest.approx(2 / 4)
    assert out['gzsl_unseen'] == pytest.approx(1 / 3)
    h = 2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3)
    assert out['gzsl_harmonic'] == pytest.approx(h)
    out = run(
        ZeroShotAccMetric(unseen_classes=[3, 4, 5], topk=(1, 2)), LABELS[3:],
        SCORES[3:])
    assert out['unseen_top2'] == 1.0 and out['chance_top2'] == 2 / 3


def test_calibrated_stacking_moves_choices_to_unseen():
    out = run(
        ZeroShotAccMetric(unseen_classes=[4, 5], calibration=0.35), LABELS,
        SCORES)
    assert out['gzsl_unseen'] == pytest.approx(2 / 3)  # was 1 / 3
    assert out['gzsl_seen'] == pytest.approx(2 / 4)  # unchanged
    out = run(
        ZeroShotAccMetric(unseen_classes=[4, 5], calibration=0.6), LABELS,
        SCORES)
    assert out['gzsl_seen'] == 0.  # every choice is now unseen


def test_names_and_unseen_only_data():
    metric = ZeroShotAccMetric(unseen_classes=['e', 'f'])
    metric.dataset_meta = dict(classes=list('abcdef'))
    out = run(metric, LABELS[4:], SCORES[4:])
    assert set(out) == {'unseen_top1', 'chance_top1'}  # no GZSL
    assert out['unseen_top1'] == pytest.approx(2 / 3)


def test_errors():
    with pytest.raises(ValueError, match='at least one class'):
        ZeroShotAccMetric(unseen_classes=[])
    with pytest.raises(ValueError, match='neither seen nor unseen'):
        run(
            ZeroShotAccMetric(unseen_classes=[4], seen_classes=[0, 1]), LABELS,
            SCORES)
    with pytest.raises(ValueError, match='no test sample of the unseen'):
        run(ZeroShotAccMetric(unseen_classes=[4, 5]), LABELS[:4], SCORES[:4])
    with pytest.raises(ValueError, match='both seen and unseen'):
        run(
            ZeroShotAccMetric(unseen_classes=[4], seen_classes=[3, 4]), LABELS,
            SCORES)
    with pytest.raises(ValueError, match=r'unseen_classes: expected'):
        run(ZeroShotAccMetric(unseen_classes=[9]), LABELS, SCORES)
    metric = ZeroShotAccMetric(unseen_classes=['zz'])
    metric.dataset_meta = dict(classes=list('abcdef'))
    with pytest.raises(ValueError, match="'zz' is not a class name"):
        run(metric, LABELS, SCORES)


def test_refuses_scores_exact_in_the_top_k_only():
    metric = ZeroShotAccMetric(unseen_classes=[2, 3])
    sample = ActionDataSample().set_gt_label(2).set_pred_score(
        torch.tensor([0., -1., -2., -9.]))
    sample.score_exact_topk = 1  # what LLMHead's top-k search marks
    with pytest.raises(ValueError, match="score_search='exact'"):
        metric.process(None, [sample.to_dict()])
