# Copyright (c) mmaction-sugar contributors. All rights reserved.
import os.path as osp
import sys

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.runner import Runner

from mmaction_sugar.engine import CPUAmpOptimWrapper

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(__file__)), '..',
                            'tools'))
from test_train_test import STGCN, tiny_config  # noqa: E402

TINY_STGCN = dict(
    type='RecognizerGCN',
    backbone=dict(
        type='STGCN',
        graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial'),
        base_channels=8,
        num_stages=2,
        inflate_stages=[],
        down_stages=[]),
    cls_head=dict(type='GCNHead', num_classes=4, in_channels=8))


def test_forward_in_bf16_weights_and_grads_in_fp32():
    torch.manual_seed(0)
    model = MODELS.build(TINY_STGCN)
    wrapper = CPUAmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    with wrapper.optim_context(model):
        feats = model.extract_feat(torch.randn(2, 1, 2, 8, 25, 3))[0]
    assert feats.dtype == torch.bfloat16
    # the toolbox head's top-k accuracy reaches numpy: fp32 scores (compat)
    data = dict(
        inputs=[torch.randn(1, 2, 8, 25, 3) for _ in range(4)],
        data_samples=[ActionDataSample().set_gt_label(i) for i in range(4)])
    before = model.cls_head.fc.weight.detach().clone()
    log_vars = model.train_step(data, wrapper)
    assert torch.isfinite(log_vars['loss'])
    assert 'top1_acc' in log_vars
    weight = model.cls_head.fc.weight
    assert weight.dtype == torch.float32
    assert not torch.equal(before, weight.detach())


def test_only_bfloat16():
    params = [torch.nn.Parameter(torch.zeros(1))]
    with pytest.raises(ValueError, match='bfloat16 only'):
        CPUAmpOptimWrapper(
            optimizer=torch.optim.SGD(params, lr=0.1), dtype='float16')


def test_trains_validates_and_checkpoints_in_the_runner(
        tmp_path, tiny_synth_ntu):
    cfg = Config.fromfile(tiny_config(tmp_path, STGCN, tiny_synth_ntu, 1))
    cfg.optim_wrapper.type = 'CPUAmpOptimWrapper'
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert isinstance(runner.optim_wrapper, CPUAmpOptimWrapper)
    metrics = runner.val_loop.run()
    assert 0 <= metrics['acc/top1'] <= 1
    ckpt = torch.load(
        osp.join(cfg.work_dir, 'epoch_1.pth'), weights_only=True)
    assert all(v.dtype != torch.bfloat16 for v in ckpt['state_dict'].values())
