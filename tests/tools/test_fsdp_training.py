# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""SUGAR stage 3 under FSDP (FlexibleRunner + LoRAFSDPStrategy, gloo on
CPU): 2 processes train, checkpoint without the frozen LLM, resume, and the
checkpoint tests in one process."""
import os.path as osp
import subprocess
import sys

import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from test_interrupt_resume import torchrun
from test_sugar_end_to_end import STAGE2, STAGE3, TINY_STAGE3
from test_train_test import REPO, TINY_OVERRIDES, last_metrics, tiny_config

FSDP_BASE = osp.join(REPO, 'configs/_base_/fsdp.py')


def test_fsdp_stage3_trains_resumes_and_tests(tmp_path, tiny_synth_ntu):
    # a stage-2 encoder checkpoint (random weights suffice here)
    stage2 = Config.fromfile(tiny_config(tmp_path, STAGE2, tiny_synth_ntu,
                                         1, 'stage2.py'))
    encoder = str(tmp_path / 'stage2.pth')
    torch.save({'state_dict': MODELS.build(stage2.model).state_dict()},
               encoder)
    data3 = tmp_path / 'data3.py'
    data3.write_text(
        TINY_OVERRIDES.format(base=STAGE3, data=tiny_synth_ntu,
                              epochs=2).replace(
                                  'val_dataloader = dict(**loader, '
                                  'dataset=data)\n', ''))
    stage3 = tmp_path / 'stage3.py'
    stage3.write_text(
        TINY_STAGE3.format(base=str(data3)).replace(
            'train_cfg = dict(max_epochs=1, val_interval=1)', '') +
        f'model.update(encoder_checkpoint={encoder!r})\n')
    fsdp = tmp_path / 'stage3_fsdp.py'
    fsdp.write_text(f'_base_ = [{str(stage3)!r}, {FSDP_BASE!r}]\n')
    work = str(tmp_path / 'work')

    log = torchrun(str(fsdp), work, '--cfg-options', 'train_cfg.max_epochs=1')
    assert 'Distributed training: True' in log
    assert osp.isfile(osp.join(work, 'epoch_1.pth'))
    log = torchrun(str(fsdp), work, '--resume')
    assert 'resumed epoch: 1' in log

    ckpt = torch.load(osp.join(work, 'epoch_2.pth'), weights_only=True)
    assert ckpt['meta']['epoch'] == 2
    state = ckpt['state_dict']
    # the full state dict, gathered from the shards, with FSDP's names
    # removed and without the frozen LLM
    assert not any('_fsdp_wrapped_module' in k for k in state)
    llm = [k for k in state if k.startswith('cls_head.llm.')]
    assert llm and all('lora_' in k for k in llm)
    assert any(k.startswith('neck.') for k in state)
    assert osp.isfile(osp.join(work, 'lora_adapter', 'adapter_config.json'))

    # the FSDP checkpoint tests in one process with the plain config
    result = subprocess.run(
        [sys.executable, 'tools/test.py', str(stage3),
         osp.join(work, 'epoch_2.pth'), '--work-dir',
         str(tmp_path / 'test')], cwd=REPO, capture_output=True, text=True,
        timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = last_metrics(str(tmp_path / 'test'))
    assert 0.0 <= metrics['acc/top1'] <= metrics['acc/top5'] <= 1.0
