# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Compare an LLM recognizer's two ways to predict, in one run.

* candidate scoring (``LLMHead.scores``): the exact log-likelihood of every
  candidate name, in one forward pass per batch;
* free generation (``LLMHead.generate_text`` + class-name mapping): greedy
  decoding of the name and the description.

Both run on the same test clips and soft tokens; the table gives the
time per clip, the top-1 of each, and their ratio. A second table gives
the LLM-side latency (neck + scoring, the encoder excluded) for encoder
feature maps of 100- and 300-frame clips: TQP emits the same number of
soft tokens for both, so the LLM's cost should not grow.

Example:
    python tools/analysis/benchmark_llm_inference.py \\
        configs/sugar_synthntu.py \\
        work_dirs/sugar_synthntu/stage3/epoch_1.pth --num-clips 64
"""
import argparse
import json
import time

import torch


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a stage-3 (or multi-stage) config')
    parser.add_argument('checkpoint', help='its trained checkpoint')
    parser.add_argument('--num-clips', type=int, default=64)
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--max-new-tokens', type=int, default=32)
    parser.add_argument(
        '--repeats',
        type=int,
        default=3,
        help='timed repeats of the clip-length test')
    parser.add_argument('--out', help='write the results as JSON here')
    return parser.parse_args(argv)


def load_model(config, checkpoint):
    """Build the recognizer, load its checkpoint, and the val loader."""
    from mmaction.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint

    import mmaction_sugar  # noqa: F401
    from mmaction_sugar.apis import last_stage_config
    init_default_scope('mmaction')
    cfg = last_stage_config(Config.fromfile(config))
    cfg.model.encoder_checkpoint = None  # the checkpoint holds the encoder
    model = MODELS.build(cfg.model)
    load_checkpoint(model, checkpoint, map_location='cpu', logger='silent')
    return cfg, model.eval()


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


@torch.no_grad()
def compare(cfg, model, num_clips, batch_size, max_new_tokens):
    """Scoring vs generation on ``num_clips`` test clips (evenly spaced)."""
    from mmengine.runner import Runner
    loader_cfg = cfg.test_dataloader.copy()
    loader_cfg.batch_size = batch_size
    total = len(Runner.build_dataloader(loader_cfg).dataset)
    step = max(total // num_clips, 1)
    loader_cfg.dataset.indices = list(range(0, total, step))[:num_clips]
    loader = Runner.build_dataloader(loader_cfg)
    head = model.cls_head
    head.max_new_tokens = max_new_tokens
    matcher = head._matcher()
    stats = dict(
        score_s=0.,
        generate_s=0.,
        score_hits=0,
        generate_hits=0,
        clips=0,
        off_list=0)
    for batch in loader:
        data = model.data_preprocessor(batch, False)
        soft = model(data['inputs'], mode='tensor')
        labels = torch.tensor([int(d.gt_label) for d in data['data_samples']])
        scores, t_score = timed(lambda: head.scores(soft))
        texts, t_gen = timed(lambda: head.generate_text(soft))
        mapped = []
        for text in texts:
            index, rule = matcher(text)
            mapped.append(int(head.test_index[index]))
            stats['off_list'] += rule not in ('exact', 'normalised')
        stats['score_s'] += t_score
        stats['generate_s'] += t_gen
        stats['score_hits'] += int((scores.argmax(1) == labels).sum())
        stats['generate_hits'] += int((torch.tensor(mapped) == labels).sum())
        stats['clips'] += len(labels)
    n = stats['clips']
    return dict(
        clips=n,
        score_ms_per_clip=1e3 * stats['score_s'] / n,
        generate_ms_per_clip=1e3 * stats['generate_s'] / n,
        speedup=stats['generate_s'] / stats['score_s'],
        score_top1=100. * stats['score_hits'] / n,
        generate_top1=100. * stats['generate_hits'] / n,
        generate_off_list=stats['off_list'])


@torch.no_grad()
def clip_length(model, batch_size, repeats):
    """LLM-side latency (neck + scoring) for 100- and 300-frame clips."""
    channels = model.neck.in_channels
    out = dict()
    for frames in (100, 300):
        feats = torch.randn(batch_size, 2, channels, frames // 4, 25)
        model.cls_head.scores(model.neck(feats))  # warm-up
        times = []
        for _ in range(repeats):
            _, t = timed(lambda: model.cls_head.scores(model.neck(feats)))
            times.append(t)
        out[frames] = 1e3 * min(times) / batch_size
    return dict(
        ms_per_clip_T100=out[100],
        ms_per_clip_T300=out[300],
        ratio_T300_T100=out[300] / out[100])


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
                        args.max_new_tokens),
        clip_length=clip_length(model, args.batch_size, args.repeats))
    c, t = result['compare'], result['clip_length']
    print(f'\n{c["clips"]} clips, batch {args.batch_size}, '
          f'{result["threads"]} threads\n')
    print('| prediction | ms / clip | top-1 |')
    print('|---|---|---|')
    print(f'| candidate scoring | {c["score_ms_per_clip"]:.1f} | '
          f'{c["score_top1"]:.2f} |')
    print(f'| free generation (<= {args.max_new_tokens} tokens) | '
          f'{c["generate_ms_per_clip"]:.1f} | {c["generate_top1"]:.2f} |')
    print(f'\nscoring is {c["speedup"]:.2f}x faster than generation; '
          f'{c["generate_off_list"]} answers named no candidate exactly')
    print('\n| clip length | LLM-side ms / clip |')
    print('|---|---|')
    print(f'| T=100 | {t["ms_per_clip_T100"]:.1f} |')
    print(f'| T=300 | {t["ms_per_clip_T300"]:.1f} |')
    print(f'\nT=300 / T=100: {t["ratio_T300_T100"]:.2f}x')
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
