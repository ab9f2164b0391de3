# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Turn a benchmark's measurements into its report: one row per method,
the speed targets of issue 6 with PASS/FAIL, the Markdown report, the
README results block (measured here beside published) and the plots.

Used by ``tools/benchmark.py``, which also prints the README block from a
saved ``benchmark.json`` (``--table-from``). Every function here reads
plain dicts (the JSON), so a report can be rebuilt from the file alone.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional

# Published top-1 (%) on NTU RGB+D 60 X-Sub, 3D joints (the MMAction2 model
# zoo; the SUGAR paper's comparison table); zero-shot: trained on NTU60,
# tested on 10 unseen NTU120 classes. Not reproduced here.
PUBLISHED = {
    'stgcn': dict(top1=88.11, source='MMAction2 model zoo'),
    'stgcnpp': dict(top1=89.14, source='MMAction2 model zoo'),
    '2s-agcn': dict(top1=88.26, source='MMAction2 model zoo'),
    'sugar': dict(top1=95.2, zsl_top1=65.3, source='Ye et al., AAAI 2026'),
    'llmar': dict(
        top1=95.0, zsl_top1=59.7, source='as reported by Ye et al., 2026'),
}

# The speed targets of issue 6.
STEP_RATIO_MAX = 1.10
SCORING_SPEEDUP_MIN = 10.0
T_RATIO_MAX = 1.2
AMP_SPEEDUP_MIN = 1.7
AMP_TOP1_TOLERANCE = 1.0  # points
EQUAL_TOP1_TOLERANCE = 1.0  # points scoring may trail generation by
SUGAR_BS16_MIN = 2.0  # clips/s


def _pct(value: Optional[float]) -> Optional[float]:
    return None if value is None else 100. * value


def method_row(method: Dict, main: Dict, zsl: Optional[Dict]) -> Dict:
    """One method's accuracy (in percent), cost and scaling.

    Args:
        method (dict): ``name``, ``label``, ``config``, ``zsl_config``.
        main (dict): Its main run: ``train``, ``eval`` (the output of
            ``benchmark_model.py``) and ``error``, each when present.
        zsl (dict, optional): Its zero-shot run, the same way.

    Returns:
        dict: ``accuracy``, ``cost``, ``scaling`` (LLM methods, else
        None), ``published`` and the method's fields.
    """
    ev, train = main.get('eval', {}), main.get('train', {})
    metrics = ev.get('metrics', {})
    latency = ev.get('latency', {})
    accuracy = dict(
        top1=_pct(metrics.get('acc/top1')),
        top5=_pct(metrics.get('acc/top5')),
        mean_class=_pct(metrics.get('acc/mean1')),
        test_clips=ev.get('test', {}).get('samples'),
        zsl_unseen_top1=None,
        zsl_chance_top1=None,
        zsl_test_clips=None)
    if zsl and 'eval' in zsl:
        zm = zsl['eval']['metrics']
        accuracy.update(
            zsl_unseen_top1=_pct(zm.get('zsl/unseen_top1')),
            zsl_chance_top1=_pct(zm.get('zsl/chance_top1')),
            zsl_test_clips=zsl['eval']['test']['samples'])
    cost = dict(
        params_total=ev.get('params_total'),
        params_trainable=ev.get('params_trainable'),
        checkpoint_mb=ev.get('checkpoint_mb'),
        weights_mb=ev.get('weights_mb'),
        train_seconds=train.get('seconds'),
        train_clips_per_s=train.get('clips_per_s'),
        train_peak_rss_mb=train.get('peak_rss_mb'),
        train_gpu_mb=train.get('gpu_mb'),
        test_peak_rss_mb=ev.get('peak_rss_mb'),
        test_gpu_mb=ev.get('gpu_peak_mb'),
        latency_bs1_ms=latency.get('bs1', {}).get('ms_per_clip'),
        latency_bs16_ms=latency.get('bs16', {}).get('ms_per_clip'),
        clips_per_s_bs16=latency.get('bs16', {}).get('clips_per_s'))
    scaling = None
    llm = ev.get('llm')
    if llm:
        t, cand = llm['clip_length'], llm['candidates']
        frames = sorted(int(k.rsplit('T', 1)[1]) for k in t
                        if k.startswith('ms_per_clip_T'))
        scaling = dict(
            batch=llm['scaling_batch'],
            ms_per_clip_by_T={str(f): t[f'ms_per_clip_T{f}']
                              for f in frames},
            llm_tokens_by_T={str(f): t[f'llm_tokens_T{f}'] for f in frames},
            ratio_T300_T100=t.get('ratio_T300_T100'),
            ms_per_clip_by_candidates=cand['ms_per_clip'],
            trie_tokens_by_candidates=cand['trie_nodes'],
            scoring_vs_generation=llm.get('compare'))
    return dict(
        method,
        recognizer=ev.get('recognizer'),
        is_llm=ev.get('is_llm'),
        checkpoint=train.get('checkpoint'),
        error=main.get('error'),
        accuracy=accuracy,
        cost=cost,
        scaling=scaling,
        published=PUBLISHED.get(method['name']))


def target(name: str, measured: Optional[float], goal: str,
           passed: Optional[bool], detail: str = '') -> Dict:
    return dict(
        name=name, measured=measured, target=goal, passed=passed,
        detail=detail)


def collect_targets(rows: List[Dict], runs: Dict, ratios: Dict,
                    enabled: bool = True) -> List[Dict]:
    """The speed targets of issue 6 from one benchmark's measurements."""
    if not enabled:
        return []
    out = []
    step = ratios.get('train_step', {})
    if 'ratio' in step:
        r = step['ratio']
        out.append(target(
            'SUGAR stage-2 training step / ST-GCN + GCNHead step', r,
            f'<= {STEP_RATIO_MAX:.2f}', r <= STEP_RATIO_MAX,
            f'median of {len(step["models"][0]["times_s"])} steps each, '
            f'{step["text_encoder_calls"]} text-encoder calls'))
    else:
        out.append(target(
            'SUGAR stage-2 training step / ST-GCN + GCNHead step', None,
            f'<= {STEP_RATIO_MAX:.2f}', None,
            step.get('error', 'needs the stgcn and sugar-stage2 configs')))
    for row in rows:
        compare = (row['scaling'] or {}).get('scoring_vs_generation')
        if compare:
            lag = compare['generate_top1'] - compare['score_top1']
            out.append(target(
                f'candidate scoring vs free generation speed ({row["name"]})',
                compare['speedup'],
                f'>= {SCORING_SPEEDUP_MIN:g}x at equal top-1',
                compare['speedup'] >= SCORING_SPEEDUP_MIN
                and lag <= EQUAL_TOP1_TOLERANCE,
                f'top-1 {compare["score_top1"]:.2f} (scoring) vs '
                f'{compare["generate_top1"]:.2f} (generation) on '
                f'{compare["samples"]} clips'))
        ratio = (row['scaling'] or {}).get('ratio_T300_T100')
        if ratio is not None:
            tokens = row['scaling']['llm_tokens_by_T']
            out.append(target(
                f'LLM-side latency T=300 / T=100 ({row["name"]})', ratio,
                f'<= {T_RATIO_MAX:g}', ratio <= T_RATIO_MAX,
                f'{tokens.get("100")} -> {tokens.get("300")} LLM input '
                'tokens per clip'))
    amp = ratios.get('autocast', {})
    fp32 = next((r for r in rows if r['name'] == 'stgcn'), None)
    bf16 = runs.get('stgcn-bf16', {}).get('eval', {}).get('metrics', {})
    name = 'bf16 autocast / fp32 training speed (ST-GCN)'
    if 'speedup' in amp and fp32 and 'acc/top1' in bf16:
        delta = 100 * bf16['acc/top1'] - (fp32['accuracy']['top1'] or 0)
        out.append(target(
            name, amp['speedup'],
            f'>= {AMP_SPEEDUP_MIN:g}x, top-1 within '
            f'{AMP_TOP1_TOLERANCE:g} point',
            amp['speedup'] >= AMP_SPEEDUP_MIN
            and abs(delta) <= AMP_TOP1_TOLERANCE,
            f'{amp["wrapper"]}: {amp["amp_s_per_step"]:.3f} vs '
            f'{amp["fp32_s_per_step"]:.3f} s/step; top-1 '
            f'{100 * bf16["acc/top1"]:.2f} vs {fp32["accuracy"]["top1"]:.2f}'
            f' (fp32), difference {delta:+.2f}'))
    else:
        out.append(target(
            name, amp.get('speedup'), f'>= {AMP_SPEEDUP_MIN:g}x', None,
            amp.get('error') or runs.get('stgcn-bf16', {}).get('error')
            or 'needs the stgcn config'))
    sugar = next((r for r in rows if r['recognizer'] == 'SugarRecognizer'),
                 None)
    speed = sugar and sugar['cost']['clips_per_s_bs16']
    out.append(target(
        'SUGAR inference at batch 16 (clips/s)', speed,
        f'>= {SUGAR_BS16_MIN:g}',
        None if speed is None else speed >= SUGAR_BS16_MIN,
        f'{sugar["name"]}, the whole model' if speed is not None else
        'needs a SUGAR stage-3 config'))
    return out


# ----------------------------------------------------------------------
# writing
def fmt(value, spec: str = '.2f', scale: float = 1.0) -> str:
    if value is None:
        return '-'
    return format(value * scale if scale != 1 else value, spec)


def params_text(n: Optional[int]) -> str:
    if n is None:
        return '-'
    return f'{n / 1e6:.2f}M' if n >= 1e4 else f'{n / 1e3:.1f}K'


def verdict(passed: Optional[bool]) -> str:
    return 'not measured' if passed is None else (
        'PASS' if passed else 'FAIL')


def targets_text(targets: List[Dict]) -> str:
    lines = ['speed targets (issue 6):']
    for t in targets:
        lines.append(f'  {verdict(t["passed"]):12s} {t["name"]}: '
                     f'{fmt(t["measured"], ".3g")} (target {t["target"]})'
                     f'{"; " + t["detail"] if t["detail"] else ""}')
    return '\n'.join(lines)


def header(report: Dict) -> List[str]:
    meta = report['meta']
    m, p = meta['machine'], meta['packages']
    gpu = m['gpu'] or 'none'
    return [
        f'- **Date:** {meta["date"]}; wall time {meta["wall_s"] / 60:.1f} '
        f'min (estimated {meta["estimated_s"] / 60:.0f} min from the '
        'reference 2-core CPU costs)',
        f'- **Command:** `{meta["command"]}`',
        f'- **Budget (preset `{meta["preset"]}`):** {meta["budget"]}',
        f'- **Data:** {meta["dataset"]}',
        f'- **Machine:** {m["cpu"]}, {m["cores"]} cores, '
        f'{fmt(m["ram_gib"], ".0f")} GiB RAM, GPU: {gpu}; bf16 CPU '
        f'instructions: {"yes" if m["bf16_cpu"] else "no"}; device used: '
        f'{meta["device"]}; Python {m["python"]}, {m["os"]}',
        '- **Packages:** ' + ', '.join(f'{k} {v}' for k, v in p.items()),
    ]


def markdown(report: Dict) -> str:
    """The full report as Markdown."""
    rows = report['methods']
    lines = ['# Benchmark', ''] + header(report) + ['']
    if report['meta']['failures']:
        lines += ['**Failed runs:** ' + '; '.join(
            report['meta']['failures']), '']
    lines += [
        '## Accuracy (measured here)', '',
        '| model | config | top-1 | top-5 | mean class acc. | zero-shot '
        'unseen top-1 (chance) | test clips |', '|---|---|---|---|---|---|---|'
    ]
    for r in rows:
        a = r['accuracy']
        zsl = ('-' if a['zsl_unseen_top1'] is None else
               f'{a["zsl_unseen_top1"]:.2f} ({a["zsl_chance_top1"]:.0f}, '
               f'{a["zsl_test_clips"]} clips)')
        config = (f'[{r["name"]}](../../{r["config"]})'
                  if not osp.isabs(r['config']) else f'`{r["config"]}`')
        lines.append(
            f'| {r["label"]} | {config} | '
            f'{fmt(a["top1"])} | {fmt(a["top5"])} | {fmt(a["mean_class"])} |'
            f' {zsl} | {fmt(a["test_clips"], "d")} |')
    lines += [
        '', '## Cost (measured here)', '',
        'Parameters as built (LLM methods: the frozen LLM counts in the '
        'total, not in the trainable); checkpoint: the file (weights and '
        'optimizer state); training: the stock runner\'s logged iteration '
        'time (data loading included; the last stage of a multi-stage '
        'method), wall time of all stages; latency: the `predict` forward '
        'pass per clip, median; peak RSS: the process\' maximum resident '
        'memory (training: the largest stage; test: testing and latency).',
        '', '| model | params (trainable / total) | checkpoint MB | train '
        'clips/s | train time | ms/clip, batch 1 | ms/clip, batch 16 | '
        'clips/s, batch 16 | peak RSS train / test GiB | GPU peak MB |',
        '|---|---|---|---|---|---|---|---|---|---|'
    ]
    for r in rows:
        c = r['cost']
        gpu = ('-' if c['test_gpu_mb'] is None else
               f'{fmt(c["train_gpu_mb"], ".0f")} / '
               f'{fmt(c["test_gpu_mb"], ".0f")}')
        lines.append(
            f'| {r["label"]} | {params_text(c["params_trainable"])} / '
            f'{params_text(c["params_total"])} | '
            f'{fmt(c["checkpoint_mb"], ".1f")} | '
            f'{fmt(c["train_clips_per_s"], ".1f")} | '
            f'{fmt(c["train_seconds"], ".0f")} s | '
            f'{fmt(c["latency_bs1_ms"], ".1f")} | '
            f'{fmt(c["latency_bs16_ms"], ".1f")} | '
            f'{fmt(c["clips_per_s_bs16"], ".1f")} | '
            f'{fmt(c["train_peak_rss_mb"], ".2f", 1 / 1024)} / '
            f'{fmt(c["test_peak_rss_mb"], ".2f", 1 / 1024)} | {gpu} |')
    llm_rows = [r for r in rows if r['scaling']]
    if llm_rows:
        frames = sorted({int(f) for r in llm_rows
                         for f in r['scaling']['ms_per_clip_by_T']})
        counts = sorted({int(n) for r in llm_rows for n in
                         r['scaling']['ms_per_clip_by_candidates']})
        lines += [
            '', '## LLM-side scaling (measured here)', '',
            'LLM-side latency per clip in ms (the neck or the action-'
            'sentence embedding, then exact scoring of every candidate; the '
            f'skeleton encoder excluded; batch '
            f'{llm_rows[0]["scaling"]["batch"]}, fastest call). Clip length: '
            'random clips of T frames; LLM input tokens per clip in '
            'brackets. Candidates: the dataset\'s names, then NTU RGB+D 120 '
            'names.', '',
            '| model | ' + ' | '.join(f'T={f}' for f in frames) + ' | ' +
            ' | '.join(f'{n} candidates' for n in counts) + ' |',
            '|---|' + '---|' * (len(frames) + len(counts))
        ]
        for r in llm_rows:
            s = r['scaling']
            cells = [
                f'{fmt(s["ms_per_clip_by_T"].get(str(f)), ".1f")} '
                f'({s["llm_tokens_by_T"].get(str(f), "-")})' for f in frames
            ] + [
                fmt(s['ms_per_clip_by_candidates'].get(str(n)), '.1f')
                for n in counts
            ]
            lines.append(f'| {r["label"]} | ' + ' | '.join(cells) + ' |')
        lines += [
            '', '| model | scoring ms/clip | generation ms/clip | speed-up '
            '| top-1 scoring / generation | clips |',
            '|---|---|---|---|---|---|'
        ]
        for r in llm_rows:
            c = r['scaling']['scoring_vs_generation']
            if c:
                lines.append(
                    f'| {r["label"]} | {c["score_ms_per_clip"]:.1f} | '
                    f'{c["generate_ms_per_clip"]:.1f} | {c["speedup"]:.2f}x |'
                    f' {c["score_top1"]:.2f} / {c["generate_top1"]:.2f} | '
                    f'{c["samples"]} |')
    if report['targets']:
        lines += [
            '', '## Speed targets (issue 6, measured in this run)', '',
            '| target | measured | goal | result | detail |',
            '|---|---|---|---|---|'
        ]
        for t in report['targets']:
            lines.append(
                f'| {t["name"]} | {fmt(t["measured"], ".3g")} | '
                f'{t["target"]} | **{verdict(t["passed"])}** | '
                f'{t["detail"]} |')
    lines += ['', '## Measured here vs published', '', readme_table(report)]
    lines += [
        '', '## Plots', '', '![accuracy vs cost](accuracy_vs_cost.png)', '',
        '![latency vs clip length](latency_vs_T.png)', '',
        '![latency vs candidates](latency_vs_candidates.png)', ''
    ]
    return '\n'.join(lines)


def readme_table(report: Dict) -> str:
    """The README's results block: measured here beside published."""
    meta, rows = report['meta'], report['methods']
    m = meta['machine']
    lines = [
        f'Measured here on {meta["dataset"]} with the benchmark\'s '
        f'`{meta["preset"]}` budget ({meta["budget"]}); {m["cpu"]}, '
        f'{m["cores"]} cores, device {meta["device"]}, {meta["date"][:10]}; '
        f'command `{meta["command"]}`. **Published**: the papers\' and the '
        'MMAction2 model zoo\'s NTU RGB+D 60 X-Sub numbers (zero-shot: '
        'trained on NTU60, 10 unseen NTU120 classes), not reproduced here: '
        'different data and budget, not comparable digit for digit.', '',
        '| model | config | measured here: top-1 / top-5 | mean class acc. '
        '| zero-shot unseen top-1 | params (trainable) | train clips/s | '
        'ms/clip (batch 16) | published: top-1 | published: zero-shot '
        'top-1 | published: source |', '|---|---|---|---|---|---|---|---|---|'
        '---|---|'
    ]
    for r in rows:
        a, c, pub = r['accuracy'], r['cost'], r['published'] or {}
        lines.append(
            f'| {r["label"]} | [config]({r["config"]}) | {fmt(a["top1"])} / '
            f'{fmt(a["top5"])} | {fmt(a["mean_class"])} | '
            f'{fmt(a["zsl_unseen_top1"])} | '
            f'{params_text(c["params_trainable"])} | '
            f'{fmt(c["train_clips_per_s"], ".1f")} | '
            f'{fmt(c["latency_bs16_ms"], ".1f")} | '
            f'{fmt(pub.get("top1"))} | {fmt(pub.get("zsl_top1"), ".1f")} | '
            f'{pub.get("source", "-")} |')
    return '\n'.join(lines)


def plots(report: Dict, out_dir: str) -> List[str]:
    """accuracy_vs_cost.png, latency_vs_T.png, latency_vs_candidates.png."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = [r for r in report['methods'] if r['accuracy']['top1'] is not None]
    files = []

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for ax, key, xlabel in zip(
            axes, ('latency_bs16_ms', 'params_trainable', 'train_clips_per_s'),
            ('inference ms per clip (batch 16)', 'trainable parameters',
             'training clips per second')):
        for r in rows:
            x = r['cost'][key]
            if x:
                ax.scatter(x, r['accuracy']['top1'], s=40)
                ax.annotate(r['name'], (x, r['accuracy']['top1']),
                            textcoords='offset points', xytext=(4, 4),
                            fontsize=8)
        ax.set_xscale('log')
        ax.set_xlabel(xlabel)
        ax.set_ylabel('top-1 (%)')
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    fig.suptitle(f'Accuracy vs cost ({report["meta"]["preset"]} budget)')
    fig.tight_layout()
    files.append(_save(fig, out_dir, 'accuracy_vs_cost.png'))

    llm_rows = [r for r in report['methods'] if r['scaling']]
    for key, name, xlabel in (
            ('ms_per_clip_by_T', 'latency_vs_T.png', 'clip length T (frames)'),
            ('ms_per_clip_by_candidates', 'latency_vs_candidates.png',
             'candidate classes')):
        fig, ax = plt.subplots(figsize=(6, 4.5))
        for r in llm_rows:
            points = sorted((int(k), v) for k, v in r['scaling'][key].items())
            if points:
                ax.plot(*zip(*points), marker='o', label=r['name'])
        ax.set_xlabel(xlabel)
        ax.set_ylabel('LLM-side ms per clip')
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        if llm_rows:
            ax.legend()
        else:
            ax.text(0.5, 0.5, 'no LLM method benchmarked', ha='center',
                    transform=ax.transAxes)
        fig.tight_layout()
        files.append(_save(fig, out_dir, name))
    plt.close('all')
    return files


def _save(fig, out_dir: str, name: str) -> str:
    path = osp.join(out_dir, name)
    fig.savefig(path, dpi=100)
    return path


def write_outputs(report: Dict, out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    with open(osp.join(out_dir, 'benchmark.json'), 'w',
              encoding='utf-8') as f:
        json.dump(report, f, indent=2)
    with open(osp.join(out_dir, 'benchmark.md'), 'w', encoding='utf-8') as f:
        f.write(markdown(report))
    plots(report, out_dir)
