# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Compare an LLM recognizer's two ways to predict, and time its LLM side.

* candidate scoring (``LLMHead.scores``), both ways: ``exact`` (the
  log-likelihood of every candidate name, the whole name trie in one
  forward pass per batch) and ``topk`` (best-first trie search that keeps
  the top-5 exact and expands only prefixes that can still reach it);
* free generation (``LLMHead.generate_text`` + class-name mapping): greedy
  decoding of the name and the description.

Both run on the same test clips and LLM inputs; the first table gives the
time per clip, the top-1 of each, and their ratio. The second gives the
LLM-side latency (the neck or the action-sentence embedding, then the
candidate scores; the skeleton encoder excluded) for clips of T = 50, 100
and 300 frames: SUGAR's TQP emits the same number of soft tokens whatever
T, LLM-AR's action sentence grows with T. The third gives it against the
number of candidate classes (10, 60, 120): names beyond the dataset's
come from the NTU RGB+D 120 knowledge. Works for ``SugarRecognizer`` and
``LLMARRecognizer`` checkpoints (SUGAR stage 3, LLM-AR stage 2).

Example:
    python tools/analysis/benchmark_llm_inference.py \\
        configs/sugar_synthntu.py \\
        work_dirs/sugar_synthntu/stage3/epoch_1.pth --num-clips 64
"""
import argparse
import json
import time
from typing import Dict, List, Sequence

import torch


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a stage-3 (or multi-stage) config')
    parser.add_argument('checkpoint', help='its trained checkpoint')
    parser.add_argument('--num-clips', type=int, default=64)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--max-new-tokens', type=int, default=32)
    parser.add_argument(
        '--score-search',
        choices=['exact', 'topk'],
        help='the scoring compared with generation (both are timed); '
        "default: the config's model.cls_head.score_search")
    parser.add_argument(
        '--repeats',
        type=int,
        default=3,
        help='timed repeats of the clip-length and candidate tests')
    parser.add_argument(
        '--frames',
        type=int,
        nargs='+',
        default=[50, 100, 300],
        help='clip lengths T of the LLM-side latency test')
    parser.add_argument(
        '--candidates',
        type=int,
        nargs='+',
        default=[10, 60, 120],
        help='candidate counts of the LLM-side latency test (0: skip)')
    parser.add_argument(
        '--knowledge',
        default='ntu120',
        help='knowledge that supplies names beyond the dataset\'s')
    parser.add_argument('--out', help='write the results as JSON here')
    return parser.parse_args(argv)


def load_model(config, checkpoint, head_options=None):
    """Build the recognizer, load its checkpoint, and the val loader.

    Args:
        config (str): A stage config, or a multi-stage config (its last
            stage is used).
        checkpoint (str): The trained checkpoint (it holds the encoder).
        head_options (dict, optional): Overrides of ``model.cls_head``,
            e.g. ``dict(knowledge='ntu120')``.
    """
    from mmaction.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint

    import mmaction_sugar  # noqa: F401
    from mmaction_sugar.apis import last_stage_config
    init_default_scope('mmaction')
    cfg = last_stage_config(Config.fromfile(config))
    cfg.model.encoder_checkpoint = None  # the checkpoint holds the encoder
    cfg.model.cls_head.update(head_options or dict())
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu', logger='silent')
    return cfg, model.eval()


def timed(fn):
    start = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return out, time.perf_counter() - start


def llm_inputs(model, feats: torch.Tensor) -> torch.Tensor:
    """What the LLM reads, (N, Q, H): SUGAR's soft tokens from the neck, or
    LLM-AR's embedded action sentence (no neck; ``feats`` are codes)."""
    if model.with_neck:
        return model.neck(feats)
    return model.cls_head.embed_codes(feats)


@torch.no_grad()
def compare(cfg,
            model,
            num_clips,
            batch_size,
            max_new_tokens,
            score_search=None):
    """Scoring (exact and top-k search) vs generation on ``num_clips``
    test clips (a fixed random subset).

    Returns:
        dict: ``<way>_ms_per_clip``, ``<way>_top1`` and ``<way>_top5`` for
        ``exact`` and ``topk`` (``generate``: top-1 only); ``score_*`` and
        ``speedup`` (generation time / scoring time) for ``score_search``
        (None: the head's configured ``score_search``).
    """
    from mmengine.runner import Runner
    loader_cfg = cfg.test_dataloader.copy()
    loader_cfg.batch_size = batch_size
    loader_cfg.dataset.indices = None  # the whole split
    total = len(Runner.build_dataloader(loader_cfg).dataset)
    # a fixed random subset: evenly spaced indices can hit few classes
    pick = torch.randperm(total, generator=torch.Generator().manual_seed(0))
    loader_cfg.dataset.indices = sorted(pick[:num_clips].tolist())
    loader = Runner.build_dataloader(loader_cfg)
    head = model.cls_head
    head.max_new_tokens = max_new_tokens
    configured = head.score_search
    score_search = score_search or configured
    matcher = head._matcher()
    ways = ('exact', 'topk')
    stats = dict(clips=0, samples=0, off_list=0, generate_s=0.,
                 generate_hits=0)
    for way in ways:
        stats.update({f'{way}_s': 0., f'{way}_hits': 0, f'{way}_top5': 0})
    for batch in loader:
        data = model.data_preprocessor(batch, False)
        feats = model.extract_feat(data['inputs'], stage='backbone')[0]
        tokens = llm_inputs(model, feats)
        labels = torch.tensor([int(d.gt_label) for d in data['data_samples']])
        clips = len(tokens) // len(labels)  # several clips per sample
        for way in ways:
            head.score_search = way
            scores, t_score = timed(lambda: head.scores(tokens))
            scores = scores.view(len(labels), clips, -1).mean(1).cpu()
            stats[f'{way}_s'] += t_score
            stats[f'{way}_hits'] += int((scores.argmax(1) == labels).sum())
            top5 = scores.topk(min(5, scores.shape[1]), dim=1).indices
            stats[f'{way}_top5'] += int(
                (top5 == labels[:, None]).any(1).sum())
        head.score_search = configured
        texts, t_gen = timed(lambda: head.generate_text(tokens))
        mapped = []
        for text in texts:
            index, rule = matcher(text)
            mapped.append(int(head.test_index[index]))
            stats['off_list'] += rule not in ('exact', 'normalised')
        mapped = torch.tensor(mapped).view(len(labels), clips)[:, 0]
        stats['generate_s'] += t_gen
        stats['generate_hits'] += int((mapped == labels).sum())
        stats['clips'] += len(tokens)
        stats['samples'] += len(labels)
    n, samples = stats['clips'], stats['samples']
    out = dict(
        clips=n,
        samples=samples,
        score_search=score_search,
        generate_ms_per_clip=1e3 * stats['generate_s'] / n,
        generate_top1=100. * stats['generate_hits'] / samples,
        generate_off_list=stats['off_list'])
    for way in ways:
        out[f'{way}_ms_per_clip'] = 1e3 * stats[f'{way}_s'] / n
        out[f'{way}_top1'] = 100. * stats[f'{way}_hits'] / samples
        out[f'{way}_top5'] = 100. * stats[f'{way}_top5'] / samples
    out.update(
        score_ms_per_clip=out[f'{score_search}_ms_per_clip'],
        score_top1=out[f'{score_search}_top1'],
        speedup=stats['generate_s'] / stats[f'{score_search}_s'])
    return out


def _best_ms_per_clip(fn, clips: int, repeats: int) -> float:
    fn()  # warm-up (and the prompt cache)
    return 1e3 * min(timed(fn)[1] for _ in range(max(repeats, 1))) / clips


@torch.no_grad()
def clip_length(model,
                batch_size: int,
                repeats: int,
                frames: Sequence[int] = (100, 300),
                shape: Sequence[int] = (2, 25, 3)) -> Dict:
    """LLM-side latency (neck or code embedding + scoring) against the
    clip length; the encoder runs first, untimed.

    Args:
        model: A ``SugarRecognizer`` or ``LLMARRecognizer``.
        batch_size (int): Clips per timed call.
        repeats (int): Timed calls per length (the fastest counts).
        frames (Sequence[int]): Clip lengths T. Defaults to (100, 300).
        shape (Sequence[int]): Persons, joints, coordinates of a clip.
            Defaults to (2, 25, 3).

    Returns:
        dict: ``ms_per_clip_T{T}`` and ``llm_tokens_T{T}`` (the LLM's
        inputs per clip) for every T, and ``ratio_T300_T100`` when both
        lengths were timed.
    """
    device = next(model.parameters()).device
    out = dict()
    for t in frames:
        clips = torch.randn(batch_size, 1, shape[0], t, *shape[1:],
                            device=device)  # (N, clips, M, T, V, C)
        feats = model.extract_feat(clips, stage='backbone')[0]
        out[f'llm_tokens_T{t}'] = int(llm_inputs(model, feats).shape[1])
        out[f'ms_per_clip_T{t}'] = _best_ms_per_clip(
            lambda: model.cls_head.scores(llm_inputs(model, feats)),
            batch_size, repeats)
    if 100 in frames and 300 in frames:
        out['ratio_T300_T100'] = (
            out['ms_per_clip_T300'] / out['ms_per_clip_T100'])
    return out


def candidate_names(dataset_names: Sequence[str],
                    knowledge: str = 'ntu120') -> List[str]:
    """The dataset's class names, then the other names of ``knowledge``
    (only names that the knowledge has can be candidates)."""
    from mmaction_sugar.datasets.action_knowledge import ActionKnowledge
    extra = ActionKnowledge.load(knowledge).class_names
    names = [n for n in dataset_names if n in extra]
    return names + [n for n in extra if n not in names]


@torch.no_grad()
def candidate_count(config: str,
                    checkpoint: str,
                    inputs: torch.Tensor,
                    counts: Sequence[int] = (10, 60, 120),
                    repeats: int = 3,
                    knowledge: str = 'ntu120') -> Dict:
    """LLM-side latency against the number of candidate classes.

    The recognizer is rebuilt over ``knowledge`` (its trained weights do
    not depend on the class list) and scores the first ``n`` names of
    :func:`candidate_names` for every ``n`` in ``counts``.

    Args:
        config (str): The recognizer's config.
        checkpoint (str): Its checkpoint.
        inputs (torch.Tensor): Clips (N, num_clips, M, T, V, C); the
            encoder runs on them once, untimed.
        counts (Sequence[int]): Candidate counts. Defaults to
            (10, 60, 120).
        repeats (int): Timed calls per count (the fastest counts).
        knowledge (str): Knowledge with the extra names. Defaults to
            ``'ntu120'``.

    Returns:
        dict: ``ms_per_clip`` (exact scoring), ``topk_ms_per_clip``
        (top-k search) and ``trie_nodes`` (token positions exact scoring
        runs per clip) keyed by the count as a string; counts beyond the
        knowledge's size are left out.
    """
    from mmengine.config import Config

    from mmaction_sugar.apis import last_stage_config
    from mmaction_sugar.datasets.action_knowledge import ActionKnowledge
    own = last_stage_config(Config.fromfile(config)).model.cls_head.get(
        'knowledge', 'synth_ntu')  # LLMHead's default
    names = candidate_names(
        ActionKnowledge.load(own).class_names, knowledge)
    _, model = load_model(config, checkpoint, dict(knowledge=knowledge))
    model.to(inputs.device)
    head = model.cls_head
    feats = model.extract_feat(inputs, stage='backbone')[0]
    tokens = llm_inputs(model, feats)
    out = dict(ms_per_clip=dict(), topk_ms_per_clip=dict(), trie_nodes=dict())
    for n in counts:
        if n > len(names):
            continue
        head.set_test_classes(names[:n])
        ways = (('exact', 'ms_per_clip'), ('topk', 'topk_ms_per_clip'))
        for way, key in ways:
            head.score_search = way
            out[key][str(n)] = _best_ms_per_clip(
                lambda: head.scores(tokens), len(tokens), repeats)
        trie = head._trie(head.test_index)  # token positions scored
        out['trie_nodes'][str(n)] = int(len(trie.tokens))
    return out


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(0)
    cfg, model = load_model(args.config, args.checkpoint)
    result = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        batch_size=args.batch_size,
        threads=torch.get_num_threads(),
        compare=compare(cfg, model, args.num_clips, args.batch_size,
                        args.max_new_tokens, args.score_search),
        clip_length=clip_length(model, args.batch_size, args.repeats,
                                args.frames))
    counts = [n for n in args.candidates if n > 0]
    if counts:
        clips = torch.randn(args.batch_size, 1, 2, 32, 25, 3)
        result['candidates'] = candidate_count(
            args.config, args.checkpoint, clips, counts, args.repeats,
            args.knowledge)
    c, t = result['compare'], result['clip_length']
    print(f'\n{c["clips"]} clips, batch {args.batch_size}, '
          f'{result["threads"]} threads\n')
    print('| prediction | ms / clip | top-1 |')
    print('|---|---|---|')
    for way in ('exact', 'topk'):
        print(f'| candidate scoring, {way} | {c[f"{way}_ms_per_clip"]:.1f} '
              f'| {c[f"{way}_top1"]:.2f} |')
    print(f'| free generation (<= {args.max_new_tokens} tokens) | '
          f'{c["generate_ms_per_clip"]:.1f} | {c["generate_top1"]:.2f} |')
    print(f'\nscoring ({c["score_search"]}) is {c["speedup"]:.2f}x '
          'faster than generation; '
          f'{c["generate_off_list"]} answers named no candidate exactly')
    print('\n| clip length | LLM tokens | LLM-side ms / clip |')
    print('|---|---|---|')
    for frames in args.frames:
        print(f'| T={frames} | {t[f"llm_tokens_T{frames}"]} | '
              f'{t[f"ms_per_clip_T{frames}"]:.1f} |')
    if 'ratio_T300_T100' in t:
        print(f'\nT=300 / T=100: {t["ratio_T300_T100"]:.2f}x')
    if counts:
        cand = result['candidates']
        print('\n| candidates | trie tokens | LLM-side ms / clip, exact | '
              'top-k search |')
        print('|---|---|---|---|')
        for n, ms in cand['ms_per_clip'].items():
            print(f'| {n} | {cand["trie_nodes"][n]} | {ms:.1f} | '
                  f'{cand["topk_ms_per_clip"][n]:.1f} |')
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
