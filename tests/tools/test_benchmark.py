# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""tools/benchmark.py end to end on tiny data and tiny models: a baseline
and LLM-AR trained for a few steps by the stock runner, measured, the
speed targets, the reports; and its argument errors."""
import importlib.util
import json
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from test_llmar_end_to_end import STAGE1, STAGE2, TINY_STAGE1, TINY_STAGE2
from test_train_test import REPO, STGCN, TINY_OVERRIDES, tiny_config

pytestmark = pytest.mark.usefixtures('one_thread')

ZSL = """
_base_ = {base!r}
unseen = [5, 10, 14, 25, 31]
seen = [label for label in range(32) if label not in unseen]
model = dict(cls_head=dict(train_classes=seen))
test_evaluator = [dict(type='ZeroShotAccMetric', unseen_classes=unseen)]
"""


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'benchmark_tool', osp.join(REPO, 'tools', 'benchmark.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tool():
    return load_tool()


def write(path, text):
    path.write_text(text)
    return str(path)


def tiny_llmar(tmp_path, data):
    """A two-stage tiny LLM-AR config and its zero-shot twin."""
    data1 = tiny_config(tmp_path, STAGE1, data, 1, 'data1.py')
    stage1 = write(tmp_path / 'stage1.py', TINY_STAGE1.format(base=data1))
    data2 = write(
        tmp_path / 'data2.py',
        TINY_OVERRIDES.format(base=STAGE2, data=data, epochs=1).replace(
            'val_dataloader = dict(**loader, dataset=data)\n', ''))
    stage2 = write(tmp_path / 'stage2.py', TINY_STAGE2.format(base=data2))
    zsl2 = write(tmp_path / 'stage2_zsl.py', ZSL.format(base=stage2))
    multi = 'stages = [dict(name="stage1", config={!r}),\n' \
        '          dict(name="stage2", config={!r}, encoder_from="stage1")]\n'
    return (write(tmp_path / 'llmar.py', multi.format(stage1, stage2)),
            write(tmp_path / 'llmar_zsl.py', multi.format(stage1, zsl2)),
            zsl2)


def save_untrained(config, path):
    """An mmengine-style checkpoint of the config's model, untrained."""
    cfg = Config.fromfile(config)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return str(path)


def test_end_to_end_tiny(tmp_path, tiny_synth_ntu, tool, capsys):
    stgcn = tiny_config(tmp_path, STGCN, tiny_synth_ntu, 1, 'stgcn.py')
    llmar, _, _ = tiny_llmar(tmp_path, tiny_synth_ntu)
    # a given checkpoint skips training: the autocast twin of the baseline
    # is only tested (untrained here)
    bf16_ckpt = save_untrained(stgcn, tmp_path / 'bf16.pth')
    out = tmp_path / 'report'
    report = tool.main([
        '--configs', f'stgcn={stgcn}', f'llmar={llmar}', '--no-zero-shot',
        '--checkpoint', f'stgcn-bf16={bf16_ckpt}', '--train-steps', '2',
        '--test-per-class', '1', '--set', 'reps=1', 'scaling_batch=2',
        'scaling_reps=1', 'compare_clips=4', 'amp_rounds=2', '--work-dir',
        str(tmp_path / 'work'), '--out-dir',
        str(out), '--device', 'cpu'
    ])
    printed = capsys.readouterr().out
    assert 'train-llmar-stage2: done' in printed  # progress, one per phase
    assert 'speed targets (issue 6):' in printed

    saved = json.loads((out / 'benchmark.json').read_text())
    assert saved['methods'] == json.loads(json.dumps(report['methods']))
    meta = saved['meta']
    assert meta['preset'] == 'quick' and '--train-steps 2' in meta['command']
    assert meta['machine']['cores'] >= 1 and meta['machine']['cpu']
    assert {'torch', 'mmengine', 'mmaction2', 'transformers',
            'peft'} <= set(meta['packages'])
    assert meta['wall_s'] > 0 and meta['estimated_s'] > 0
    assert not meta['failures']

    rows = {r['name']: r for r in saved['methods']}
    assert set(rows) == {'stgcn', 'llmar'}
    for row in rows.values():
        a, c = row['accuracy'], row['cost']
        assert a['test_clips'] == 32  # one per class
        for key in ('top1', 'top5', 'mean_class'):
            assert 0 <= a[key] <= 100
        assert a['top1'] <= a['top5']
        assert a['zsl_unseen_top1'] is None  # --no-zero-shot
        assert 0 < c['params_trainable'] <= c['params_total']
        assert 0 < c['weights_mb'] <= c['checkpoint_mb']
        for key in ('train_seconds', 'train_clips_per_s', 'train_peak_rss_mb',
                    'test_peak_rss_mb', 'latency_bs1_ms', 'latency_bs16_ms',
                    'clips_per_s_bs16'):
            assert c[key] > 0, key
        assert c['test_gpu_mb'] is None  # CPU run
    assert rows['stgcn']['scaling'] is None
    assert rows['stgcn']['published']['top1'] == 88.11

    llm = rows['llmar']
    assert llm['is_llm'] and llm['recognizer'] == 'LLMARRecognizer'
    # the frozen LLM counts in the total, not in the trainable parameters
    assert llm['cost']['params_trainable'] < llm['cost']['params_total']
    train = saved['runs']['llmar']['train']
    assert [s['stage'] for s in train['stages']] == ['stage1', 'stage2']
    assert all(s['steps'] == 4 for s in train['stages'])  # 32 clips of 8
    s = llm['scaling']
    assert set(s['ms_per_clip_by_T']) == {'50', '100', '300'}
    assert set(s['ms_per_clip_by_candidates']) == {'10', '60', '120'}
    assert all(v > 0 for v in s['ms_per_clip_by_T'].values())
    assert all(v > 0 for v in s['ms_per_clip_by_candidates'].values())
    # LLM-AR's action sentence grows with the clip: T / 4 codes
    assert s['llm_tokens_by_T'] == {'50': 13, '100': 25, '300': 75}
    trie = s['trie_tokens_by_candidates']
    assert trie['10'] < trie['60'] < trie['120']
    compare = s['scoring_vs_generation']
    assert compare['speedup'] > 0 and compare['samples'] == 4
    assert 0 <= compare['score_top1'] <= 100

    targets = {t['name']: t for t in saved['targets']}
    assert len(targets) == 5
    step = targets['SUGAR stage-2 training step / ST-GCN + GCNHead step']
    assert step['passed'] is None  # no sugar-stage2 config here
    amp = targets['bf16 autocast / fp32 training speed (ST-GCN)']
    assert amp['measured'] > 0 and amp['passed'] in (True, False)
    assert 'difference' in amp['detail']
    t_ratio = targets['LLM-side latency T=300 / T=100 (llmar)']
    assert t_ratio['measured'] > 0 and t_ratio['target'] == '<= 1.2'
    assert targets['SUGAR inference at batch 16 (clips/s)']['passed'] is None

    md = (out / 'benchmark.md').read_text()
    for text in ('## Accuracy', '## Cost', '## LLM-side scaling',
                 '## Speed targets', 'published', meta['machine']['cpu']):
        assert text in md
    for name in ('accuracy_vs_cost.png', 'latency_vs_T.png',
                 'latency_vs_candidates.png'):
        png = out / name
        assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'

    # the README block, from the JSON alone
    tool.main(['--table-from', str(out / 'benchmark.json')])
    table = capsys.readouterr().out
    assert 'measured here: top-1' in table and 'published: top-1' in table
    assert '| ST-GCN |' in table and '88.11' in table


def test_zero_shot_measurement(tmp_path, tiny_synth_ntu, tool):
    # what the benchmark runs for a *-zsl run, here in this process
    _, _, zsl_stage = tiny_llmar(tmp_path, tiny_synth_ntu)
    checkpoint = save_untrained(zsl_stage, tmp_path / 'zsl.pth')
    worker = tool.analysis('benchmark_model')
    result = worker.main([
        zsl_stage, checkpoint, '--unseen-only', '--no-cost', '--per-class',
        '1', '--out',
        str(tmp_path / 'zsl.json'), '--work-dir',
        str(tmp_path / 'zsl')
    ])
    assert result['test']['samples'] == 5  # one clip per unseen class
    assert 'latency' not in result and result['peak_rss_mb'] > 0
    method = dict(name='llmar', label='LLM-AR', config=zsl_stage,
                  zsl_config=zsl_stage)
    row = tool.analysis('benchmark_report').method_row(
        method, dict(), dict(eval=result))
    assert 0 <= row['accuracy']['zsl_unseen_top1'] <= 100
    assert row['accuracy']['zsl_chance_top1'] == 20
    assert row['accuracy']['zsl_test_clips'] == 5
    assert row['accuracy']['top1'] is None


@pytest.mark.parametrize(
    'argv, message',
    [(['--configs', 'nosuchnet'], "unknown config 'nosuchnet'"),
     (['--configs', 'x=missing.py'], "config file 'missing.py' does not"),
     (['--configs', 'stgcn', 'stgcn'], "names ['stgcn'] more than once"),
     (['--configs', 'stgcn', '--checkpoint', 'stgcn'], 'expected RUN=PATH'),
     (['--configs', 'stgcn', '--checkpoint', 'sugar=x.pth'],
      "'sugar' is not a run of this benchmark"),
     (['--configs', 'stgcn', '--checkpoint', 'stgcn=missing.pth'],
      "file 'missing.pth' does not exist"),
     (['--zsl-configs', 'nosuchnet=x.py'], 'expected NAME=PATH with NAME'),
     (['--train-steps', '-1'], '--train-steps must be >= 0'),
     (['--set', 'reps=0'], 'expected a positive integer'),
     (['--set', 'train_steps=3'], "unknown setting 'train_steps'"),
     (['--table-from', 'missing.json'], "'missing.json' does not exist")])
def test_bad_arguments_are_named(tool, capsys, argv, message):
    with pytest.raises(SystemExit) as err:
        tool.parse_args(argv)
    assert err.value.code == 2
    assert message in capsys.readouterr().err


def test_plan_and_budget(tool, tiny_synth_ntu, tmp_path):
    args = tool.parse_args(['--no-targets'])
    ids = [r.id for r in args.runs]
    assert ids == [
        'stgcn', 'stgcnpp', '2s-agcn', 'sugar-stage2', 'sugar', 'llmar',
        'sugar-stage2-zsl', 'sugar-zsl', 'llmar-zsl'
    ]
    # the autocast twin of the baseline trains apart from it, in bf16
    bench = tool.Benchmark(tool.parse_args(['--device', 'cpu']))
    runs = {r.id: r for r in bench.args.runs}
    assert runs['stgcn-bf16'].options == {
        'optim_wrapper.type': 'CPUAmpOptimWrapper'
    }
    stgcn = Config.fromfile(STGCN)
    assert bench.stage_key(runs['stgcn'], stgcn) != bench.stage_key(
        runs['stgcn-bf16'], stgcn)
    # the quick budget: a class-balanced subset, one epoch, the schedule
    # compressed into it
    args = tool.parse_args(
        ['--configs', f'stgcn={STGCN}', '--train-steps', '2'])
    bench = tool.Benchmark(args)
    config = tiny_config(tmp_path, STGCN, tiny_synth_ntu, 1, 'stgcn.py')
    options, steps = bench.budget(Config.fromfile(config))
    picks = options['train_dataloader.dataset.dataset.indices']
    assert len(picks) == 32 and steps == 4  # 1 clip per class, batch 8
    assert options['train_cfg.max_epochs'] == 1
    assert options['param_scheduler.0.T_max'] == 1
    assert tool.cli_value([0, 5]) == '[0,5]'  # as DictAction parses it


def test_refactored_analysis_scripts_keep_their_clis(tmp_path, tiny_synth_ntu,
                                                     tool, capsys):
    _, _, stage2 = tiny_llmar(tmp_path, tiny_synth_ntu)
    checkpoint = save_untrained(stage2, tmp_path / 's2.pth')
    llm = tool.analysis('benchmark_llm_inference').main([
        stage2, checkpoint, '--num-clips', '2', '--batch-size', '2',
        '--repeats', '1', '--max-new-tokens', '2', '--candidates', '10', '60'
    ])
    assert llm['compare']['clips'] == 2
    assert llm['clip_length']['llm_tokens_T300'] == 75
    assert set(llm['candidates']['ms_per_clip']) == {'10', '60'}
    stgcn = tiny_config(tmp_path, STGCN, tiny_synth_ntu, 1, 'stgcn.py')
    out = tmp_path / 'amp.json'
    amp = tool.analysis('benchmark_cpu_amp').main(
        ['--config', stgcn, '--batches', '1', '--rounds', '2', '--out',
         str(out)])
    assert amp['wrapper'] == 'CPUAmpOptimWrapper' and amp['steps'] == 1
    assert json.loads(out.read_text())['speedup'] == amp['speedup'] > 0
    printed = capsys.readouterr().out
    assert '| candidate scoring, exact |' in printed
    assert '| candidate scoring, topk |' in printed and 'speed-up' in printed
