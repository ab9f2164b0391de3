# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""The NTU RGB+D configs build and run a step on NTU-format stand-in data.

The real NTU annotations are not available here, so each config runs on a
small random file with the toolbox's NTU layout (every split name, NTU's
label range); what is checked is the plumbing: the splits, the knowledge
check, zero-shot class lists, a training step and a test step.
"""
import glob
import os.path as osp
import pickle
import re

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    glob.glob(osp.join(REPO, 'configs', '*', '*_ntu60-*.py')) +
    glob.glob(osp.join(REPO, 'configs', '*', '*_ntu120-*.py')))
SPLITS = ('xsub_train', 'xsub_val', 'xview_train', 'xview_val', 'xset_train',
          'xset_val')


def fake_ntu(path, num_classes):
    """Two 8-frame samples per class in every split."""
    rng = np.random.default_rng(num_classes)
    annotations, split = [], {name: [] for name in SPLITS}
    for label in range(num_classes):
        for i, name in enumerate(SPLITS):
            frame_dir = f'S001C00{i % 3 + 1}P00{i}R001A{label + 1:03d}'
            annotations.append(
                dict(
                    frame_dir=frame_dir,
                    label=label,
                    total_frames=8,
                    keypoint=rng.normal(size=(1, 8, 25,
                                              3)).astype(np.float32)))
            split[name].append(frame_dir)
    with open(path, 'wb') as f:
        pickle.dump(dict(split=split, annotations=annotations), f)
    return str(path)


@pytest.fixture(scope='module')
def ntu_files(tmp_path_factory):
    root = tmp_path_factory.mktemp('ntu')
    return {
        'ntu60_3d.pkl': fake_ntu(root / 'ntu60_3d.pkl', 60),
        'ntu120_3d.pkl': fake_ntu(root / 'ntu120_3d.pkl', 120),
    }


def shrink(loader, files):
    """Point a dataloader config at the stand-in data, 8-frame clips."""
    loader.update(batch_size=2, num_workers=0, persistent_workers=False)
    dataset = loader.dataset
    if dataset.type == 'RepeatDataset':
        dataset.times = 1
        dataset = dataset.dataset
    dataset.ann_file = files[osp.basename(dataset.ann_file)]
    for step in dataset.pipeline:
        if step.type == 'UniformSampleFrames':
            step.update(clip_len=8, num_clips=1)


@pytest.mark.parametrize(
    'path',
    CONFIGS,
    ids=lambda p: re.sub(r'_8xb16-joint-u100-\d+e_|-keypoint-3d\.py', '-',
                         osp.basename(p)).strip('-'))
def test_ntu_config_runs_a_step(path, ntu_files, tmp_path):
    cfg = Config.fromfile(path)
    cfg.work_dir = str(tmp_path)
    for loader in (cfg.train_dataloader, cfg.val_dataloader,
                   cfg.test_dataloader):
        shrink(loader, ntu_files)
    cfg.default_hooks.logger.interval = 1
    if cfg.model.get('neck', {}).get('type') == 'TemporalQueryProjection':
        cfg.model.neck.num_segments = 2  # 8-frame clips: 2 feature frames
    runner = Runner.from_cfg(cfg)
    runner.call_hook('before_train')  # the knowledge check, if any
    runner.call_hook('before_test')
    model = runner.model
    batch = next(iter(runner.train_dataloader))
    optim_wrapper = runner.build_optim_wrapper(cfg.optim_wrapper)
    log_vars = model.train_step(batch, optim_wrapper)
    assert torch.isfinite(log_vars['loss'])
    batch = next(iter(runner.test_dataloader))
    out = model.test_step(batch)
    if cfg.model.type == 'ActionVQVAE':  # a tokenizer: 8 frames -> 2 codes
        assert out[0].pred_codes.shape == (2, )
        assert out[0].recon_mpjpe >= 0
        return
    assert out[0].pred_score.shape == (120 if '120' in path else 60, )
