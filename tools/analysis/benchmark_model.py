# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Measure one trained recognizer: accuracy, size, latency and memory.

Tests the checkpoint with the stock runner on a class-balanced subset of
its config's test split (``--per-class`` clips of every class, or of the
zero-shot unseen classes only with ``--unseen-only``), then counts its
parameters (total and trainable), weighs the checkpoint, times the
``predict`` forward pass at batch 1 and 16 on test clips (one clip per
sample; data loading and preprocessing excluded) and records the process'
peak memory (RSS, and GPU memory on a GPU) up to that point. For an LLM
recognizer (SUGAR stage 3, LLM-AR stage 2) it then runs the LLM-side
measurements of ``benchmark_llm_inference.py``: scoring against
generation, latency against the clip length and against the number of
candidates. ``tools/benchmark.py`` runs this script once per model, each
in its own process, and reads the JSON it writes.

Example::

    python tools/analysis/benchmark_model.py \\
        configs/stgcn/stgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py \\
        work_dirs/stgcn/epoch_5.pth --per-class 8 --out stgcn.json
"""
import argparse
import copy
import json
import os
import os.path as osp
import resource
import statistics
import time
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.config import Config, DictAction

LATENCY_BATCHES = (1, 16)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a config (multi-stage: last stage)')
    parser.add_argument('checkpoint', help='its trained checkpoint')
    parser.add_argument('--out', required=True, help='JSON results file')
    parser.add_argument('--work-dir', default='work_dirs/benchmark_model',
                        help='the test runner\'s work dir')
    parser.add_argument('--per-class', type=int, default=0,
                        help='test clips per class, the first ones of the '
                        'split (default 0: all)')
    parser.add_argument('--unseen-only', action='store_true',
                        help='test the zero-shot unseen classes only (those '
                        'of the config\'s ZeroShotAccMetric)')
    parser.add_argument('--no-cost', action='store_true',
                        help='accuracy only: no size, latency or scaling')
    parser.add_argument('--reps', type=int, default=5,
                        help='timed calls per latency batch size (median)')
    parser.add_argument('--scaling-batch', type=int, default=16,
                        help='clips per call in the LLM scaling tests')
    parser.add_argument('--scaling-reps', type=int, default=3,
                        help='timed calls per LLM scaling point (fastest)')
    parser.add_argument('--frames', type=int, nargs='+',
                        default=[50, 100, 300],
                        help='clip lengths of the LLM scaling test')
    parser.add_argument('--candidates', type=int, nargs='+',
                        default=[10, 60, 120],
                        help='candidate counts of the LLM scaling test')
    parser.add_argument('--compare-clips', type=int, default=64,
                        help='test clips for scoring vs generation (0: skip)')
    parser.add_argument('--max-new-tokens', type=int, default=32,
                        help='generation length for scoring vs generation')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='config overrides')
    return parser.parse_args(argv)


def dataset_labels(dataset_cfg: Dict) -> List[int]:
    """The label of every sample of a dataset config, in dataset order
    (any ``indices`` subset dropped)."""
    from mmaction.registry import DATASETS
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    cfg = copy.deepcopy(dataset_cfg)
    cfg.pop('indices', None)
    dataset = DATASETS.build(cfg)
    return [
        int(dataset.get_data_info(i)['label']) for i in range(len(dataset))
    ]


def balanced_indices(labels: Sequence[int],
                     per_class: int = 0,
                     classes: Optional[Sequence[int]] = None) -> List[int]:
    """The first ``per_class`` positions of every class, in dataset order.

    Args:
        labels (Sequence[int]): The label of every sample.
        per_class (int): Samples kept per class; 0 keeps them all.
            Defaults to 0.
        classes (Sequence[int], optional): Keep these classes only.
            Defaults to None (all).

    Returns:
        list[int]: Sorted sample positions.

    Example:
        >>> balanced_indices([0, 0, 1, 1, 0, 2], per_class=1, classes=[0, 2])
        [0, 5]
    """
    kept, picks = dict(), []
    wanted = None if classes is None else set(classes)
    for i, label in enumerate(labels):
        if wanted is not None and label not in wanted:
            continue
        if per_class and kept.get(label, 0) >= per_class:
            continue
        kept[label] = kept.get(label, 0) + 1
        picks.append(i)
    return picks


def unseen_labels(cfg: Config) -> List[int]:
    """The unseen classes of the config's ``ZeroShotAccMetric``."""
    evaluators = cfg.test_evaluator
    if isinstance(evaluators, dict):
        evaluators = [evaluators]
    for evaluator in evaluators:
        if evaluator.get('type') == 'ZeroShotAccMetric':
            classes = evaluator['unseen_classes']
            if all(isinstance(c, int) for c in classes):
                return list(classes)
            from mmaction.registry import DATASETS
            names = DATASETS.build(
                copy.deepcopy(cfg.test_dataloader.dataset)).metainfo['classes']
            return [c if isinstance(c, int) else names.index(c)
                    for c in classes]
    raise ValueError(f'{cfg.filename}: --unseen-only needs a '
                     'ZeroShotAccMetric in test_evaluator')


def count_parameters(model: torch.nn.Module) -> Dict[str, int]:
    """Total and trainable (``requires_grad``) parameters as built."""
    params = list(model.parameters())
    return dict(
        params_total=sum(p.numel() for p in params),
        params_trainable=sum(p.numel() for p in params if p.requires_grad))


def checkpoint_size(path: str) -> Dict[str, float]:
    """The file size and the size of the weights it holds, in MB."""
    out = dict(checkpoint_mb=osp.getsize(path) / 2**20)
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    state = ckpt.get('state_dict', ckpt)
    out['weights_mb'] = sum(
        t.numel() * t.element_size() for t in state.values()
        if torch.is_tensor(t)) / 2**20
    return out


def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize()


@torch.no_grad()
def latency(model, inputs: torch.Tensor, samples: list,
            batches: Sequence[int] = LATENCY_BATCHES,
            reps: int = 5) -> Dict[str, Dict[str, float]]:
    """Median time of the ``predict`` forward pass per clip.

    Args:
        model: The recognizer, in eval mode.
        inputs (torch.Tensor): Preprocessed clips (N, 1, M, T, V, C),
            N >= max(batches).
        samples (list): N data samples.
        batches (Sequence[int]): Batch sizes. Defaults to (1, 16).
        reps (int): Timed calls per batch size, after one warm-up.

    Returns:
        dict: ``bs{B}`` -> ``ms_per_clip``, ``clips_per_s``, ``ms_per_batch``.
    """
    out = dict()
    for b in batches:
        x, s = inputs[:b], samples[:b]
        model(x, s, mode='predict')  # warm-up
        times = []
        for _ in range(max(reps, 1)):
            sync(inputs.device)
            start = time.perf_counter()
            model(x, s, mode='predict')
            sync(inputs.device)
            times.append(time.perf_counter() - start)
        t = statistics.median(times)
        out[f'bs{b}'] = dict(
            ms_per_batch=1e3 * t, ms_per_clip=1e3 * t / b, clips_per_s=b / t)
    return out


def test_clips(cfg: Config, model, picks: List[int], count: int):
    """``count`` preprocessed test clips (one per sample) and samples,
    repeated when the subset has fewer."""
    from mmengine.runner import Runner
    loader = copy.deepcopy(cfg.test_dataloader)
    loader.update(batch_size=count, num_workers=0, persistent_workers=False)
    loader.dataset.indices = picks[:count]
    batch = next(iter(Runner.build_dataloader(loader)))
    data = model.data_preprocessor(batch, False)
    inputs, samples = data['inputs'][:, :1], list(data['data_samples'])
    while len(samples) < count:
        inputs = torch.cat([inputs, inputs])[:count]
        samples = (samples * 2)[:count]
    return inputs, samples


def peak_rss_mb() -> float:
    """This process' peak resident memory so far (Linux: KB -> MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(args) -> Dict:
    from mmengine.runner import Runner

    import mmaction_sugar  # noqa: F401
    from mmaction_sugar.apis import last_stage_config
    cfg = last_stage_config(Config.fromfile(args.config))
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir
    cfg.load_from = args.checkpoint
    if 'encoder_checkpoint' in cfg.model:
        cfg.model.encoder_checkpoint = None  # the checkpoint holds it
    labels = dataset_labels(cfg.test_dataloader.dataset)
    classes = unseen_labels(cfg) if args.unseen_only else None
    picks = balanced_indices(labels, args.per_class, classes)
    if not picks:
        raise ValueError(f'{args.config}: no test clip selected')
    cfg.test_dataloader.dataset.indices = picks
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    runner = Runner.from_cfg(cfg)
    start = time.perf_counter()
    metrics = runner.test()
    result = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        threads=torch.get_num_threads(),
        metrics={k: float(v) for k, v in metrics.items()},
        test=dict(
            samples=len(picks),
            per_class=args.per_class,
            unseen_only=args.unseen_only,
            seconds=time.perf_counter() - start))
    model = getattr(runner.model, 'module', runner.model).eval()
    device = next(model.parameters()).device
    result.update(
        recognizer=type(model).__name__,
        device=str(device),
        is_llm=hasattr(model.cls_head, 'candidate_scores'))
    if args.no_cost:
        result['peak_rss_mb'] = peak_rss_mb()
        return result
    result.update(count_parameters(model))
    result.update(checkpoint_size(args.checkpoint))
    start = time.perf_counter()
    inputs, samples = test_clips(cfg, model, picks,
                                 max(*LATENCY_BATCHES, args.scaling_batch))
    result['latency'] = latency(model, inputs, samples, reps=args.reps)
    result['latency']['seconds'] = time.perf_counter() - start
    # peak memory of testing and the latency runs (before the LLM tests,
    # which load a second model)
    result['peak_rss_mb'] = peak_rss_mb()
    result['gpu_peak_mb'] = (
        torch.cuda.max_memory_allocated() / 2**20
        if device.type == 'cuda' else None)
    if result['is_llm']:
        result['llm'] = llm_scaling(args, cfg, model, inputs)
    return result


def llm_scaling(args, cfg: Config, model, inputs: torch.Tensor) -> Dict:
    """Scoring vs generation, latency vs T and vs the candidate count."""
    from benchmark_llm_inference import candidate_count, clip_length, compare
    out = dict(scaling_batch=args.scaling_batch, seconds=dict())
    start = time.perf_counter()
    if args.compare_clips > 0:
        out['compare'] = compare(cfg, model, args.compare_clips,
                                 args.scaling_batch, args.max_new_tokens)
        out['seconds']['compare'] = time.perf_counter() - start
    start = time.perf_counter()
    shape = (inputs.shape[2], inputs.shape[4], inputs.shape[5])  # M, V, C
    out['clip_length'] = clip_length(model, args.scaling_batch,
                                     args.scaling_reps, args.frames, shape)
    out['seconds']['clip_length'] = time.perf_counter() - start
    start = time.perf_counter()
    clips = inputs[:args.scaling_batch]  # (scaling_batch, 1, M, T, V, C)
    out['candidates'] = candidate_count(args.config, args.checkpoint, clips,
                                        args.candidates, args.scaling_reps)
    out['seconds']['candidates'] = time.perf_counter() - start
    return out


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(0)
    result = measure(args)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w', encoding='utf-8') as f:
        json.dump(result, f, indent=2)
    acc = result['metrics']
    print(json.dumps({k: round(v, 4) for k, v in acc.items()}))
    return result


if __name__ == '__main__':
    main()
