# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""The benchmark script runs both configs and reports the step ratio."""
import os.path as osp
import subprocess
import sys

from test_train_test import REPO, STGCN, tiny_config  # same folder

SUGAR = osp.join(REPO, 'configs/sugar/sugar-stage2_stgcn_1xb16-joint-u32-'
                 '5e_synthntu-xsub-keypoint-3d.py')


def test_benchmark_train_step(tmp_path, tiny_synth_ntu):
    base = tiny_config(tmp_path, STGCN, tiny_synth_ntu, name='base.py')
    sugar = tiny_config(tmp_path, SUGAR, tiny_synth_ntu, name='sugar.py')
    result = subprocess.run(
        [sys.executable, 'tools/analysis/benchmark_train_step.py', base,
         sugar, '--batches', '1', '--rounds', '2', '--steps', '1',
         '--warmup', '1', '--device', 'cpu'],
        capture_output=True, text=True, cwd=REPO, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert '| base | ' in out and '| sugar | ' in out
    assert 'text-encoder calls during timed steps: 0' in out
    assert 'the target <= 1.10' in out


def test_probe_action_sentences(tmp_path, tiny_synth_ntu):
    import torch
    from mmaction.registry import MODELS
    from mmengine.config import Config
    tokenizer = osp.join(
        REPO, 'configs/llmar/llmar-stage1_vqvae-poincare_1xb16-joint-u32-'
        '40e_synthntu-xsub-keypoint-3d.py')
    config = tiny_config(tmp_path, tokenizer, tiny_synth_ntu, name='s1.py')
    model = MODELS.build(Config.fromfile(config).model)
    checkpoint = tmp_path / 's1.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), checkpoint)
    result = subprocess.run(
        [sys.executable, 'tools/analysis/probe_action_sentences.py', config,
         str(checkpoint), '--steps', '20'],
        capture_output=True, text=True, cwd=REPO, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert any(line.endswith('2 codes each, 128-code vocabulary')
               for line in lines)  # 8-frame clips, 4x downsampling
    rows = [line.split(' | ') for line in lines if line.startswith('| bag')
            or line.startswith('| code')]
    assert len(rows) == 2
    for row in rows:
        assert 0 <= float(row[1]) <= 100 and 0 <= float(row[2].strip(' |'))
