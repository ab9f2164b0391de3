# Copyright (c) mmaction-sugar contributors. All rights reserved.
import pytest
import torch

from mmaction_sugar.models.necks import TemporalQueryProjection
from mmaction_sugar.models.necks.temporal_query_projection import MODES

SMALL_QFORMER = dict(
    hidden_size=32,
    num_hidden_layers=1,
    num_attention_heads=2,
    intermediate_size=64,
    cross_attention_frequency=1)


def build(**kwargs):
    args = dict(
        in_channels=16,
        out_channels=24,
        num_queries=8,
        num_segments=4,
        qformer=SMALL_QFORMER)
    args.update(kwargs)
    return TemporalQueryProjection(**args)


@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('tokens', ['joint', 'frame'])
def test_variants_shapes_and_gradients(mode, tokens):
    neck = build(mode=mode, tokens=tokens)
    x = torch.randn(3, 2, 16, 8, 25, requires_grad=True)
    out = neck(x)
    assert out.shape == (3, 8, 24)
    out.square().mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    trained = [p for p in neck.parameters() if p.grad is not None]
    assert trained and all(torch.isfinite(p.grad).all() for p in trained)


def test_token_count_does_not_depend_on_clip_length():
    neck = build()
    for frames in (4, 25, 75):
        assert neck(torch.randn(1, 1, 16, frames, 25)).shape == (1, 8, 24)


def test_tqp_chains_segments():
    """A change in the first segment reaches the last segment's tokens
    (through the chained queries); a change in the last segment leaves
    the first segment's tokens alone."""
    torch.manual_seed(0)
    neck = build().eval()
    x = torch.randn(1, 1, 16, 8, 25)
    base = neck(x)
    early = x.clone()
    early[..., :2, :] += 1.0  # segment 0 (frames 0-1)
    late = x.clone()
    late[..., 6:, :] += 1.0  # segment 3 (frames 6-7)
    per_segment = 8 // 4
    out_early, out_late = neck(early), neck(late)
    assert not torch.allclose(out_early[:, -per_segment:], base[:,
                                                                -per_segment:])
    torch.testing.assert_close(out_late[:, :per_segment],
                               base[:, :per_segment])
    assert not torch.allclose(out_late[:, -per_segment:], base[:,
                                                               -per_segment:])


def test_qformer_is_the_transformers_class_and_loads_from_a_folder(tmp_path):
    from transformers import Blip2QFormerModel
    neck = build()
    assert isinstance(neck.qformer, Blip2QFormerModel)
    neck.qformer.save_pretrained(tmp_path)
    loaded = build(pretrained=str(tmp_path))
    for (name, a), b in zip(neck.qformer.state_dict().items(),
                            loaded.qformer.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match='mode'):
        build(mode='lstm')
    with pytest.raises(ValueError, match='multiple of num_segments'):
        build(num_queries=10, num_segments=4)
    neck = build()
    with pytest.raises(ValueError, match=r'\(N, M, 16, T, V\)'):
        neck(torch.randn(2, 16, 8, 25))
    with pytest.raises(ValueError, match='segments'):
        neck(torch.randn(1, 1, 16, 3, 25))
