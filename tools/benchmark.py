# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Benchmark action recognizers side by side on one split, in one command.

For every config (default: ST-GCN, ST-GCN++, 2s-AGCN, SUGAR stage 2,
SUGAR stages 2 + 3 and LLM-AR, on the embedded SynthNTU x-sub split) it
reports

* accuracy: top-1, top-5, mean class accuracy, and the zero-shot unseen
  top-1 of the method's ``*zsl5*`` config where it has one;
* cost: parameters (total, trainable), checkpoint size, training
  throughput, latency per clip at batch 1 and 16, peak memory (RSS of the
  process; GPU memory on a GPU);
* scaling (LLM methods): LLM-side latency against the clip length
  (T = 50, 100, 300) and the number of candidate classes (10, 60, 120);
* the speed targets of issue 6, each measured in the same run and printed
  with its target and PASS/FAIL;

and writes ``benchmark.md``, ``benchmark.json`` and three PNG plots to
``--out-dir``, with the machine, the package versions, the command and the
date.

Every training run is the stock runner in its own process (``python
tools/train.py CONFIG --work-dir ... --cfg-options <budget>``, one process
per stage of a multi-stage config), and every trained model is measured
in its own process (``tools/analysis/benchmark_model.py``), so each peak
RSS belongs to one run. A stage shared by two methods is trained once:
SUGAR's stage 3 trains over the checkpoint of the "SUGAR stage 2" row.

Presets (the report's header states the one used):

* ``quick`` (default): every training stage runs one epoch over a
  class-balanced subset of its training split, 24 steps of batch 16 (12
  clips per class on SynthNTU x-sub), with the config's learning-rate
  schedule compressed into that epoch and no validation; accuracy is
  tested on 8 clips per class (256 of 768), zero-shot accuracy on 8 clips
  per unseen class. Estimated 21 minutes on the project's 2-core CPU
  (``--dry-run`` prints the estimate); meant for the costs and the speed
  targets, its accuracies are far from converged.
* ``full``: the configs' own schedules and the whole test split (about
  1.5 hours there).

Examples::

    python tools/benchmark.py
    python tools/benchmark.py --preset full
    python tools/benchmark.py --configs stgcn sugar --no-zero-shot \\
        --checkpoint sugar=work_dirs/sugar_synthntu/stage3/epoch_1.pth
    python tools/benchmark.py --dry-run          # the plan and its estimate
    python tools/benchmark.py --table-from docs/benchmark/benchmark.json
"""
import argparse
import datetime
import glob
import importlib
import json
import math
import os
import os.path as osp
import platform
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Tuple

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
ANALYSIS = osp.join(REPO, 'tools', 'analysis')
SYNTH = '1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py'
SYNTH_ZSL = '1xb16-joint-u32-5e_synthntu-xsub-zsl5-keypoint-3d.py'
EMBEDDED_DATA = 'data/synth_ntu/synth_ntu_3d.pkl'


@dataclass(frozen=True)
class Method:
    """A row of the benchmark."""
    name: str  # its id on the command line
    label: str  # the table's model column
    config: str  # absolute path
    zsl_config: Optional[str] = None  # its zero-shot twin, if any


def _repo(path: str) -> str:
    return osp.join(REPO, path)


METHODS = {
    m.name: m
    for m in (
        Method('stgcn', 'ST-GCN', _repo(f'configs/stgcn/stgcn_{SYNTH}')),
        Method('stgcnpp', 'ST-GCN++',
               _repo(f'configs/stgcnpp/stgcnpp_{SYNTH}')),
        Method('2s-agcn', '2s-AGCN (joint)',
               _repo(f'configs/2s-agcn/2s-agcn_{SYNTH}')),
        Method('sugar-stage2', 'SUGAR stage 2 (ST-GCN)',
               _repo(f'configs/sugar/sugar-stage2_stgcn_{SYNTH}'),
               _repo(f'configs/sugar/sugar-stage2_stgcn_{SYNTH_ZSL}')),
        Method('sugar', 'SUGAR stages 2+3 (ST-GCN, TQP, SmolLM2-135M)',
               _repo('configs/sugar_synthntu.py'),
               _repo('configs/sugar_synthntu_zsl5.py')),
        Method('llmar', 'LLM-AR (VQ-VAE, SmolLM2-135M)',
               _repo('configs/llmar_synthntu.py'),
               _repo('configs/llmar_synthntu_zsl5.py')),
    )
}

PRESETS = {
    'quick':
    dict(
        train_steps=24,  # per training stage, batch 16 (12 clips per class)
        test_per_class=8,
        reps=3,  # timed calls per latency batch size (median)
        scaling_batch=4,
        scaling_reps=2,
        compare_clips=32,
        step_rounds=3,
        amp_rounds=3),
    'full':
    dict(
        train_steps=None,  # the configs' own schedules
        test_per_class=0,  # the whole test split
        reps=10,
        scaling_batch=16,
        scaling_reps=3,
        compare_clips=64,
        step_rounds=5,
        amp_rounds=4),
}

# Reference costs on the project's 2-core CPU (docs/RESULTS.md), for the
# run-time estimate only: seconds per training step of batch 16 by stage
# config, per tool process, per test sample, per LLM row's extra tests.
REF_STEP_S = {
    f'stgcn_{SYNTH}': 0.95,
    f'stgcnpp_{SYNTH}': 1.23,
    f'2s-agcn_{SYNTH}': 1.16,
    f'sugar-stage2_stgcn_{SYNTH}': 0.95,
    f'sugar-stage2_stgcn_{SYNTH_ZSL}': 0.95,
    'sugar-stage3_stgcn-tqp-smollm2_1xb16-joint-u32-1e_synthntu-xsub-'
    'keypoint-3d.py': 4.0,
    'sugar-stage3_stgcn-tqp-smollm2_1xb16-joint-u32-1e_synthntu-xsub-'
    'zsl5-keypoint-3d.py': 4.0,
    'llmar-stage1_vqvae-poincare_1xb16-joint-u32-40e_synthntu-xsub-'
    'keypoint-3d.py': 0.15,
    'llmar-stage1_vqvae-poincare_1xb16-joint-u32-40e_synthntu-xsub-'
    'zsl5-keypoint-3d.py': 0.15,
    'llmar-stage2_vqvae-poincare-smollm2_1xb16-joint-u32-1e_synthntu-'
    'xsub-keypoint-3d.py': 3.5,
    'llmar-stage2_vqvae-poincare-smollm2_1xb16-joint-u32-1e_synthntu-'
    'xsub-zsl5-keypoint-3d.py': 3.5,
}
REF_START_S = 15.0  # a tool process: imports, runner, data
REF_TEST_S = dict(gcn=0.04, llm=0.21)  # per test sample (GCNs: 2 clips)
REF_LLM_EXTRA_S = dict(quick=60.0, full=150.0)  # scaling + generation
REF_RATIO_S = dict(quick=60.0, full=120.0)  # step and autocast ratios


def analysis(name: str):
    """A script of ``tools/analysis`` as a module (its helpers)."""
    if ANALYSIS not in sys.path:
        sys.path.insert(0, ANALYSIS)
    return importlib.import_module(name)


class RunError(RuntimeError):
    """A child process failed; the message names its log."""


@dataclass
class Run:
    """One training (all stages) + measurement job."""
    id: str  # 'stgcn', 'sugar-zsl', 'stgcn-bf16', ...
    config: str
    kind: str  # 'main', 'zsl' or 'bf16'
    options: Dict = field(default_factory=dict)  # extra --cfg-options


# ----------------------------------------------------------------------
# command line
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='Configs: ' + ', '.join(
            f'{m.name} ({osp.relpath(m.config, REPO)})'
            for m in METHODS.values()))
    parser.add_argument(
        '--preset', choices=sorted(PRESETS), default='quick',
        help='quick (default): a common reduced budget; full: the '
        'configs\' own schedules')
    parser.add_argument(
        '--configs', nargs='+', default=list(METHODS), metavar='CONFIG',
        help='known names, NAME=PATH or config paths (default: all known)')
    parser.add_argument(
        '--zsl-configs', nargs='+', default=[], metavar='NAME=PATH',
        help='zero-shot config of a benchmarked NAME (known names bring '
        'their own unless their config is replaced)')
    parser.add_argument(
        '--checkpoint', nargs='+', action='extend', default=[],
        metavar='RUN=PATH',
        help='use this checkpoint instead of training RUN (a config name; '
        'NAME-zsl for its zero-shot run; stgcn-bf16 for the autocast run)')
    parser.add_argument(
        '--no-zero-shot', action='store_true',
        help='skip the zero-shot runs')
    parser.add_argument(
        '--no-targets', action='store_true',
        help='skip the speed-target measurements')
    parser.add_argument(
        '--train-steps', type=int,
        help='override the preset: training steps per stage (0: the '
        'configs\' schedules)')
    parser.add_argument(
        '--test-per-class', type=int,
        help='override the preset: test clips per class (0: all)')
    parser.add_argument(
        '--set', nargs='+', default=[], metavar='KEY=INT',
        help='override other preset settings: ' + ', '.join(
            k for k in PRESETS['quick']
            if k not in ('train_steps', 'test_per_class')))
    parser.add_argument(
        '--device', choices=['auto', 'cpu', 'cuda'], default='auto',
        help='where children run (default: cuda when available)')
    parser.add_argument('--seed', type=int, default=0, help='training seed')
    parser.add_argument(
        '--work-dir',
        help='runs and logs (default: work_dirs/benchmark/<date-time>)')
    parser.add_argument(
        '--out-dir', default='docs/benchmark',
        help='where benchmark.md, benchmark.json and the plots go')
    parser.add_argument(
        '--dry-run', action='store_true',
        help='print the plan and its estimated run time, run nothing')
    parser.add_argument(
        '--table-from', metavar='JSON',
        help='print the README results block from a benchmark.json and exit')
    args = parser.parse_args(argv)
    if args.table_from:
        if not osp.isfile(args.table_from):
            parser.error(f'--table-from: {args.table_from!r} does not exist')
        return args
    args.methods = parse_methods(args.configs, args.zsl_configs, parser)
    settings = dict(PRESETS[args.preset])
    if args.train_steps is not None:
        if args.train_steps < 0:
            parser.error('--train-steps must be >= 0')
        settings['train_steps'] = args.train_steps or None
    if args.test_per_class is not None:
        if args.test_per_class < 0:
            parser.error('--test-per-class must be >= 0')
        settings['test_per_class'] = args.test_per_class
    for item in args.set:
        key, _, value = item.partition('=')
        if key not in settings or key in ('train_steps', 'test_per_class'):
            parser.error(f'--set {item!r}: unknown setting {key!r}')
        if not value.isdigit() or int(value) < 1:
            parser.error(f'--set {item!r}: expected a positive integer')
        settings[key] = int(value)
    args.settings = settings
    args.runs = plan_runs(args.methods, not args.no_zero_shot,
                          not args.no_targets)
    args.checkpoints = parse_checkpoints(args.checkpoint, args.runs, parser)
    return args


def parse_methods(items: List[str], zsl_items: List[str],
                  parser: argparse.ArgumentParser) -> List[Method]:
    """Methods from ``--configs`` and ``--zsl-configs`` items."""
    methods = []
    for item in items:
        name, sep, path = item.partition('=')
        if not sep:
            if item in METHODS:
                methods.append(METHODS[item])
                continue
            if not item.endswith('.py'):
                parser.error(f'unknown config {item!r}: neither a known name '
                             f'({", ".join(METHODS)}) nor a .py file')
            name, path = osp.splitext(osp.basename(item))[0], item
        if not name or not path:
            parser.error(f'--configs {item!r}: expected NAME=PATH')
        if not osp.isfile(path):
            parser.error(f'--configs {item!r}: config file {path!r} does '
                         'not exist')
        known = METHODS.get(name)
        methods.append(
            Method(name, known.label if known else name, osp.abspath(path)))
    names = [m.name for m in methods]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        parser.error(f'--configs names {dup} more than once')
    for item in zsl_items:
        name, sep, path = item.partition('=')
        if not sep or name not in names:
            parser.error(f'--zsl-configs {item!r}: expected NAME=PATH with '
                         f'NAME one of {names}')
        if not osp.isfile(path):
            parser.error(f'--zsl-configs {item!r}: config file {path!r} '
                         'does not exist')
        i = names.index(name)
        methods[i] = replace(methods[i], zsl_config=osp.abspath(path))
    return methods


def plan_runs(methods: List[Method], zero_shot: bool,
              targets: bool) -> List[Run]:
    """The training + measurement jobs, in the order they run."""
    runs = [Run(m.name, m.config, 'main') for m in methods]
    if zero_shot:
        runs += [
            Run(f'{m.name}-zsl', m.zsl_config, 'zsl') for m in methods
            if m.zsl_config
        ]
    baseline = next((m for m in methods if m.name == 'stgcn'), None)
    if targets and baseline is not None:
        # the autocast target also compares top-1: train the baseline again
        runs.append(Run('stgcn-bf16', baseline.config, 'bf16'))
    return runs


def parse_checkpoints(items: List[str], runs: List[Run],
                      parser: argparse.ArgumentParser) -> Dict[str, str]:
    """``RUN=PATH`` items -> {run id: absolute path}."""
    ids = [r.id for r in runs]
    out = dict()
    for item in items:
        run, sep, path = item.partition('=')
        if not sep or not run or not path:
            parser.error(f'--checkpoint {item!r}: expected RUN=PATH')
        if run not in ids:
            parser.error(f'--checkpoint {item!r}: {run!r} is not a run of '
                         f'this benchmark (runs: {", ".join(ids)})')
        if not osp.isfile(path):
            parser.error(f'--checkpoint {item!r}: file {path!r} does not '
                         'exist')
        out[run] = osp.abspath(path)
    return out


# ----------------------------------------------------------------------
# environment
def machine_info() -> Dict:
    """CPU model, cores, RAM, GPU and the Python/OS versions."""
    import torch
    cpu, flags = platform.processor() or platform.machine(), ''
    if osp.isfile('/proc/cpuinfo'):
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            for line in f:
                key, _, value = line.partition(':')
                if key.strip() == 'model name':
                    cpu = value.strip()
                elif key.strip() == 'flags' and not flags:
                    flags = value
    ram = None
    if osp.isfile('/proc/meminfo'):
        with open('/proc/meminfo', encoding='utf-8') as f:
            for line in f:
                if line.startswith('MemTotal:'):
                    ram = int(line.split()[1]) / 2**20  # kB -> GiB
    gpu = (torch.cuda.get_device_name(0)
           if torch.cuda.is_available() else None)
    return dict(
        cpu=cpu,
        cores=os.cpu_count(),
        ram_gib=ram,
        gpu=gpu,
        bf16_cpu=' avx512_bf16 ' in f' {flags} ' or ' amx_bf16 ' in flags,
        torch_threads=torch.get_num_threads(),
        python=platform.python_version(),
        os=platform.platform())


def package_versions() -> Dict[str, Optional[str]]:
    from importlib.metadata import PackageNotFoundError, version
    out = dict()
    for name in ('torch', 'mmengine', 'mmcv-lite', 'mmaction2',
                 'transformers', 'peft', 'numpy'):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def rel(path: Optional[str]) -> Optional[str]:
    """A path relative to the repository when it lies inside it."""
    if not path:
        return path
    path = osp.abspath(path)
    inside = osp.commonpath([path, REPO]) == REPO
    return osp.relpath(path, REPO) if inside else path


def cli_value(value) -> str:
    """A value as ``--cfg-options`` (mmengine's DictAction) parses it."""
    if isinstance(value, (list, tuple)):
        return '[' + ','.join(cli_value(v) for v in value) + ']'
    return str(value)


# ----------------------------------------------------------------------
# the benchmark
class Benchmark:
    """Runs the plan of ``args`` and collects the results."""

    def __init__(self, args):
        import torch
        self.args = args
        self.settings = args.settings
        self.quick = args.settings['train_steps'] is not None
        self.device = args.device
        if self.device == 'auto':
            self.device = 'cuda' if torch.cuda.is_available() else 'cpu'
        stamp = datetime.datetime.now().strftime('%Y%m%d_%H%M%S')
        self.work_dir = osp.abspath(
            args.work_dir or osp.join('work_dirs', 'benchmark', stamp))
        self.env = dict(os.environ)
        if self.device == 'cpu':
            self.env['CUDA_VISIBLE_DEVICES'] = ''
        for run in args.runs:  # the autocast twin trains in bf16
            if run.kind == 'bf16':
                wrapper = analysis('benchmark_cpu_amp').autocast_wrapper(
                    self.device)
                run.options = {f'optim_wrapper.{k}': v
                               for k, v in wrapper.items()}
        self.start = time.perf_counter()
        self.trained: Dict[Tuple, Dict] = dict()  # (config, options) -> rec
        self._labels: Dict[str, List[int]] = dict()
        self.failures: List[str] = []

    # -- progress and children -----------------------------------------
    def log(self, message: str) -> None:
        elapsed = int(time.perf_counter() - self.start)
        print(f'[{elapsed // 3600}:{elapsed // 60 % 60:02d}:'
              f'{elapsed % 60:02d}] {message}', flush=True)

    def child(self, cmd: List[str], name: str) -> Dict:
        """Run ``cmd`` from the repository root, its output to a log file.

        Returns:
            dict: ``seconds`` (wall), ``peak_rss_mb`` (the child's own
            peak RSS, from ``wait4``) and ``log``.

        Raises:
            RunError: If it exits with an error.
        """
        log = osp.join(self.work_dir, 'logs', f'{name}.log')
        os.makedirs(osp.dirname(log), exist_ok=True)
        start = time.perf_counter()
        with open(log, 'w', encoding='utf-8') as f:
            f.write('$ ' + ' '.join(shlex.quote(c) for c in cmd) + '\n')
            f.flush()
            proc = subprocess.Popen(
                cmd, stdout=f, stderr=subprocess.STDOUT, cwd=REPO,
                env=self.env)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            with open(log, encoding='utf-8', errors='replace') as f:
                tail = ''.join(f.readlines()[-15:])
            raise RunError(f'{name} failed (exit {proc.returncode}); log: '
                           f'{rel(log)}\n{tail}')
        return dict(
            seconds=seconds, peak_rss_mb=usage.ru_maxrss / 1024, log=rel(log))

    # -- data and budget -----------------------------------------------
    def labels(self, dataset_cfg) -> List[int]:
        """Labels of a dataset config, cached by its content."""
        key = repr(dataset_cfg)
        if key not in self._labels:
            self._labels[key] = analysis('benchmark_model').dataset_labels(
                dataset_cfg)
        return self._labels[key]

    def budget(self, cfg) -> Tuple[Dict, int]:
        """The ``--cfg-options`` of the preset's budget for one stage
        config, and the training steps they give."""
        loader = cfg.train_dataloader
        key, dataset = 'train_dataloader.dataset', loader.dataset
        options = dict()
        while 'dataset' in dataset:  # RepeatDataset and the like
            if dataset.get('times', 1) != 1:
                options[f'{key}.times'] = 1
            key, dataset = f'{key}.dataset', dataset.dataset
        labels = self.labels(dataset)
        batch = loader.batch_size
        steps = self.settings['train_steps']
        if steps is None:
            epochs = cfg.train_cfg.get('max_epochs', 1)
            return options, epochs * math.ceil(len(labels) / batch)
        per_class = max(steps * batch // len(set(labels)), 1)
        picks = analysis('benchmark_model').balanced_indices(labels, per_class)
        options[f'{key}.indices'] = picks
        options['train_cfg.max_epochs'] = 1
        schedulers = cfg.get('param_scheduler') or []
        single = isinstance(schedulers, dict)
        for i, sched in enumerate([schedulers] if single else schedulers):
            where = 'param_scheduler' if single else f'param_scheduler.{i}'
            if sched.get('by_epoch', True) and 'T_max' in sched:
                options[f'{where}.T_max'] = 1  # the schedule, compressed
        interval = cfg.get('default_hooks', {}).get('logger', {}).get(
            'interval', 50)
        options['default_hooks.logger.interval'] = min(interval, 4)
        return options, math.ceil(len(picks) / batch)

    # -- training ------------------------------------------------------
    def train_stage(self, run: Run, stage_cfg, stage: Optional[str],
                    root: str) -> Dict:
        """One stage with the stock runner, in its own process."""
        budget, steps = self.budget(stage_cfg)
        options = {**budget, **run.options}
        prefix = f'{stage}.' if stage else ''
        cmd = [
            sys.executable, 'tools/train.py', run.config, '--work-dir', root,
            '--seed', str(self.args.seed)
        ]
        if stage:
            cmd += ['--stage', stage]
        if self.quick:
            cmd.append('--no-validate')
        if options:
            cmd += ['--cfg-options'] + [
                f'{prefix}{k}={cli_value(v)}' for k, v in options.items()
            ]
        name = f'train-{run.id}' + (f'-{stage}' if stage else '')
        self.log(f'{name}: {steps} steps ...')
        record = self.child(cmd, name)
        stage_dir = osp.join(root, stage) if stage else root
        if stage:
            with open(osp.join(stage_dir, 'stage_done.json')) as f:
                checkpoint = json.load(f)['checkpoint']
        else:
            with open(osp.join(stage_dir, 'last_checkpoint')) as f:
                checkpoint = f.read().strip()
        record.update(
            stage=stage,
            config=rel(stage_cfg.filename),
            checkpoint=checkpoint,
            steps=steps,
            batch_size=stage_cfg.train_dataloader.batch_size,
            **log_speed(stage_dir, stage_cfg.train_dataloader.batch_size))
        speed = record['clips_per_s']
        self.log(f'{name}: done in {record["seconds"]:.0f} s, '
                 f'{"-" if speed is None else f"{speed:.1f}"} clips/s, '
                 f'peak RSS {record["peak_rss_mb"] / 1024:.2f} GiB')
        return record

    def stage_key(self, run: Run, stage_cfg) -> Tuple:
        """What makes two training stages the same: the stage config and
        the run's extra options."""
        extra = tuple(sorted((k, repr(v)) for k, v in run.options.items()))
        return osp.abspath(stage_cfg.filename), extra

    def train(self, run: Run) -> Dict:
        """All stages of a run; stages trained by earlier runs (or given
        with ``--checkpoint``) are reused: a multi-stage config's
        ``stage_done.json`` points at them."""
        from mmengine.config import Config

        from mmaction_sugar.apis import (is_multi_stage, stage_config,
                                         stage_list)
        cfg = Config.fromfile(run.config)
        root = osp.join(self.work_dir, 'train', run.id)
        stages = []
        entries = stage_list(cfg) if is_multi_stage(cfg) else [None]
        for entry in entries:
            sub = stage_config(cfg, entry) if entry else cfg
            key = self.stage_key(run, sub)
            if key in self.trained:
                done = self.trained[key]
                if entry:
                    stage_dir = osp.join(root, entry['name'])
                    os.makedirs(stage_dir, exist_ok=True)
                    with open(osp.join(stage_dir, 'stage_done.json'),
                              'w') as f:
                        json.dump(dict(checkpoint=done['checkpoint']), f)
                stages.append(dict(done, reused=True))
                self.log(f'train-{run.id}: reusing {rel(done["checkpoint"])}')
                continue
            record = self.train_stage(run, sub, entry and entry['name'],
                                      root)
            self.trained[key] = record
            stages.append(record)
        return summarize(stages)

    def given(self, run: Run) -> Dict:
        """A ``--checkpoint`` instead of training; a single-stage one
        serves later multi-stage runs too (SUGAR's stage 2)."""
        from mmengine.config import Config

        from mmaction_sugar.apis import is_multi_stage
        record = dict(checkpoint=self.args.checkpoints[run.id], given=True)
        cfg = Config.fromfile(run.config)
        if not is_multi_stage(cfg):
            self.trained.setdefault(self.stage_key(run, cfg), record)
        self.log(f'train-{run.id}: using {rel(record["checkpoint"])}')
        return dict(record, stages=[record])

    # -- measuring -----------------------------------------------------
    def evaluate(self, run: Run, checkpoint: str) -> Dict:
        """The run's model measured by benchmark_model.py in a process."""
        s = self.settings
        out = osp.join(self.work_dir, 'eval', f'{run.id}.json')
        cmd = [
            sys.executable, 'tools/analysis/benchmark_model.py', run.config,
            checkpoint, '--out', out, '--work-dir',
            osp.join(self.work_dir, 'eval', run.id), '--per-class',
            str(s['test_per_class'])
        ]
        if run.kind == 'main':
            cmd += [
                '--reps', str(s['reps']), '--scaling-batch',
                str(s['scaling_batch']), '--scaling-reps',
                str(s['scaling_reps']), '--compare-clips',
                str(s['compare_clips'])
            ]
        else:
            cmd.append('--no-cost')
        if run.kind == 'zsl':
            cmd.append('--unseen-only')
        what = 'testing' if '--no-cost' in cmd else 'testing, cost'
        self.log(f'eval-{run.id}: {what} ...')
        record = self.child(cmd, f'eval-{run.id}')
        with open(out, encoding='utf-8') as f:
            result = json.load(f)
        result['process'] = record
        metrics = result['metrics']
        top1 = metrics.get('acc/top1', metrics.get('zsl/unseen_top1', 0))
        self.log(f'eval-{run.id}: done in {record["seconds"]:.0f} s, top-1 '
                 f'{100 * top1:.2f} on {result["test"]["samples"]} clips')
        return result

    def ratio_children(self) -> Dict:
        """The train-step and autocast speed ratios, each in a process."""
        s, out = self.settings, dict()
        names = {m.name: m for m in self.args.methods}
        ratios = osp.join(self.work_dir, 'ratios')
        if 'stgcn' in names and 'sugar-stage2' in names:
            path = osp.join(ratios, 'train_step.json')
            cmd = [
                sys.executable, 'tools/analysis/benchmark_train_step.py',
                names['stgcn'].config, names['sugar-stage2'].config,
                '--batches', '2' if self.quick else '4', '--rounds',
                str(s['step_rounds']), '--steps', '3' if self.quick else '4',
                '--warmup', '2' if self.quick else '3', '--device',
                self.device, '--work-dir', osp.join(ratios, 'train_step'),
                '--out', path
            ]
            out['train_step'] = self.measure_child(cmd, 'ratio-train-step',
                                                   path)
        if 'stgcn' in names:
            path = osp.join(ratios, 'autocast.json')
            cmd = [
                sys.executable, 'tools/analysis/benchmark_cpu_amp.py',
                '--config', names['stgcn'].config, '--rounds',
                str(s['amp_rounds']), '--device', self.device, '--out', path
            ]
            out['autocast'] = self.measure_child(cmd, 'ratio-autocast', path)
        return out

    def measure_child(self, cmd: List[str], name: str, path: str) -> Dict:
        os.makedirs(osp.dirname(path), exist_ok=True)
        self.log(f'{name} ...')
        try:
            record = self.child(cmd, name)
        except RunError as err:
            self.fail(str(err))
            return dict(error=str(err).split('\n')[0])
        with open(path, encoding='utf-8') as f:
            result = json.load(f)
        result['process'] = record
        self.log(f'{name}: done in {record["seconds"]:.0f} s')
        return result

    def fail(self, message: str) -> None:
        self.failures.append(message.split('\n')[0])
        self.log('FAILED ' + message)

    # -- everything ----------------------------------------------------
    def estimate_s(self) -> float:
        """Run time estimated from the reference costs of this project's
        2-core CPU (docs/RESULTS.md); 1 s per step for unknown configs."""
        from mmengine.config import Config

        from mmaction_sugar.apis import (is_multi_stage, stage_config,
                                         stage_list)
        helpers = analysis('benchmark_model')
        total, seen = 0., set()
        for run in self.args.runs:
            cfg = Config.fromfile(run.config)
            entries = stage_list(cfg) if is_multi_stage(cfg) else [None]
            for entry in entries:
                sub = stage_config(cfg, entry) if entry else cfg
                key = self.stage_key(run, sub)
                if run.id in self.args.checkpoints or key in seen:
                    continue
                seen.add(key)
                _, steps = self.budget(sub)
                step_s = REF_STEP_S.get(osp.basename(sub.filename), 1.0)
                total += REF_START_S + steps * step_s
            last = sub  # the tested stage
            llm = 'llm' in last.model.get('cls_head', {})
            labels = self.labels(last.test_dataloader.dataset)
            classes = (helpers.unseen_labels(last)
                       if run.kind == 'zsl' else None)
            clips = len(helpers.balanced_indices(
                labels, self.settings['test_per_class'], classes))
            per_clip = REF_TEST_S['llm' if llm else 'gcn']
            total += REF_START_S + clips * per_clip
            if run.kind == 'main':  # latency: batch 1 and 16, + warm-up
                total += (self.settings['reps'] + 1) * 17 * per_clip
            if llm and run.kind == 'main':
                total += REF_LLM_EXTRA_S['quick' if self.quick else 'full']
        if not self.args.no_targets:
            total += REF_RATIO_S['quick' if self.quick else 'full']
        return total

    def budget_text(self) -> str:
        s = self.settings
        test = ('the whole test split' if not s['test_per_class'] else
                f'{s["test_per_class"]} test clips per class (zero-shot: '
                'per unseen class)')
        if not self.quick:
            return ('the configs\' own schedules (with their validation); '
                    f'{test}; checkpoint: the last of each run')
        return (f'every training stage: 1 epoch of about {s["train_steps"]} '
                'steps at the config\'s batch size (16 for SynthNTU) over a '
                'class-balanced subset of its training split, the config\'s '
                f'LR schedule compressed into it, no validation; {test}; '
                'checkpoint: the last')

    def run(self) -> Dict:
        args = self.args
        ensure_data(args.methods, self)
        estimate = self.estimate_s()
        self.log(f'benchmark: {len(args.runs)} runs, preset {args.preset} '
                 f'({self.budget_text()}); device {self.device}; estimated '
                 f'{estimate / 60:.0f} min on the reference 2-core CPU; work '
                 f'dir {rel(self.work_dir)}')
        if args.dry_run:
            for run in args.runs:
                source = args.checkpoints.get(run.id, 'train')
                print(f'  {run.id:16s} {run.kind:5s} {rel(run.config)} '
                      f'[{rel(source)}]')
            return dict()
        results = dict()
        for run in args.runs:
            entry = dict(id=run.id, kind=run.kind, config=rel(run.config))
            try:
                entry['train'] = (self.given(run) if run.id in
                                  args.checkpoints else self.train(run))
                entry['eval'] = self.evaluate(run,
                                              entry['train']['checkpoint'])
            except RunError as err:
                entry['error'] = str(err).split('\n')[0]
                self.fail(str(err))
            results[run.id] = entry
        ratios = dict() if args.no_targets else self.ratio_children()
        report = assemble(self, results, ratios, estimate)
        writer = analysis('benchmark_report')
        writer.write_outputs(report, args.out_dir)
        self.log(f'wrote {rel(args.out_dir)}/benchmark.md, benchmark.json '
                 'and the plots')
        print(writer.targets_text(report['targets']))
        return report


def summarize(stages: List[Dict]) -> Dict:
    """A run's training from its stages: the last checkpoint, the total
    time, the largest peak RSS, the last stage's speed (None where a stage
    was given, not trained)."""

    def known(key):
        return [s[key] for s in stages if s.get(key) is not None]

    last = stages[-1]
    return dict(
        checkpoint=last['checkpoint'],
        seconds=sum(known('seconds')) if known('seconds') else None,
        peak_rss_mb=max(known('peak_rss_mb'), default=None),
        clips_per_s=last.get('clips_per_s'),
        gpu_mb=last.get('gpu_mb'),
        stages=stages)


def log_speed(stage_dir: str, batch_size: int) -> Dict:
    """Training speed from the run's logged iteration times (mmengine's
    ``scalars.json``; the first logged window, with the warm-up, is left
    out when there are more)."""
    logs = sorted(glob.glob(osp.join(stage_dir, '*', 'vis_data',
                                     'scalars.json')))
    times, memory = [], []
    if logs:
        with open(logs[-1], encoding='utf-8') as f:
            for line in f:
                record = json.loads(line)
                if 'lr' in record and 'time' in record:  # a training line
                    times.append(record['time'])
                    memory.append(record.get('memory'))
    times = times[1:] if len(times) > 1 else times
    s_per_iter = statistics.median(times) if times else None
    memory = [m for m in memory if m is not None]
    return dict(
        s_per_iter=s_per_iter,
        clips_per_s=batch_size / s_per_iter if s_per_iter else None,
        gpu_mb=max(memory) if memory else None)


def ensure_data(methods: List[Method], bench: Benchmark) -> None:
    """Generate the embedded SynthNTU data when a config needs it and it
    is missing (tools/data/generate_synth_ntu.py, about 6 s)."""
    if osp.isfile(osp.join(REPO, EMBEDDED_DATA)):
        return
    from mmengine.config import Config

    from mmaction_sugar.apis import last_stage_config
    for method in methods:
        cfg = last_stage_config(Config.fromfile(method.config))
        if cfg.test_dataloader.dataset.get('ann_file') == EMBEDDED_DATA:
            bench.log('data: generating SynthNTU in data/synth_ntu ...')
            bench.child([
                sys.executable, 'tools/data/generate_synth_ntu.py',
                '--out-dir', 'data/synth_ntu'
            ], 'generate-data')
            return


# ----------------------------------------------------------------------
# the report
def assemble(bench: Benchmark, runs: Dict, ratios: Dict,
             estimate: float) -> Dict:
    """The JSON report of a finished benchmark."""
    args, writer = bench.args, analysis('benchmark_report')
    rows = [
        writer.method_row(
            dict(
                name=m.name,
                label=m.label,
                config=rel(m.config),
                zsl_config=rel(m.zsl_config)), runs[m.name],
            runs.get(f'{m.name}-zsl')) for m in args.methods
    ]
    dataset = None
    for m in args.methods:
        if 'eval' in runs[m.name]:
            dataset = dataset_text(m.config)
            break
    return dict(
        meta=dict(
            date=datetime.datetime.now().isoformat(timespec='seconds'),
            command='python tools/benchmark.py ' + ' '.join(
                shlex.quote(a) for a in (sys.argv[1:] if args.argv is None
                                         else args.argv)),
            preset=args.preset,
            budget=bench.budget_text(),
            settings=args.settings,
            dataset=dataset,
            device=bench.device,
            machine=machine_info(),
            packages=package_versions(),
            estimated_s=estimate,
            wall_s=time.perf_counter() - bench.start,
            work_dir=rel(bench.work_dir),
            failures=bench.failures),
        methods=rows,
        runs=runs,
        ratios=ratios,
        targets=writer.collect_targets(rows, runs, ratios,
                                       not args.no_targets))


def dataset_text(config: str) -> str:
    """'<annotation file>, split <train> / <test>' of a config."""
    from mmengine.config import Config

    from mmaction_sugar.apis import last_stage_config
    cfg = last_stage_config(Config.fromfile(config))
    test = cfg.test_dataloader.dataset
    return f'{test.get("ann_file")}, test split {test.get("split")}'


def main(argv=None):
    args = parse_args(argv)
    if args.table_from:
        with open(args.table_from, encoding='utf-8') as f:
            print(analysis('benchmark_report').readme_table(json.load(f)))
        return None
    args.argv = argv
    from mmengine.logging import MMLogger

    import mmaction_sugar  # noqa: F401
    MMLogger.get_current_instance().setLevel('WARNING')  # dataset chatter
    bench = Benchmark(args)
    report = bench.run()
    if bench.failures:
        sys.exit(f'{len(bench.failures)} run(s) failed: see the logs')
    return report


if __name__ == '__main__':
    main()
