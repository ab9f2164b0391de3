# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""The scripts of ``tools/visualize`` on tiny inputs (CPU, seconds)."""
import argparse
import json
import os
import os.path as osp
import pickle
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from mmengine.config import Config, DictAction
from mmengine.fileio import dump
from PIL import Image

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
VIS_DIR = osp.join(REPO, 'tools', 'visualize')
STAGE2 = osp.join(
    REPO, 'configs/sugar/sugar-stage2_stgcn_1xb16-joint-u32-'
    '5e_synthntu-xsub-keypoint-3d.py')
sys.path.insert(0, VIS_DIR)  # the scripts import vis_utils by name
import accuracy_vs_query_length as accuracy_tool  # noqa: E402
import confusion_matrix as confusion_tool  # noqa: E402
import embeddings_tsne as tsne_tool  # noqa: E402
import skeleton_gif as gif_tool  # noqa: E402
import training_curves as curves_tool  # noqa: E402

pytestmark = pytest.mark.usefixtures('one_thread')

TINY_STAGE2 = """
_base_ = {base!r}
model = dict(
    backbone=dict(base_channels=8, num_stages=2, inflate_stages=[],
                  down_stages=[]),
    cls_head=dict(in_channels=8))
pipeline = [
    dict(type='PreNormalize3D'),
    dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=8, num_clips=2,
         test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs')
]
test_dataloader = dict(dataset=dict(
    ann_file={data!r} + '/synth_ntu_3d.pkl',
    metainfo=dict(classes={data!r} + '/synth_ntu_classes.txt'),
    pipeline=pipeline))
"""


@pytest.fixture(autouse=True)
def in_repo(monkeypatch):
    """The cached class-text bank lives under the working directory."""
    monkeypatch.chdir(REPO)


def frames_of(path) -> int:
    """The frame count of a GIF (and that it is one)."""
    with Image.open(path) as image:
        assert image.format == 'GIF'
        return image.n_frames


def assert_png(path) -> None:
    with Image.open(path) as image:
        assert image.format == 'PNG' and min(image.size) > 50


def run_script(name, *args):
    """A script as a command: its exit status and stderr."""
    proc = subprocess.run(
        [sys.executable, osp.join(VIS_DIR, name), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120)
    return proc.returncode, proc.stderr


def random_clip(shape, seed=0):
    return np.random.default_rng(seed).normal(0, 0.5, shape).astype(np.float32)


# ----------------------------------------------------------------------
# skeleton_gif.py
def test_skeleton_gif_frames_and_layouts(tmp_path):
    two = random_clip((2, 30, 25, 3))
    two[1, 20:] = 0  # the second person leaves
    out = tmp_path / 'two.gif'
    count = gif_tool.draw_skeleton_gif(
        two,
        str(out),
        title='predicted: hugging other person',
        topk=[('hugging other person', 0.6), ('handshaking', 0.4)],
        description='Two people hug. ' * 30,
        caption='S001',
        max_frames=12,
        dpi=40)
    assert count == 12 == frames_of(out)
    one = tmp_path / 'one.gif'  # (T, V, C), fewer frames than the limit
    assert gif_tool.draw_skeleton_gif(
        random_clip((7, 25, 3)), str(one), dpi=40) == 7 == frames_of(one)
    assert list(gif_tool.frame_indices(100, 4)) == [0, 33, 66, 99]


@pytest.mark.parametrize('clip, name, expected', [
    (np.zeros((10, 17, 3)), 'a.gif', 'expected a skeleton clip of shape'),
    (np.ones((3, 5, 25, 3)), 'a.gif', 'at most 2 persons, got 3'),
    (np.zeros((1, 5, 25, 3)), 'a.gif', 'no finite non-zero coordinate'),
    (np.ones((5, 25, 3)), 'a.png', "expected a .gif file, got the "
     "extension '.png'"),
    (np.ones((5, 25, 3)), 'missing/a.gif', 'does not exist'),
])
def test_skeleton_gif_bad_inputs(tmp_path, clip, name, expected):
    with pytest.raises(ValueError, match=re.escape(expected)):
        gif_tool.draw_skeleton_gif(clip, str(tmp_path / name))


def test_skeleton_gif_command_line(tmp_path):
    clip = tmp_path / 'clip.npy'
    np.save(clip, random_clip((2, 9, 25, 3)))
    result = tmp_path / 'result.json'  # as tools/demo.py --out-json writes
    result.write_text(
        json.dumps(
            dict(
                action='salute',
                description='The right hand rises to the brow.',
                topk=[
                    dict(name='salute', prob=0.7),
                    dict(name='hand waving', prob=0.3)
                ])))
    out = tmp_path / 'clip.gif'
    assert gif_tool.main([
        str(clip), str(out), '--result',
        str(result), '--dpi', '40'
    ]) == 9 == frames_of(out)
    assert gif_tool.result_fields(json.loads(result.read_text()))['title'] \
        == 'predicted: salute'
    with pytest.raises(ValueError, match='does not exist'):
        gif_tool.main([str(clip), str(out), '--result', 'missing.json'])
    # as a command: one line, status 2, no traceback
    code, err = run_script('skeleton_gif.py', str(tmp_path / 'no.npy'),
                           str(out))
    assert code == 2 and 'Traceback' not in err
    assert err.strip() == f'error: {tmp_path / "no.npy"}: input file does ' \
        'not exist'


# ----------------------------------------------------------------------
# confusion_matrix.py
def dump_predictions(path, pairs):
    """Predictions as mmengine's DumpResults writes them."""
    dump([
        dict(
            gt_label=torch.tensor([g]),
            pred_label=torch.tensor([p]),
            pred_score=torch.rand(3),
            num_classes=3) for g, p in pairs
    ], str(path))


def test_confusion_matrix(tmp_path):
    preds = tmp_path / 'preds.pkl'
    dump_predictions(preds, [(0, 0), (0, 1), (1, 1), (2, 2), (2, 2), (2, 0)])
    classes = tmp_path / 'classes.txt'
    classes.write_text('clapping\nsalute\njump up\n')
    out = tmp_path / 'cm.png'
    matrix = confusion_tool.main(
        [str(preds), str(out), '--classes',
         str(classes)])
    np.testing.assert_allclose(matrix,
                               [[.5, .5, 0], [0, 1, 0], [1 / 3, 0, 2 / 3]])
    assert_png(out)


def test_confusion_matrix_class_names_from_config(tmp_path, tiny_synth_ntu):
    config = tmp_path / 'tiny.py'
    config.write_text(TINY_STAGE2.format(base=STAGE2, data=tiny_synth_ntu))
    preds = tmp_path / 'preds.pkl'
    dump_predictions(preds, [(i, i) for i in range(32)])
    out = tmp_path / 'cm.svg'
    matrix = confusion_tool.main(
        [str(preds), str(out), '--config',
         str(config)])
    np.testing.assert_allclose(matrix, np.eye(32))
    assert out.read_text().startswith('<?xml')


def test_confusion_matrix_bad_inputs(tmp_path):
    classes = tmp_path / 'classes.txt'
    classes.write_text('a\nb\nc\n')
    out = str(tmp_path / 'cm.png')
    unsafe = tmp_path / 'unsafe.pkl'  # names a function: refused
    unsafe.write_bytes(pickle.dumps([os.getcwd]))
    no_labels = tmp_path / 'no_labels.pkl'
    dump([dict(pred_score=torch.rand(3))], str(no_labels))
    big = tmp_path / 'big.pkl'
    dump_predictions(big, [(0, 5)])
    cases = [
        ([str(tmp_path / 'missing.pkl'), out], 'does not exist'),
        ([str(unsafe), out], 'getcwd is not allowed in a predictions file'),
        ([str(no_labels), out], "expected a dict with 'gt_label'"),
        ([str(big), out], 'expected labels in [0, 3)'),
        ([str(big), str(tmp_path / 'cm.jpg')], "extension '.jpg'"),
    ]
    for args, expected in cases:
        with pytest.raises(ValueError, match=re.escape(expected)):
            confusion_tool.main(args + ['--classes', str(classes)])
    with pytest.raises(ValueError, match='give --config'):
        confusion_tool.main([str(big), out])


# ----------------------------------------------------------------------
# training_curves.py
def write_run(work_dir, epochs=2, iters=4, loss0=3.0):
    """A work_dir as mmengine writes it, resumed once (two timestamps)."""
    for part, (first, last) in enumerate([(1, 1), (1, epochs)]):
        folder = work_dir / f'2026010{part}_000000' / 'vis_data'
        folder.mkdir(parents=True)
        lines = []
        for epoch in range(first, last + 1):
            for it in range(1, iters + 1):
                step = (epoch - 1) * iters + it
                loss = loss0 / step + part  # the resumed run differs
                lines.append(
                    dict(
                        lr=0.1,
                        loss=loss,
                        loss_cls=loss,
                        top1_acc=step / 10,
                        time=1.0,
                        epoch=epoch,
                        iter=step,
                        step=step))
            lines.append({
                'acc/top1': epoch / 10,
                'acc/mean1': epoch / 10,
                'data_time': 0.1,
                'step': epoch
            })
        (folder / 'scalars.json').write_text('\n'.join(
            json.dumps(line) for line in lines) + '\n')


def test_training_curves(tmp_path):
    write_run(tmp_path / 'a')
    write_run(tmp_path / 'b', loss0=2.0)
    out = tmp_path / 'curves.png'
    runs = curves_tool.main([
        str(tmp_path / 'a'),
        str(tmp_path / 'b'), '--labels', 'ST-GCN', 'CTR-GCN', '--out',
        str(out)
    ])
    assert list(runs) == ['ST-GCN', 'CTR-GCN']
    panels = runs['ST-GCN']
    # loss_cls repeats loss and acc/mean1 repeats acc/top1: drawn once
    assert list(panels['training loss']) == ['loss']
    assert list(panels['training accuracy']) == ['top1_acc']
    assert list(panels['validation']) == ['acc/top1']
    steps, losses = panels['training loss']['loss']
    assert steps == list(range(1, 9))
    assert losses[0] == 3.0 + 1  # the resumed run's record replaces
    assert panels['validation']['acc/top1'] == ([1, 2], [0.1, 0.2])
    assert_png(out)
    only = curves_tool.main(
        [str(tmp_path / 'a'), '--keys', 'acc/top1', '--out',
         str(out)])
    assert list(only['a']) == ['validation']


def test_training_curves_bad_inputs(tmp_path):
    out = str(tmp_path / 'c.png')
    (tmp_path / 'empty').mkdir()
    bad = tmp_path / 'bad' / '20260101_000000' / 'vis_data'
    bad.mkdir(parents=True)
    (bad / 'scalars.json').write_text('{"loss": 1, "step": 1}\nnot json\n')
    write_run(tmp_path / 'a')
    cases = [
        ([str(tmp_path / 'missing')], 'no such work_dir'),
        ([str(tmp_path / 'empty')], 'found none'),
        ([str(tmp_path / 'bad')], 'line 2: expected a JSON object'),
        ([str(tmp_path / 'a'), '--labels', 'x', 'y'], 'one --labels entry'),
        ([str(tmp_path / 'a'), str(tmp_path / 'a')], 'distinct run labels'),
    ]
    for args, expected in cases:
        with pytest.raises(ValueError, match=re.escape(expected)):
            curves_tool.main(args + ['--out', out])


def test_tensorboard_backends_as_documented(tmp_path):
    """The docstring's inheriting config adds TensorBoard to the local
    backend; its --cfg-options line swaps the one backend."""
    snippet = re.search(r'::\n\n(    _base_.*?\]\)\n)', curves_tool.__doc__,
                        re.S).group(1)
    config = tmp_path / 'tb.py'
    config.write_text(
        textwrap.dedent(snippet).replace("'configs/",
                                         repr(REPO + '/configs/')[:-1]))
    cfg = Config.fromfile(str(config))
    assert cfg.model.cls_head.type == 'TextSupervisedHead'
    assert [b['type'] for b in cfg.visualizer.vis_backends
            ] == ['LocalVisBackend', 'TensorboardVisBackend']
    option = re.search(r'visualizer\.vis_backends\.0\.type=\w+',
                       curves_tool.__doc__).group(0)
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    cfg = Config.fromfile(STAGE2)
    cfg.merge_from_dict(
        parser.parse_args(['--cfg-options', option]).cfg_options)
    assert cfg.visualizer.vis_backends == [dict(type='TensorboardVisBackend')]


# ----------------------------------------------------------------------
# accuracy_vs_query_length.py
def test_accuracy_vs_query_length(tmp_path):
    tested = tmp_path / 'q4' / 'test' / '20260102_000000'
    tested.mkdir(parents=True)  # tools/test.py --work-dir q4/test
    (tested / '20260102_000000.json').write_text(
        json.dumps({
            'acc/top1': 0.25,
            'acc/top5': 0.5
        }))
    write_run(tmp_path / 'q16')  # validation only: its last acc/top1 (0.2)
    metrics = tmp_path / 'q64.json'
    metrics.write_text(json.dumps({'acc/top1': 0.4}, indent=2))
    out = tmp_path / 'fig4.png'
    points = accuracy_tool.main([
        '--runs', f'4={tmp_path / "q4"}', f'16={tmp_path / "q16"}',
        f'64={metrics}', '--out',
        str(out)
    ])
    assert points == {
        4: {
            'acc/top1': 0.25
        },
        16: {
            'acc/top1': 0.2
        },
        64: {
            'acc/top1': 0.4
        }
    }
    assert_png(out)


@pytest.mark.parametrize('runs, expected', [
    (['x=a'], 'expected LENGTH=PATH'),
    (['16'], 'expected LENGTH=PATH'),
    (['0=a'], 'at least 1'),
    (['16={q}', '16={q}'], 'query length 16 is given twice'),
    (['16={tmp}/missing'], 'no such work_dir or metrics file'),
    (['16={tmp}/empty'], "no test result and no validation record with "
     "'acc/top5'"),
])
def test_accuracy_vs_query_length_bad_runs(tmp_path, runs, expected):
    write_run(tmp_path / 'q')
    (tmp_path / 'empty' / '20260101_000000' / 'vis_data').mkdir(parents=True)
    (tmp_path / 'empty' / '20260101_000000' / 'vis_data' /
     'scalars.json').write_text('{"loss": 1, "iter": 1, "step": 1}\n')
    runs = [r.format(q=tmp_path / 'q', tmp=tmp_path) for r in runs]
    with pytest.raises(ValueError, match=re.escape(expected)):
        accuracy_tool.main([
            '--runs', *runs, '--metrics', 'acc/top5', '--out',
            str(tmp_path / 'f.png')
        ])


# ----------------------------------------------------------------------
# embeddings_tsne.py
@pytest.fixture(scope='module')
def stage2_files(tmp_path_factory, tiny_synth_ntu):
    """A tiny stage-2 config on the tiny data and a checkpoint of it."""
    from mmaction.registry import MODELS
    root = tmp_path_factory.mktemp('tsne')
    config = root / 'tiny_stage2.py'
    config.write_text(TINY_STAGE2.format(base=STAGE2, data=tiny_synth_ntu))
    torch.manual_seed(1)
    model = MODELS.build(Config.fromfile(str(config)).model)
    model.init_weights()
    checkpoint = root / 'tiny_stage2.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)
    return dict(root=root, config=str(config), checkpoint=str(checkpoint))


def test_embeddings_tsne(stage2_files, tmp_path):
    out = tmp_path / 'tsne.png'
    panels = tsne_tool.main([
        stage2_files['config'], stage2_files['checkpoint'], '--out',
        str(out), '--num-clips', '12', '--center', '--batch-size', '6'
    ])
    assert [title.split(' ')[0] for title, _ in panels] == ['before', 'after']
    for _, panel in panels:
        assert panel['skeleton'].shape == (12, 2)
        assert panel['text'].shape == (32, 2)  # one mean text per class
        assert list(panel['text_labels']) == list(range(32))
        assert 0 <= panel['top1'] <= 1
    assert_png(out)


def test_embeddings_tsne_texts_and_errors(stage2_files, tmp_path):
    cfg = tsne_tool.load_config(stage2_files['config'])
    model = tsne_tool.build_recognizer(cfg, stage2_files['checkpoint'])
    texts, labels = tsne_tool.text_points(model.cls_head, 'all')
    assert len(texts) == len(labels) == int(model.cls_head.text_mask.sum())
    # a checkpoint of another width does not match the config
    state = torch.load(stage2_files['checkpoint'], weights_only=True)
    state['state_dict']['cls_head.proj.weight'] = torch.zeros(384, 16)
    wrong = tmp_path / 'wrong.pth'
    torch.save(state, wrong)
    with pytest.raises(ValueError, match='does not match'):
        tsne_tool.build_recognizer(cfg, str(wrong))
    # a classifier head has no text space
    gcn = Config.fromfile(stage2_files['config'])
    gcn.model.cls_head = dict(type='GCNHead', num_classes=32, in_channels=8)
    with pytest.raises(ValueError, match='expected a SUGAR stage-2 config'):
        tsne_tool.build_recognizer(gcn, None)
    with pytest.raises(ValueError, match='checkpoint does not exist'):
        tsne_tool.main([
            stage2_files['config'], 'missing.pth', '--out',
            str(tmp_path / 't.png')
        ])
