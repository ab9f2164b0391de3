# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""The baseline configs through the stock runner and the toolbox's tools."""
import glob
import json
import os.path as osp
import subprocess
import sys

import mmaction
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STGCN = osp.join(REPO, 'configs/stgcn/'
                 'stgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py')
BASELINES = [
    STGCN,
    osp.join(REPO, 'configs/stgcnpp/'
             'stgcnpp_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py'),
    osp.join(REPO, 'configs/2s-agcn/'
             '2s-agcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py'),
    osp.join(REPO, 'configs/sugar/sugar-stage2_stgcn_1xb16-joint-u32-5e_'
             'synthntu-xsub-keypoint-3d.py'),
    osp.join(REPO, 'configs/sugar/sugar-stage2_stgcn_1xb16-joint-u32-5e_'
             'synthntu-xsub-zsl5-keypoint-3d.py'),
    osp.join(REPO, 'configs/sugar/sugar-stage2_2s-agcn_1xb16-joint-u32-5e_'
             'synthntu-xsub-keypoint-3d.py'),
    osp.join(REPO, 'configs/ctrgcn/'
             'ctrgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py'),
    osp.join(REPO, 'configs/sugar/sugar-stage2_ctrgcn_1xb16-joint-u32-5e_'
             'synthntu-xsub-keypoint-3d.py'),
]
TOOLBOX_TOOLS = osp.join(osp.dirname(mmaction.__file__), '.mim', 'tools')

TINY_OVERRIDES = """
_base_ = {base!r}
data_root = {data!r}
pipeline = [
    dict(type='PreNormalize3D'),
    dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=8, num_clips=1,
         test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs')
]
data = dict(ann_file=data_root + '/synth_ntu_3d.pkl',
            metainfo=dict(classes=data_root + '/synth_ntu_classes.txt'),
            pipeline=pipeline, indices=48)
loader = dict(batch_size=8, num_workers=0, persistent_workers=False)
train_dataloader = dict(**loader, dataset=dict(times=1, dataset=data))
val_dataloader = dict(**loader, dataset=data)
test_dataloader = dict(**loader, dataset=data)
train_cfg = dict(max_epochs={epochs}, val_interval=1)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3),
                     logger=dict(interval=2))
randomness = dict(seed=0)
"""


def tiny_config(tmp_path, base, data_dir, epochs=2, name='tiny.py'):
    """A config file that runs ``base`` briefly on the tiny data."""
    path = tmp_path / name
    path.write_text(TINY_OVERRIDES.format(base=base, data=data_dir,
                                          epochs=epochs))
    return str(path)


def run_tool(script, *args):
    result = subprocess.run([sys.executable, script, *args],
                            capture_output=True, text=True, cwd=REPO,
                            timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[
        -3000:]
    return result


def last_metrics(work_dir):
    """Metrics that tools/test.py wrote as JSON under ``work_dir``."""
    files = sorted(glob.glob(osp.join(work_dir, '*', '*.json')))
    assert files, f'no metrics json under {work_dir}'
    return json.load(open(files[-1]))


@pytest.mark.parametrize(
    'base', BASELINES, ids=lambda p: osp.basename(p).split('_1xb')[0] + (
        '-zsl' if 'zsl' in p else ''))
def test_config_trains_validates_and_tests(tmp_path, tiny_synth_ntu, base):
    cfg = Config.fromfile(tiny_config(tmp_path, base, tiny_synth_ntu,
                                      epochs=1))
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    if 'zsl' in base:  # zero-shot and generalised zero-shot accuracies
        assert metrics['zsl/chance_top1'] == 1 / 5
        assert 0.0 <= metrics['zsl/unseen_top1'] <= 1.0
        assert 0.0 <= metrics['zsl/gzsl_harmonic'] <= 1.0
    else:
        assert 0.0 <= metrics['acc/top1'] <= metrics['acc/top5'] <= 1.0
    assert osp.isfile(osp.join(cfg.work_dir, 'epoch_1.pth'))


def test_checkpoint_load_from_and_resume(tmp_path, tiny_synth_ntu):
    work_dir = str(tmp_path / 'work')
    # 1. one epoch; the checkpoint loads under weights_only=True
    run_tool('tools/train.py', tiny_config(tmp_path, STGCN, tiny_synth_ntu,
                                           epochs=1, name='one.py'),
             '--work-dir', work_dir)
    first = torch.load(osp.join(work_dir, 'epoch_1.pth'), weights_only=True,
                       map_location='cpu')
    assert first['meta']['epoch'] == 1
    assert {'message_hub', 'optimizer', 'param_schedulers'} <= set(first)

    # 2. --resume continues from it up to epoch 2 (same iteration count)
    result = run_tool('tools/train.py',
                      tiny_config(tmp_path, STGCN, tiny_synth_ntu),
                      '--work-dir', work_dir, '--resume')
    assert 'resumed epoch: 1' in result.stdout + result.stderr
    second = torch.load(osp.join(work_dir, 'epoch_2.pth'), weights_only=True,
                        map_location='cpu')
    assert second['meta']['epoch'] == 2
    assert second['meta']['iter'] == 2 * first['meta']['iter']
    key = 'backbone.data_bn.weight'
    assert not torch.equal(first['state_dict'][key],
                           second['state_dict'][key])

    # 3. load_from reproduces the metrics the run logged for epoch 2 (the
    # tiny config's test loader is its val loader)
    scalars = [json.loads(line) for line in open(glob.glob(osp.join(
        work_dir, '*', 'vis_data', 'scalars.json'))[-1])]
    logged = [s for s in scalars if 'acc/top1' in s][-1]
    cfg = Config.fromfile(tiny_config(tmp_path, STGCN, tiny_synth_ntu))
    cfg.work_dir = str(tmp_path / 'val')
    cfg.load_from = osp.join(work_dir, 'epoch_2.pth')
    metrics = Runner.from_cfg(cfg).test()
    assert metrics['acc/top1'] == pytest.approx(logged['acc/top1'])
    assert metrics['acc/top5'] == pytest.approx(logged['acc/top5'])


def test_toolbox_own_tools_run_project_config(tmp_path, tiny_synth_ntu):
    # MMAction2's installed tools/train.py and tools/test.py know nothing of
    # the plugin: the config's custom_imports loads it.
    if not osp.isdir(TOOLBOX_TOOLS):
        pytest.skip('this mmaction2 install has no .mim/tools')
    config = tiny_config(tmp_path, STGCN, tiny_synth_ntu, epochs=1)
    work_dir = str(tmp_path / 'toolbox')
    env_tool = osp.join(TOOLBOX_TOOLS, 'train.py')
    run_tool(env_tool, config, '--work-dir', work_dir)
    ckpt = osp.join(work_dir, 'epoch_1.pth')
    assert osp.isfile(ckpt)
    run_tool(osp.join(TOOLBOX_TOOLS, 'test.py'), config, ckpt, '--work-dir',
             osp.join(work_dir, 'test'))
    metrics = last_metrics(osp.join(work_dir, 'test'))
    assert 0.0 <= metrics['acc/top1'] <= 1.0
