# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""``tools/demo.py`` on a tiny random SUGAR stage-3 model (CPU, seconds)."""
import importlib.util
import json
import os.path as osp
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config

from mmaction_sugar.datasets.action_knowledge import ActionKnowledge

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'demo.py')

TINY_CONFIG = """
custom_imports = dict(imports=['mmaction_sugar'], allow_failed_imports=False)
model = dict(
    type='SugarRecognizer',
    backbone=dict(
        type='STGCN',
        graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial'),
        base_channels=8,
        num_stages=2,
        inflate_stages=[],
        down_stages=[]),
    neck=dict(
        type='TemporalQueryProjection',
        in_channels=8,  # STGCN's output: base_channels, never inflated
        out_channels=32,
        num_queries=4,
        num_segments=2,
        qformer=dict(
            hidden_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=64,
            cross_attention_frequency=1)),
    cls_head=dict(
        type='LLMHead',
        in_channels=32,
        knowledge='synth_ntu',
        matcher_encoder=None,
        max_new_tokens=6,
        llm=dict(
            type='LoRACausalLM',
            config=dict(
                model_type='llama',
                vocab_size=49152,
                hidden_size=32,
                intermediate_size=64,
                num_hidden_layers=2,
                num_attention_heads=4,
                num_key_value_heads=2),
            tokenizer_path='smollm2-135m-instruct',
            lora=dict(r=4, lora_alpha=8,
                      target_modules=['q_proj', 'v_proj']))))
test_pipeline = [
    dict(type='PreNormalize3D'),
    dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=16, num_clips=1,
         test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs')
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
"""

CLASSES = ActionKnowledge.load('synth_ntu').class_names
RESULT_KEYS = {
    'input', 'config', 'checkpoint', 'missing_keys', 'action', 'label',
    'num_candidates', 'topk', 'description', 'description_label',
    'description_action', 'description_match', 'action_sentence'
}


def load_tool():
    spec = importlib.util.spec_from_file_location('sugar_demo', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tool():
    return load_tool()


@pytest.fixture(autouse=True)
def in_repo(monkeypatch):
    """The bundled tokenizer's cache lives under the working directory."""
    monkeypatch.chdir(REPO)


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """The tiny config, a checkpoint of it and some inputs."""
    root = tmp_path_factory.mktemp('demo')
    config = root / 'tiny_stage3.py'
    config.write_text(TINY_CONFIG)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = MODELS.build(Config.fromfile(str(config)).model)
    checkpoint = root / 'tiny_stage3.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)
    rng = np.random.default_rng(0)
    one = root / 'one_person.npy'
    np.save(one, rng.normal(0, 0.5, (20, 25, 3)).astype(np.float32))
    two = root / 'two_persons.npy'
    np.save(two, rng.normal(0, 0.5, (2, 24, 25, 3)).astype(np.float32))
    return dict(
        root=root,
        config=str(config),
        checkpoint=str(checkpoint),
        one=str(one),
        two=str(two))


def run(tool, files, input_path, *options):
    return tool.main(
        [files['config'], files['checkpoint'],
         str(input_path), *options])


def exit_message(tool, capsys, files, input_path, *options):
    """Run the demo on a bad input: its exit status and its stderr."""
    with pytest.raises(SystemExit) as info:
        run(tool, files, input_path, *options)
    return info.value.code, capsys.readouterr().err


def test_single_person_npy(tool, files, capsys):
    result = run(tool, files, files['one'], '--topk', '3')
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f'action: {result["action"]}'
    assert result['action'] in CLASSES
    assert CLASSES[result['label']] == result['action']
    assert result['topk'][0]['name'] == result['action']
    assert len(result['topk']) == 3 and result['num_candidates'] == 32
    scores = [r['score'] for r in result['topk']]
    assert scores == sorted(scores, reverse=True)
    assert out[-2].startswith('description: ')
    assert isinstance(result['description'], str)
    assert result['description_action'] in CLASSES
    assert out[-1].startswith('description names: ')
    assert result['missing_keys'] == []


def test_two_persons_npy_json(tool, files, capsys, tmp_path):
    out_json = tmp_path / 'result.json'
    result = run(tool, files, files['two'], '--topk', '32', '--out-json',
                 str(out_json))
    saved = json.loads(out_json.read_text())
    assert set(saved) == RESULT_KEYS
    assert saved == json.loads(json.dumps(result))
    assert saved['input'] == dict(path=files['two'], format='npy')
    assert saved['action'] in CLASSES
    assert len(saved['topk']) == 32
    assert {'rank', 'name', 'label', 'score', 'prob'} == set(saved['topk'][0])
    assert sum(r['prob'] for r in saved['topk']) == pytest.approx(1, 1e-4)
    assert 'description:' in capsys.readouterr().out


def test_candidates_restrict_topk(tool, files, capsys):
    names = ['clapping', 'jump up', 'side kick']
    result = run(tool, files, files['one'], '--candidates', ','.join(names),
                 '--no-generate')
    assert result['num_candidates'] == 3
    assert sorted(r['name'] for r in result['topk']) == sorted(names)
    assert result['action'] in names
    assert result['description'] is None
    out = capsys.readouterr().out
    assert 'top-3 of 3 candidates' in out
    # the same from a file, on a PoseDataset pickle and a multi-stage config
    listing = files['root'] / 'candidates.txt'
    listing.write_text('# open vocabulary\nhand waving\nsalute\n')
    rng = np.random.default_rng(1)
    ann = [
        dict(
            frame_dir=f's{i}',
            label=i,
            total_frames=12,
            keypoint=rng.normal(0, 0.5, (1, 12, 25, 3)).astype(np.float32))
        for i in range(2)
    ]
    pkl = files['root'] / 'ann.pkl'
    with open(pkl, 'wb') as f:
        pickle.dump(dict(split=dict(), annotations=ann), f)
    multi = files['root'] / 'multi.py'
    multi.write_text("stages = [dict(name='stage2', config='tiny_stage3.py'),"
                     " dict(name='stage3', config='tiny_stage3.py')]\n")
    result = tool.main([
        str(multi), files['checkpoint'],
        str(pkl), '--sample', '1', '--candidates',
        str(listing), '--topk', '5', '--no-generate'
    ])
    assert {r['name'] for r in result['topk']} == {'hand waving', 'salute'}
    assert result['input']['frame_dir'] == 's1'
    err = capsys.readouterr().err
    assert 'only use files you trust' in err
    assert "last stage 'stage3'" in err


def test_raw_skeleton_and_stage2_checkpoint(tool, files, capsys):
    rng = np.random.default_rng(2)
    lines = ['6']
    for _ in range(6):
        lines += ['1', '72057594037930000 0 1 1 1 1 0 0.1 -0.2 2', '25']
        lines += [
            f'{x:.4f} {y:.4f} {z:.4f} 0.5 0.4 960.5 540.2 0.1 0.2 0.3 0.9 2'
            for x, y, z in rng.normal(0, 0.5, (25, 3))
        ]
    skeleton = files['root'] / 'S001C001P001R001A010.skeleton'
    skeleton.write_text('\n'.join(lines) + '\n')
    # a stage-2 checkpoint: the encoder only; the rest is reported missing
    state = torch.load(files['checkpoint'], weights_only=True)['state_dict']
    stage2 = files['root'] / 'stage2.pth'
    torch.save(
        dict(state_dict={
            k: v
            for k, v in state.items() if k.startswith('backbone.')
        }), stage2)
    result = tool.main(
        [files['config'],
         str(stage2),
         str(skeleton), '--no-generate'])
    assert result['input'] == dict(path=str(skeleton), format='skeleton')
    assert result['action'] in CLASSES
    assert any(k.startswith('neck.') for k in result['missing_keys'])
    assert not any(k.startswith('backbone.') for k in result['missing_keys'])
    assert 'lacks' in capsys.readouterr().err


def test_candidate_argument(tool, tmp_path):
    read = tool.read_candidate_arg
    assert read('nod head/bow') == ['nod head/bow']  # a name, not a path
    assert read(' clapping, jump up,') == ['clapping', 'jump up']
    listing = tmp_path / 'names.txt'
    listing.write_text('salute\n\n# comment\nside kick\n')
    assert read(str(listing)) == ['salute', 'side kick']
    with pytest.raises(ValueError, match='does not exist'):
        read(str(tmp_path / 'missing.txt'))
    with pytest.raises(ValueError, match='names no class'):
        read(' , ')


def _bad_inputs(root):
    """(file, options, expected fragment of the message) per bad input."""
    np.save(root / 'wrong_shape.npy', np.zeros((10, 17, 2), np.float32))
    nan = np.ones((10, 25, 3), np.float32)
    nan[3, 4, 1] = np.nan
    np.save(root / 'nan.npy', nan)
    np.save(root / 'no_frames.npy', np.zeros((1, 0, 25, 3), np.float32))
    np.save(root / 'three.npy', np.ones((3, 5, 25, 3), np.float32))
    (root / 'clip.mp4').write_bytes(b'\0')
    (root / 'bad.skeleton').write_text('2\n1\n')
    with open(root / 'one.pkl', 'wb') as f:
        pickle.dump(
            dict(annotations=[
                dict(
                    keypoint=np.ones((1, 5, 25, 3), np.float32),
                    total_frames=5)
            ]), f)
    from mmaction_sugar.datasets import save_annotations_npz
    save_annotations_npz(str(root / 'one.npz'), [
        dict(frame_dir='a', label=0, total_frames=5,
             keypoint=np.ones((1, 5, 25, 3), np.float32))])
    (root / 'not_annotations.npz').write_bytes(b'PK\x03\x04 cut short')
    return [
        ('missing.npy', [], 'does not exist'),
        ('one.npz', ['--sample', '1'], '--sample 1 is out of range'),
        ('not_annotations.npz', [], 'not a readable .npz'),
        ('wrong_shape.npy', [], 'expected shape (M, T, 25, 3)'),
        ('nan.npy', [], 'expected finite coordinates'),
        ('no_frames.npy', [], 'expected at least one frame'),
        ('three.npy', [], 'expected 1 to 2 persons'),
        ('clip.mp4', [], "extension '.mp4'"),
        ('bad.skeleton', [], 'line 3'),
        ('one.pkl', ['--sample', '3'], '--sample 3 is out of range'),
    ]


def test_bad_inputs(tool, files, capsys):
    for name, options, expected in _bad_inputs(files['root']):
        path = files['root'] / name
        code, err = exit_message(tool, capsys, files, path, *options)
        assert code == 2, (name, code, err)
        message = err.strip().splitlines()[-1]  # after progress lines
        assert message.startswith('error: '), err
        assert str(path) in message and expected in message, message
        assert 'Traceback' not in err


def test_unknown_candidate(tool, files, capsys):
    code, message = exit_message(tool, capsys, files, files['one'],
                                 '--candidates', 'clapping,jumpin up')
    assert code == 2
    lines = message.strip().splitlines()
    assert lines[-1].startswith('error: --candidates')
    assert "'jumpin up'" in lines[-1] and "'jump up'" in lines[-1]


def test_command_line_bad_input(files, tmp_path):
    path = tmp_path / 'nan.npy'
    np.save(path, np.full((4, 25, 3), np.inf, np.float32))
    cmd = [sys.executable, TOOL, files['config'], files['checkpoint']]
    proc = subprocess.run(
        cmd + [str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120)
    assert proc.returncode == 2
    assert 'Traceback' not in proc.stderr
    assert proc.stderr.strip() == (
        f'error: {path}: expected finite coordinates, got 300 NaN/inf '
        'values (first: person 0, frame 0, joint 0, x=inf)')


def test_llmar_model_prints_its_action_sentence(tool, tmp_path, capsys):
    # the same tiny LLM over LLM-AR's frozen tokenizer instead of the TQP
    config = tmp_path / 'tiny_llmar.py'
    config.write_text(
        TINY_CONFIG.replace("type='SugarRecognizer'", "type='LLMARRecognizer'")
        .replace("type='LLMHead',\n        in_channels=32,",
                 "type='ActionSentenceHead',\n        num_codes=16,"))
    cfg = Config.fromfile(str(config))
    cfg.model.backbone = dict(
        type='ActionVQVAE',
        width=16,
        latent_dim=8,
        codebook=dict(num_codes=16))
    cfg.model.pop('neck')
    cfg.dump(str(config))
    model = MODELS.build(cfg.model)
    checkpoint = tmp_path / 'tiny_llmar.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)
    clip = tmp_path / 'clip.npy'
    np.save(clip, np.random.default_rng(1).normal(0, 0.5, (20, 25, 3)))
    result = tool.main(
        [str(config), str(checkpoint), str(clip), '--no-generate'])
    out = capsys.readouterr().out.splitlines()
    assert result['missing_keys'] == []
    # 16 frames, 4x temporal downsampling: 4 action words
    assert re.fullmatch(r'(<a\d+>){4}', result['action_sentence'])
    assert out[1] == f'action sentence: {result["action_sentence"]}'
    assert result['action'] in CLASSES


def test_progress_and_out_gif(tool, files, capsys, tmp_path):
    gif = tmp_path / 'clip.gif'
    result = run(tool, files, files['one'], '--topk', '3', '--out-gif',
                 str(gif))
    err = capsys.readouterr().err
    # one line per slow step, each with its time
    assert re.search(
        r'^\[demo\] loading the LLM \(.+\) and building SugarRecognizer '
        r'\.\.\. done \(\d+\.\d s\)$', err, re.M), err
    for step in ('importing torch', f'reading {files["checkpoint"]}',
                 'recognising and describing', f'drawing {gif}'):
        assert re.search(rf'^\[demo\] {re.escape(step)}.* \.\.\. done '
                         r'\(\d+\.\d s\)$', err, re.M), (step, err)
    from PIL import Image
    with Image.open(gif) as image:  # every frame of the 20-frame input
        assert image.format == 'GIF' and image.n_frames == 20
    assert result['action'] in CLASSES


def test_step_lines(tool, capsys):
    with tool.step('loading'):
        pass
    with pytest.raises(RuntimeError):
        with tool.step('failing'):
            raise RuntimeError
    with tool.step('interrupted'):
        tool.log('a warning')
    lines = capsys.readouterr().err.splitlines()
    assert re.fullmatch(r'\[demo\] loading \.\.\. done \(\d\.\d s\)',
                        lines[0])
    assert lines[1] == '[demo] failing ... failed'
    assert lines[2:4] == ['[demo] interrupted ...', '[demo] a warning']
    assert re.fullmatch(r'\[demo\] interrupted \.\.\. done \(\d\.\d s\)',
                        lines[4])


def _bad_setups(root, files):
    """(config, checkpoint, options, expected) per wrong setup."""
    state = torch.load(files['checkpoint'], weights_only=True)
    key = next(k for k in state['state_dict'] if k.startswith('neck.'))
    state['state_dict'][key] = torch.zeros(3, 3)
    torch.save(state, root / 'other_width.pth')
    torch.save({'state_dict': {'head.fc.weight': torch.zeros(2)}},
               root / 'foreign.pth')
    (root / 'text.pth').write_text('not a checkpoint')
    config, ckpt = files['config'], files['checkpoint']
    return [
        (config, str(root / 'other_width.pth'), [],
         'does not match the config: 1 weight(s) differ in shape, e.g. '
         f'{key}: (3, 3) in the checkpoint'),
        (config, str(root / 'foreign.pth'), [],
         'does not match the config: none of its 1 weight(s) (e.g. '
         'head.fc.weight)'),
        (config, str(root / 'text.pth'), [], 'expected an mmengine '
         'checkpoint'),
        (config, str(root / 'missing.pth'), [], 'checkpoint file does not '
         'exist'),
        (str(root / 'missing.py'), ckpt, [], 'config file does not exist'),
        (config, ckpt, ['--out-gif', str(root / 'clip.png')],
         'expected a .gif file for --out-gif'),
        (config, ckpt, ['--out-gif', str(root / 'no' / 'clip.gif')],
         'the folder of --out-gif does not exist'),
    ]


def test_bad_checkpoints_and_options(tool, files, capsys):
    for config, checkpoint, options, expected in _bad_setups(
            files['root'], files):
        with pytest.raises(SystemExit) as info:
            tool.main([config, checkpoint, files['one'], *options])
        err = capsys.readouterr().err
        assert info.value.code == 2, (expected, err)
        message = err.strip().splitlines()[-1]
        assert message.startswith('error: ') and expected in message, err
        assert 'Traceback' not in err


def test_truncated_skeleton(tool, files, capsys):
    rng = np.random.default_rng(3)
    lines = ['4']
    for _ in range(4):
        lines += ['1', '72057594037930000 0 1 1 1 1 0 0.1 -0.2 2', '25']
        lines += [
            f'{x:.4f} {y:.4f} {z:.4f} 0.5 0.4 960.5 540.2 0.1 0.2 0.3 0.9 2'
            for x, y, z in rng.normal(0, 0.5, (25, 3))
        ]
    path = files['root'] / 'S001C001P001R001A001.skeleton'
    path.write_text('\n'.join(lines[:70]) + '\n')  # cut in frame 3
    code, err = exit_message(tool, capsys, files, path)
    assert code == 2
    assert err.strip() == (f'error: {path}: line 71: expected 12 joint '
                           'values for joint 11 of body 1 in frame 3, got '
                           'end of file')


def test_pickle_free_annotations(tool, files, capsys):
    from mmaction_sugar.datasets import save_annotations_npz
    rng = np.random.default_rng(1)
    clip = rng.normal(0, 0.5, (2, 12, 25, 3)).astype(np.float32)
    path = save_annotations_npz(str(files['root'] / 'clips.npz'), [
        dict(frame_dir='x', label=3, total_frames=12, keypoint=clip)])
    keypoint, info = tool.load_input(path, 0)
    np.testing.assert_array_equal(keypoint, clip)
    assert info['format'] == 'npz' and info['label'] == 3
    assert 'can run code' not in capsys.readouterr().err
