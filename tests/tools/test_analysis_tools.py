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
