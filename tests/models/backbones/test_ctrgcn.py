# Copyright (c) mmaction-sugar contributors. All rights reserved.
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.optim import OptimWrapper

from mmaction_sugar.models.backbones import CTRGCN
from mmaction_sugar.models.backbones.ctrgcn import REGISTERED_NAME
from mmaction_sugar.models.backbones.ctrgcn_utils import CTRGC

NTU = dict(layout='nturgb+d', mode='spatial')
COCO = dict(layout='coco', mode='spatial')


@pytest.mark.parametrize('persons', [1, 2])
@pytest.mark.parametrize('graph,channels,joints',
                         [(NTU, 3, 25), (COCO, 2, 17), (COCO, 3, 17)])
def test_output_shapes(graph, channels, joints, persons):
    torch.manual_seed(0)
    model = CTRGCN(graph_cfg=graph, in_channels=channels,
                   num_person=persons)
    out = model(torch.randn(2, persons, 20, joints, channels))
    assert out.shape == (2, persons, 256, 5, joints)  # T: 20 -> 10 -> 5


def test_widths_strides_and_parameters():
    model = CTRGCN(graph_cfg=NTU)
    widths = [b.gcn.bn.num_features for b in model.gcn]
    assert widths == [64] * 4 + [128] * 3 + [256] * 3
    strided = [i + 1 for i, b in enumerate(model.gcn)
               if b.tcn.branches[-1][0].stride == (2, 1)]
    assert strided == [5, 8]
    assert model.gcn[0].residual is None  # first block: no residual
    params = sum(p.numel() for p in model.parameters())
    classifier = 256 * 60 + 60
    assert 1.40e6 < params + classifier < 1.50e6  # published: 1.46M


def test_channel_wise_topology_is_sample_dependent():
    torch.manual_seed(0)
    gc = CTRGC(8, 16)
    A = torch.eye(5)
    x = torch.randn(2, 8, 4, 5)
    # alpha = 0: plain graph convolution with A, the same for all samples
    plain = gc(x, A, torch.zeros(1))
    torch.testing.assert_close(plain, gc.zeta(x))
    refined = gc(x, A, torch.ones(1))
    assert not torch.allclose(refined, plain)
    # the refinement of sample 0 does not depend on sample 1
    alone = gc(x[:1], A, torch.ones(1))
    torch.testing.assert_close(alone, refined[:1], rtol=1e-5, atol=1e-5)


def test_bad_input():
    model = CTRGCN(graph_cfg=NTU)
    with pytest.raises(ValueError, match='expected 3 input channels'):
        model(torch.randn(1, 2, 8, 25, 2))
    with pytest.raises(ValueError, match='expected 2 persons'):
        model(torch.randn(1, 1, 8, 25, 3))
    with pytest.raises(ValueError, match='data_bn_type'):
        CTRGCN(graph_cfg=NTU, data_bn_type='MV')


def test_registered_under_a_distinct_name():
    assert MODELS.get(REGISTERED_NAME) is CTRGCN
    # the toolbox project's name stays free for projects/ctrgcn
    assert MODELS.get('CTRGCN') is not CTRGCN


def test_recognizer_train_step_lowers_the_loss():
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='RecognizerGCN',
            backbone=dict(type=REGISTERED_NAME, graph_cfg=NTU),
            cls_head=dict(type='GCNHead', num_classes=4, in_channels=256)))
    inputs = list(torch.randn(4, 1, 2, 8, 25, 3))  # N x (clips, M, T, V, C)
    samples = [ActionDataSample().set_gt_label(i) for i in range(4)]
    data = dict(inputs=inputs, data_samples=samples)
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
    first = model.train_step(data, optim)['loss'].item()
    for _ in range(15):
        last = model.train_step(data, optim)['loss'].item()
    assert last < 0.5 * first
    out = model.test_step(data)
    assert out[0].pred_score.shape == (4, )
