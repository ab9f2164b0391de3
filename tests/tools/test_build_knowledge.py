# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""``tools/build_knowledge.py`` end to end, with the bundled SmolLM2 and
tiny random VLM / CLIP models built from configs (nothing downloaded)."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from mmaction_sugar.datasets import knowledge_builder as kb
from mmaction_sugar.datasets.action_knowledge import (BODY_PARTS,
                                                      ActionKnowledge)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'build_knowledge.py')


def load_tool():
    spec = importlib.util.spec_from_file_location('build_knowledge', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tool():
    return load_tool()


@pytest.fixture(scope='module')
def smollm2():
    """The bundled SmolLM2, loaded once (the tool reuses the cache).

    One torch thread: on a shared CPU, oversubscribed threads make the
    generation many times slower.
    """
    import torch
    kb.smollm2_folder()  # installed by tools/setup_env.sh: fail if not
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield kb.load_text_model(kb.SMOLLM2)
    kb.unload_text_models()
    torch.set_num_threads(threads)


def test_arguments_are_checked(tool, tmp_path, capsys):
    with pytest.raises(SystemExit) as error:
        tool.main([
            'motion', '--classes', 'c.txt', '--out', 'o.json', '--fallback',
            'knowledge'
        ])
    assert error.value.code == 2
    assert '--fallback knowledge needs --knowledge' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.main([
            'motion', '--classes', 'c.txt', '--knowledge', 'ntu60', '--out',
            'o.json'
        ])
    with pytest.raises(SystemExit):
        tool.main(['visual', '--knowledge', 'ntu60', '--out', 'o.json'])
    (tmp_path / 'c.txt').write_text('clap\n')
    status = tool.main([
        'motion', '--classes',
        str(tmp_path / 'c.txt'), '--model',
        str(tmp_path / 'no_model'), '--out',
        str(tmp_path / 'new.json')
    ])
    assert status == 1
    assert 'is not a local folder' in capsys.readouterr().err


def test_motion_with_smollm2(tool, smollm2, tmp_path, capsys):
    classes = tmp_path / 'classes.txt'
    classes.write_text('jump up\nclapping\n')
    out = str(tmp_path / 'motion.json')
    argv = [
        'motion', '--classes',
        str(classes), '--out', out, '--max-new-tokens', '80', '--batch-size',
        '2', '--threads', '1', '--no-progress'
    ]
    status = tool.main(argv)
    report = json.load(open(kb.report_path(out)))
    printed = capsys.readouterr().out
    assert printed.startswith('motion: ')
    assert report['settings']['model'] == kb.SMOLLM2
    if status == 0:
        knowledge = ActionKnowledge.load(out)
        assert knowledge.class_names == ['jump up', 'clapping']
        for cls in knowledge:
            assert list(cls.motion) == list(BODY_PARTS)
            assert cls.summary.endswith('.') and cls.visual == ()
        assert report['status'] == 'ok' and report['generated'] == 2
        assert not osp.exists(kb.state_path(out))
        # Rerunning the finished command is refused, not silently redone.
        assert tool.main(argv) == 1
    else:  # Honest failure path: reported with the raw model output.
        assert status == 1 and not osp.exists(out)
        assert report['status'] == 'failed' and report['failures']
        assert all(f['raw'] and f['problems'] for f in report['failures'])


def write_video(path, seed):
    """12 frames of 32x32 coloured noise (red, green, blue blocks)."""
    import cv2
    rng = np.random.default_rng(seed)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'MJPG'), 10,
                             (32, 32))
    for i in range(12):
        frame = rng.integers(0, 60, (32, 32, 3), dtype=np.uint8)
        frame[..., i // 4] += 180
        writer.write(frame)
    writer.release()


def test_visual_with_tiny_models(smollm2, tmp_path):
    _, tokenizer = smollm2
    vlm = kb.build_tiny_vlm(str(tmp_path / 'vlm'), tokenizer=tokenizer)
    clip = kb.build_tiny_clip(str(tmp_path / 'clip'))
    entries = [
        dict(
            index=i,
            name=name,
            persons=1,
            motion={p: f'{p} moves'
                    for p in BODY_PARTS},
            visual=[],
            summary=f'A person does {name}.')
        for i, name in enumerate(['clap', 'eat meal/snack'])
    ]
    knowledge = tmp_path / 'in.json'
    knowledge.write_text(
        json.dumps(
            dict(
                dataset='mini',
                description='Two classes.',
                body_parts=list(BODY_PARTS),
                classes=entries)))
    os.mkdir(tmp_path / 'videos')
    for seed, name in enumerate(['a.avi', 'b.avi']):
        write_video(str(tmp_path / 'videos' / name), seed)
    csv = tmp_path / 'videos.csv'
    csv.write_text('class_name,video\nclap,videos/a.avi\n'
                   'eat meal/snack,videos/b.avi\n')
    out = str(tmp_path / 'out.json')
    run = subprocess.run([
        sys.executable, TOOL, 'visual', '--knowledge',
        str(knowledge), '--videos',
        str(csv), '--vlm', vlm, '--image-encoder', clip, '--num-frames', '2',
        '--num-candidates', '6', '--max-new-tokens', '12', '--max-retries',
        '1', '--out', out, '--threads', '1', '--no-progress'
    ],
                         capture_output=True,
                         text=True,
                         cwd=REPO,
                         env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert run.returncode in (0, 1), run.stderr
    report = json.load(open(kb.report_path(out)))
    assert report['command'] == 'visual'
    assert report['settings']['vlm'] == vlm
    sources = [s for entry in report['log'] for s in entry['sources']] + [
        r for failure in report['failures'] for r in failure['raw']
    ]
    assert sources  # The frames were chosen and the model was called.
    for source in sources:
        assert source['video'].endswith(('a.avi', 'b.avi'))
        assert len(source['frames']) == 2
        assert all(0 <= i < 12 for i in source['frames'])
    if run.returncode == 0:  # The random text passed the checks.
        result = ActionKnowledge.load(out)
        assert [len(c.visual) for c in result] == [1, 1]
        assert result[0].motion['head'] == 'head moves'
    else:  # Garbage was recognised and reported, with the raw outputs.
        assert not osp.exists(out) and report['failures']
        assert 'NOT written' in run.stdout
        for failure in report['failures']:
            assert all(isinstance(r['output'], str) for r in failure['raw'])
