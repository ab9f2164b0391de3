# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Probe how well a knowledge's texts work as classification targets.

Extracts pooled backbone features of the training and validation sets with
a trained checkpoint, freezes them, and trains only a linear projection
into the text space under several settings of ``TextSupervisedHead``
(temperature, bag or mean-embedding scores, centred texts), next to a
plain linear classifier. Prints a table of validation top-1. This isolates
the text targets and the scoring rule from backbone training; it is how
the bag-score default of ``TextSupervisedHead`` was chosen.

Example::

    python tools/analysis/probe_text_targets.py \\
        configs/stgcn/stgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py \\
        work_dirs/baselines/stgcn/best_acc_top1_epoch_5.pth
"""
import argparse

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mmaction_sugar  # noqa: F401
from mmaction_sugar.models.heads import TextSupervisedHead
from mmaction_sugar.models.losses import mil_nce


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='config of the trained model')
    parser.add_argument('checkpoint', help='its checkpoint')
    parser.add_argument('--knowledge', default='synth_ntu',
                        help='knowledge name or path (default synth_ntu)')
    parser.add_argument('--epochs', type=int, default=60,
                        help='probe epochs (default 60)')
    parser.add_argument('--taus', type=float, nargs='+',
                        default=[0.07, 0.03, 0.01],
                        help='temperatures to try')
    return parser.parse_args()


@torch.no_grad()
def pooled_features(runner, loader):
    """(N, C) pooled backbone features and (N, ) labels of a loader."""
    model = runner.model.eval()
    feats, labels = [], []
    for batch in loader:
        data = model.data_preprocessor(batch, False)
        x = model.extract_feat(data['inputs'])[0]  # (N, M, C, T, V)
        feats.append(x.mean(dim=(1, 3, 4)))
        labels += [int(d.gt_label) for d in data['data_samples']]
    return torch.cat(feats), torch.tensor(labels)


def probe(train, val, head, kind, tau, centre, epochs):
    """Val top-1 of a projection trained on frozen features."""
    (xtr, ytr), (xva, yva) = train, val
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-5
    texts, mask = head.text_embeds, head.text_mask  # (C, B, D), (C, B)
    if centre:
        texts = F.normalize(texts - texts[mask].mean(0), dim=-1)
        texts = texts * mask[..., None]
    num_cls, bag, dim = texts.shape
    means = F.normalize(
        (texts * mask[..., None]).sum(1) / mask.sum(1, keepdim=True), dim=-1)
    torch.manual_seed(0)
    proj = torch.nn.Linear(xtr.shape[1], num_cls if kind == 'linear' else dim)
    optim = torch.optim.Adam(proj.parameters(), 1e-3)

    def scores(x, rule):
        s = F.normalize(proj(x), dim=-1)
        if rule == 'mean':
            return s @ means.T / tau
        sims = (s @ texts.reshape(-1, dim).T / tau).view(-1, num_cls, bag)
        sims = sims.masked_fill(~mask, float('-inf'))
        return sims.logsumexp(-1) - mask.sum(1).log()

    for _ in range(epochs):
        for idx in torch.randperm(len(xtr)).split(16):
            x, y = (xtr[idx] - mu) / sd, ytr[idx]
            if kind == 'linear':
                loss = F.cross_entropy(proj(x), y)
            else:
                s = F.normalize(proj(x), dim=-1)
                logits = s @ texts.reshape(-1, dim).T / tau
                positive = F.one_hot(y, num_cls).bool()[:, :, None].expand(
                    -1, -1, bag).reshape(len(y), -1)
                loss = mil_nce(logits, positive, mask.reshape(-1))
            optim.zero_grad()
            loss.backward()
            optim.step()
    with torch.no_grad():
        x = (xva - mu) / sd
        if kind == 'linear':
            return [(proj(x).argmax(1) == yva).float().mean().item()]
        return [(scores(x, rule).argmax(1) == yva).float().mean().item()
                for rule in ('bag', 'mean')]


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.work_dir = 'work_dirs/probe_text_targets'
    cfg.load_from = args.checkpoint
    cfg.train_dataloader.dataset.dataset.pipeline = cfg.val_pipeline
    cfg.train_dataloader.sampler = dict(type='DefaultSampler', shuffle=False)
    init_default_scope('mmaction')
    runner = Runner.from_cfg(cfg)
    runner.load_or_resume()
    train = pooled_features(runner, runner.train_dataloader)
    val = pooled_features(runner, runner.val_dataloader)
    head = TextSupervisedHead(in_channels=1, knowledge=args.knowledge)
    print('\n| probe | tau | centred texts | val top-1, bag scores | '
          'val top-1, mean-embedding scores |')
    print('|---|---|---|---|---|')
    acc = probe(train, val, head, 'linear', 1., False, args.epochs)[0]
    print(f'| linear classifier (CE) | - | - | {100 * acc:.2f} | - |')
    for tau in args.taus:
        for centre in (False, True):
            bag, mean = probe(train, val, head, 'milnce', tau, centre,
                              args.epochs)
            print(f'| MIL-NCE | {tau} | {centre} | {100 * bag:.2f} | '
                  f'{100 * mean:.2f} |')


if __name__ == '__main__':
    main()
