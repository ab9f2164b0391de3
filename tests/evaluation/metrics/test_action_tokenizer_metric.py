# Copyright (c) mmaction-sugar contributors. All rights reserved.
import math

import pytest
import torch
from mmaction.registry import METRICS
from mmaction.structures import ActionDataSample

from mmaction_sugar.evaluation import ActionTokenizerMetric


def sample(codes, mpjpe, num_codes=8):
    return dict(
        pred_codes=torch.tensor(codes), recon_mpjpe=mpjpe, num_codes=num_codes)


def test_compute_metrics_on_hand_made_results():
    metric = ActionTokenizerMetric()
    metric.process(
        None,
        [
            sample([0, 1, 2, 3], 0.1),
            sample([0, 1, 2, 3], 0.2),  # the same sentence as the first
        ])
    metric.process(None, [sample([4, 4, 4, 4], 0.3)])
    out = metric.compute_metrics(metric.results)
    assert set(out) == {
        'mpjpe', 'perplexity', 'code_usage', 'unique_sentences'
    }
    assert out['mpjpe'] == pytest.approx(0.2)
    # 12 codes: 0-3 twice each (1/6), 4 four times (1/3)
    entropy = -(4 * (1 / 6) * math.log(1 / 6) + (1 / 3) * math.log(1 / 3))
    assert out['perplexity'] == pytest.approx(math.exp(entropy))
    assert out['code_usage'] == pytest.approx(5 / 8)
    assert out['unique_sentences'] == pytest.approx(1 / 3)


def test_extremes_and_plain_sequences():
    metric = ActionTokenizerMetric()
    # every code equally often, all sentences distinct: perplexity = K
    metric.process(None, [
        dict(pred_codes=[0, 1, 2, 3], recon_mpjpe=0.0, num_codes=4),
        dict(pred_codes=(3, 2, 1, 0), recon_mpjpe=0.5, num_codes=4),
    ])
    out = metric.compute_metrics(metric.results)
    assert out == pytest.approx(
        dict(mpjpe=0.25, perplexity=4.0, code_usage=1.0, unique_sentences=1.0))

    collapsed = ActionTokenizerMetric()
    collapsed.process(None, [sample([2, 2, 2], 0.1) for _ in range(3)])
    out = collapsed.compute_metrics(collapsed.results)
    assert out['perplexity'] == pytest.approx(1.0)
    assert out['code_usage'] == pytest.approx(1 / 8)
    assert out['unique_sentences'] == 0.0


def test_evaluate_adds_the_prefix():
    metric = METRICS.build(dict(type='ActionTokenizerMetric'))
    metric.process(None, [sample([0, 1], 0.1), sample([1, 0], 0.3)])
    out = metric.evaluate(2)
    assert set(out) == {
        'tokenizer/mpjpe', 'tokenizer/perplexity', 'tokenizer/code_usage',
        'tokenizer/unique_sentences'
    }
    assert out['tokenizer/mpjpe'] == pytest.approx(0.2)
    assert out['tokenizer/code_usage'] == pytest.approx(2 / 8)
    assert metric.results == []  # evaluate clears them


def test_missing_fields_raise_a_key_error_naming_them():
    metric = ActionTokenizerMetric()
    with pytest.raises(KeyError, match="'pred_codes'") as info:
        metric.process(None, [dict(recon_mpjpe=0.1, num_codes=8)])
    assert 'num_codes' not in str(info.value)
    assert 'ActionVQVAE' in str(info.value)
    with pytest.raises(
            KeyError, match=r"\['num_codes', 'pred_codes', 'recon_mpjpe'\]"):
        metric.process(None, [ActionDataSample().set_gt_label(1).to_dict()])
    assert metric.results == []


def test_reads_what_action_vqvae_predicts():
    from mmaction_sugar.models.tokenizers import ActionVQVAE
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        model = ActionVQVAE(
            width=32, latent_dim=8, codebook=dict(num_codes=16)).eval()
        samples = model(
            torch.randn(3, 1, 2, 16, 25, 3),
            [ActionDataSample() for _ in range(3)],
            mode='predict')
    finally:
        torch.set_num_threads(threads)
    metric = ActionTokenizerMetric()
    metric.process(None, [s.to_dict() for s in samples])
    out = metric.compute_metrics(metric.results)
    assert out['mpjpe'] == pytest.approx(
        sum(s.recon_mpjpe for s in samples) / 3)
    used = torch.cat([s.pred_codes for s in samples]).unique().numel()
    assert out['code_usage'] == pytest.approx(used / 16)
    assert 1.0 <= out['perplexity'] <= used + 1e-6
