# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Runs killed with SIGKILL, during training and during a checkpoint write,
in one process and under 2-process DDP (gloo on CPU), resume with
``--resume`` and end bitwise identical to an uninterrupted run.
"""
import json
import os
import os.path as osp
import random
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch

from test_train_test import REPO

STAGE2 = osp.join(REPO, 'configs/sugar/sugar-stage2_stgcn_1xb16-joint-u32-'
                  '5e_synthntu-xsub-keypoint-3d.py')

# SUGAR stage 2 on the tiny data, 3 epochs of 4 iterations, with the random
# training pipeline (frame sampling) and validation after every epoch (the
# toolbox's test-mode sampling re-seeds numpy), keeping one checkpoint.
CONFIG = """
_base_ = {base!r}
data_root = {data!r}
def pipeline(test_mode):
    return [
        dict(type='PreNormalize3D'),
        dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
        dict(type='UniformSampleFrames', clip_len=8, num_clips=1,
             test_mode=test_mode),
        dict(type='PoseDecode'),
        dict(type='FormatGCNInput', num_person=2),
        dict(type='PackActionInputs')
    ]
data = dict(ann_file=data_root + '/synth_ntu_3d.pkl', indices=32,
            metainfo=dict(classes=data_root + '/synth_ntu_classes.txt'))
loader = dict(batch_size=8, num_workers=0, persistent_workers=False)
train_dataloader = dict(**loader, dataset=dict(
    times=1, dataset=dict(**data, pipeline=pipeline(False))))
val_dataloader = dict(**loader, dataset=dict(**data,
                                             pipeline=pipeline(True)))
test_dataloader = val_dataloader
del pipeline
train_cfg = dict(max_epochs=3, val_interval=1)
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=0, T_max=3,
                        by_epoch=True, convert_to_iter_based=True)]
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=1),
                     logger=dict(interval=1))
randomness = dict(seed=0)
"""

# tools/train.py with torch.save cut short: writing ``epoch_2.pth`` puts
# some bytes on disk and then the process kills itself with SIGKILL, as a
# job killed mid-write would be.
KILL_IN_SAVE = """
import os, runpy, signal, sys, torch
original = torch.save
def save(obj, f, *args, **kwargs):
    if 'epoch_2.pth' in str(getattr(f, 'name', '')):
        f.write(b'PK\\x03\\x04 half a checkpoint')
        f.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    return original(obj, f, *args, **kwargs)
torch.save = save
sys.argv = ['tools/train.py', {cfg!r}, '--work-dir', {work!r}]
runpy.run_path('tools/train.py', run_name='__main__')
"""


def train(cfg, work_dir, *extra):
    result = subprocess.run(
        [sys.executable, 'tools/train.py', cfg, '--work-dir', work_dir,
         *extra], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def val_metrics(work_dir):
    """Every validation record the run logged, in order."""
    records = []
    for path in sorted(
            osp.join(work_dir, d, 'vis_data', 'scalars.json')
            for d in os.listdir(work_dir)
            if osp.isfile(osp.join(work_dir, d, 'vis_data',
                                   'scalars.json'))):
        records += [r for r in map(json.loads, open(path))
                    if 'acc/top1' in r]
    return [(r['step'], r['acc/top1'], r['acc/top5']) for r in records]


def weights(path):
    return torch.load(path, map_location='cpu', weights_only=True)[
        'state_dict']


def assert_same_weights(a, b):
    a, b = weights(a), weights(b)
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f'weights differ: {different[:5]}'


@pytest.fixture(scope='module')
def reference(tmp_path_factory, tiny_synth_ntu):
    """The config and the uninterrupted run's work dir."""
    root = tmp_path_factory.mktemp('resume')
    cfg = root / 'stage2.py'
    cfg.write_text(CONFIG.format(base=STAGE2, data=tiny_synth_ntu))
    work = str(root / 'uninterrupted')
    train(str(cfg), work)
    return str(cfg), work


def test_killed_during_training_resumes_to_identical_weights(
        tmp_path, reference):
    cfg, ref_work = reference
    work = str(tmp_path / 'killed')
    proc = subprocess.Popen(
        [sys.executable, 'tools/train.py', cfg, '--work-dir', work],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not osp.isfile(osp.join(work, 'epoch_1.pth')):
        assert proc.poll() is None, 'training ended before epoch 1'
        assert time.time() < deadline
        time.sleep(0.2)
    # somewhere in epoch 2 (or its checkpoint write, or epoch 3)
    time.sleep(random.Random(0).uniform(0.0, 2.0))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    log = train(cfg, work, '--resume')
    assert 'Auto resumed from the latest checkpoint' in log
    assert_same_weights(osp.join(ref_work, 'epoch_3.pth'),
                        osp.join(work, 'epoch_3.pth'))
    # the resumed run's final validation equals the uninterrupted one's
    assert val_metrics(work)[-1] == val_metrics(ref_work)[-1]


def test_killed_during_a_checkpoint_write_never_loads_half_a_file(
        tmp_path, reference):
    cfg, ref_work = reference
    work = str(tmp_path / 'killed')
    driver = KILL_IN_SAVE.format(cfg=cfg, work=work)
    result = subprocess.run([sys.executable, '-c', driver], cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]
    # the half-written file never took the checkpoint's name, and the one
    # complete checkpoint was not deleted (max_keep_ckpts=1) before the
    # new one was complete
    names = os.listdir(work)
    assert 'epoch_2.pth' not in names and 'epoch_1.pth' in names
    assert any(n.endswith('.tmp') for n in names)
    assert open(osp.join(work, 'last_checkpoint')).read().endswith(
        'epoch_1.pth')

    log = train(cfg, work, '--resume')
    assert 'resumed epoch: 1' in log
    assert not any(n.endswith('.tmp') for n in os.listdir(work))
    assert sorted(n for n in os.listdir(work) if n.startswith('epoch')) \
        == ['epoch_3.pth']
    assert_same_weights(osp.join(ref_work, 'epoch_3.pth'),
                        osp.join(work, 'epoch_3.pth'))
    assert val_metrics(work)[-1] == val_metrics(ref_work)[-1]


def torchrun(cfg, work_dir, *extra, wait=True):
    """``tools/train.py`` in 2 processes (gloo DDP on CPU)."""
    with socket.socket() as s:  # a free port for the rendezvous
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, '-m', 'torch.distributed.run',
           '--nproc_per_node=2', f'--master_port={port}', 'tools/train.py',
           cfg, '--launcher', 'pytorch', '--work-dir', work_dir, *extra]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    if not wait:
        return subprocess.Popen(cmd, cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL,
                                start_new_session=True)
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def test_ddp_two_processes_train_killed_and_resumed(tmp_path, reference):
    cfg, _ = reference
    ref_work = str(tmp_path / 'ddp')
    log = torchrun(cfg, ref_work)
    assert 'Distributed training: True' in log
    assert "replaced by 'gloo'" in log or not torch.cuda.is_available()
    assert osp.isfile(osp.join(ref_work, 'epoch_3.pth'))

    # the same run, killed (launcher and both workers) after epoch 1
    work = str(tmp_path / 'ddp_killed')
    proc = torchrun(cfg, work, wait=False)
    deadline = time.time() + 300
    while not osp.isfile(osp.join(work, 'epoch_1.pth')):
        assert proc.poll() is None, 'training ended before epoch 1'
        assert time.time() < deadline
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not osp.isfile(osp.join(work, 'epoch_3.pth'))

    log = torchrun(cfg, work, '--resume')
    assert 'Auto resumed from the latest checkpoint' in log
    assert_same_weights(osp.join(ref_work, 'epoch_3.pth'),
                        osp.join(work, 'epoch_3.pth'))
    assert val_metrics(work)[-1] == val_metrics(ref_work)[-1]
