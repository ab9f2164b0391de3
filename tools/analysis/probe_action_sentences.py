# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Probe how much class information an LLM-AR tokenizer's sentences carry.

Tokenizes the training and validation clips with a trained stage-1
``ActionVQVAE`` checkpoint and fits two linear classifiers on the action
sentences alone: on the bag of codes (a K-bin histogram, order ignored)
and on the code sequence (one-hot per position). Prints their training
and validation top-1 as a Markdown table. A tokenizer whose sentences
probe well but whose stage-2 LLM scores low is held back by the LLM's
training, not by the tokens.

Example::

    python tools/analysis/probe_action_sentences.py \\
        configs/llmar_synthntu.py \\
        work_dirs/llmar_synthntu/stage1/best_tokenizer_mpjpe_epoch_40.pth

(a multi-stage config stands for its first stage, the tokenizer)
"""
import argparse
import copy

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, load_checkpoint

import mmaction_sugar  # noqa: F401
from mmaction_sugar.apis import is_multi_stage, stage_config, stage_list


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='stage-1 (ActionVQVAE) config')
    parser.add_argument('checkpoint', help='its checkpoint')
    parser.add_argument('--steps', type=int, default=500,
                        help='full-batch Adam steps per probe (default 500)')
    return parser.parse_args(argv)


@torch.no_grad()
def sentences(model, loader_cfg):
    """Action sentences (N, W) and labels (N, ) of a dataloader config."""
    codes, labels = [], []
    for batch in Runner.build_dataloader(loader_cfg):
        data = model.data_preprocessor(batch, False)
        codes.append(model(data['inputs'], mode='tensor'))
        labels += [int(s.gt_label) for s in data['data_samples']]
    return torch.cat(codes), torch.tensor(labels)


def probe(train, test, num_classes, steps):
    """Train / test top-1 (%) of a linear classifier on fixed features."""
    (x, y), (xt, yt) = train, test
    torch.manual_seed(0)
    linear = torch.nn.Linear(x.shape[1], num_classes)
    optim = torch.optim.Adam(linear.parameters(), 1e-2, weight_decay=1e-4)
    for _ in range(steps):
        loss = F.cross_entropy(linear(x), y)
        optim.zero_grad()
        loss.backward()
        optim.step()
    with torch.no_grad():
        return [100 * (linear(a).argmax(1) == b).float().mean().item()
                for a, b in ((x, y), (xt, yt))]


def main(argv=None):
    args = parse_args(argv)
    init_default_scope('mmaction')
    cfg = Config.fromfile(args.config)
    if is_multi_stage(cfg):
        cfg = stage_config(cfg, stage_list(cfg)[0])
    if cfg.model.get('type') != 'ActionVQVAE':
        raise SystemExit(f'{args.config}: expected an ActionVQVAE config '
                         f'(LLM-AR stage 1), got {cfg.model.get("type")}')
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True)
    model.eval()
    # the training clips through the deterministic validation pipeline
    train_cfg = copy.deepcopy(cfg.train_dataloader)
    dataset = train_cfg.dataset
    if dataset.get('type') == 'RepeatDataset':
        dataset = dataset.dataset
    dataset.pipeline = cfg.val_dataloader.dataset.pipeline
    train_cfg.dataset = dataset
    train = sentences(model, train_cfg)
    test = sentences(model, cfg.val_dataloader)
    num_classes = int(max(train[1].max(), test[1].max())) + 1
    k = model.num_codes
    rows = []
    for name, encode in (
        ('bag of codes', lambda c: F.one_hot(c, k).float().mean(1)),
        ('code sequence', lambda c: F.one_hot(c, k).float().flatten(1)),
    ):
        acc = probe((encode(train[0]), train[1]),
                    (encode(test[0]), test[1]), num_classes, args.steps)
        rows.append((name, *acc))
    print(f'{len(train[1])} training / {len(test[1])} validation clips, '
          f'{train[0].shape[1]} codes each, {k}-code vocabulary')
    print('| probe | train top-1 | val top-1 |')
    print('|---|---|---|')
    for name, acc_train, acc_val in rows:
        print(f'| {name} | {acc_train:.2f} | {acc_val:.2f} |')
    return rows


if __name__ == '__main__':
    main()
