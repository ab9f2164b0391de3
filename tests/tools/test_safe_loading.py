# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""A checkpoint crafted to run code when loaded is refused everywhere a
user's checkpoint is loaded, and its code never runs."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.runner import CheckpointLoader, load_checkpoint

from mmaction_sugar.utils import UnsafeCheckpointError, safe_torch_load
from test_train_test import REPO, STGCN, tiny_config


class Payload:
    """Unpickling this runs a shell command (creates ``marker``)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


@pytest.fixture
def crafted(tmp_path):
    """A checkpoint that looks like mmengine's, with a payload in meta."""
    marker = tmp_path / 'pwned'
    path = tmp_path / 'epoch_1.pth'
    torch.save({'state_dict': {'backbone.w': torch.zeros(1)},
                'meta': {'epoch': 1, 'note': Payload(marker)}}, str(path))
    return str(path), marker


def test_safe_torch_load_refuses_and_names_file_and_global(crafted):
    path, marker = crafted
    with pytest.raises(UnsafeCheckpointError) as info:
        safe_torch_load(path)
    message = str(info.value)
    assert message.startswith(f'{path}: refused to load')
    assert 'posix.system' in message
    assert not marker.exists()


def test_mmengine_loaders_refuse(crafted, monkeypatch):
    path, marker = crafted
    # even with torch's default switched off by the environment
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    with pytest.raises(UnsafeCheckpointError, match='refused to load'):
        CheckpointLoader.load_checkpoint(path, map_location='cpu')
    with pytest.raises(UnsafeCheckpointError, match='refused to load'):
        load_checkpoint(torch.nn.Linear(1, 1), path)
    assert not marker.exists()


def test_stage3_encoder_checkpoint_refused(crafted):
    from mmaction_sugar.models.recognizers import SugarRecognizer
    path, marker = crafted
    recognizer = SugarRecognizer.__new__(SugarRecognizer)
    torch.nn.Module.__init__(recognizer)
    with pytest.raises(UnsafeCheckpointError, match='posix.system'):
        SugarRecognizer.load_encoder(recognizer, path)
    assert not marker.exists()


def test_toolbox_test_tool_refuses(crafted, tmp_path, tiny_synth_ntu):
    path, marker = crafted
    cfg = tiny_config(tmp_path, STGCN, tiny_synth_ntu, epochs=1)
    result = subprocess.run(
        [sys.executable, 'tools/test.py', cfg, path, '--work-dir',
         str(tmp_path / 'work')], capture_output=True, text=True, cwd=REPO,
        timeout=300)
    assert result.returncode != 0
    assert 'refused to load' in result.stderr
    assert not marker.exists()


def test_an_ordinary_checkpoint_still_loads(tmp_path):
    import numpy as np
    from mmengine.logging import HistoryBuffer
    path = str(tmp_path / 'ok.pth')
    torch.save({'state_dict': {'w': torch.ones(2)},
                'meta': {'epoch': 1, 'acc': np.float64(0.5)},
                'message_hub': {'log': HistoryBuffer()}}, path)
    loaded = safe_torch_load(path)
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))
    assert osp.isfile(path)
