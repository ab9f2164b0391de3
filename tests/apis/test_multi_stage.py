# Copyright (c) mmaction-sugar contributors. All rights reserved.
import json

import pytest
from mmengine.config import Config

from mmaction_sugar.apis import (StageError, final_checkpoint, run_stages,
                                 stage_list)


def write_stages(tmp_path, stages):
    for name in ('a.py', 'b.py'):
        (tmp_path / name).write_text(
            'model = dict(type="M", encoder_checkpoint=None)\n')
    path = tmp_path / 'multi.py'
    path.write_text(f'stages = {stages!r}\n')
    return Config.fromfile(str(path))


def fake_train(log):
    """Writes a checkpoint like the runner would; records the config."""

    def train(cfg):
        log.append(cfg)
        import os
        os.makedirs(cfg.work_dir, exist_ok=True)
        with open(f'{cfg.work_dir}/epoch_1.pth', 'w') as f:
            f.write('x')
        with open(f'{cfg.work_dir}/last_checkpoint', 'w') as f:
            f.write(f'{cfg.work_dir}/epoch_1.pth')

    return train


def prepare(cfg, work_dir):
    cfg.work_dir = work_dir
    return cfg


def test_stages_run_in_order_hand_on_the_encoder_and_skip_when_done(
        tmp_path):
    cfg = write_stages(tmp_path, [
        dict(name='s2', config='a.py'),
        dict(name='s3', config='b.py', encoder_from='s2')
    ])
    log = []
    work = str(tmp_path / 'work')
    results = run_stages(cfg, work, prepare, fake_train(log))
    assert [c.work_dir for c in log] == [f'{work}/s2', f'{work}/s3']
    assert log[0].model.encoder_checkpoint is None
    assert log[1].model.encoder_checkpoint == f'{work}/s2/epoch_1.pth'
    assert results['s3'] == final_checkpoint(f'{work}/s3')
    done = json.loads((tmp_path / 'work/s2/stage_done.json').read_text())
    assert done['checkpoint'] == f'{work}/s2/epoch_1.pth'
    log.clear()
    run_stages(cfg, work, prepare, fake_train(log))
    assert log == []  # both finished: nothing retrained


def test_an_interrupted_stage_resumes_and_only_runs_one_stage(tmp_path):
    cfg = write_stages(tmp_path, [
        dict(name='s2', config='a.py'),
        dict(name='s3', config='b.py', encoder_from='s2')
    ])
    work = tmp_path / 'work'
    (work / 's2').mkdir(parents=True)
    (work / 's2' / 'last_checkpoint').write_text('epoch_1.pth')
    log = []
    run_stages(cfg, str(work), prepare, fake_train(log), only='s2')
    assert len(log) == 1 and log[0].resume is True
    with pytest.raises(StageError, match='no finished stage'):
        final_checkpoint(str(work / 's3'))


def test_malformed_stage_lists(tmp_path):
    with pytest.raises(StageError, match='non-empty'):
        stage_list(write_stages(tmp_path, []))
    with pytest.raises(StageError, match='`name` and `config`'):
        stage_list(write_stages(tmp_path, [dict(name='x')]))
    with pytest.raises(StageError, match='earlier stage'):
        stage_list(
            write_stages(tmp_path,
                         [dict(name='x', config='a.py', encoder_from='y')]))
    with pytest.raises(StageError, match='duplicate'):
        stage_list(
            write_stages(tmp_path, [
                dict(name='x', config='a.py'),
                dict(name='x', config='b.py')
            ]))
    cfg = write_stages(tmp_path, [dict(name='x', config='missing.py')])
    with pytest.raises(StageError, match='does not exist'):
        run_stages(cfg, str(tmp_path / 'w'), prepare, fake_train([]))
