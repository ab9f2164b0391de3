# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""t-SNE of skeleton and class-text embeddings before and after training.

SUGAR's Figures 5 and 6: the stage-2 encoder's skeleton features of test
clips, projected into the text space by the
:class:`~mmaction_sugar.models.heads.TextSupervisedHead` (``embed``: pooled
backbone features, linear projection, L2 norm), together with the
class-text embeddings of the same space (the frozen text encoder's
description embeddings of each class, averaged: ``class_embeds``; or every
description with ``--texts all``). Two panels side by side: the model
built from the config with its random initialisation ("before") and the
trained checkpoint ("after"), each with its own t-SNE of skeleton and text
points together; dots are clips and stars class texts, coloured by class.
Each panel's title gives the top-1 of those clips (class scores of the
head, clip probabilities averaged as in testing).

The clips are ``--num-clips`` samples spread evenly over the config's test
split (its test pipeline, e.g. two 32-frame clips per sample).

Example:
    python tools/visualize/embeddings_tsne.py \
        configs/sugar/sugar-stage2_stgcn_1xb16-joint-u32-5e_synthntu-\
xsub-keypoint-3d.py work_dirs/sugar_stage2/best_acc_top1_epoch_5.pth \
        --out tsne.png --num-clips 512
"""
import argparse
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.lines import Line2D
from vis_utils import (check_out_file, class_colours, exit_on_error,
                       load_config, save_figure)


def build_recognizer(cfg, checkpoint: Optional[str], seed: int = 0):
    """The stage-2 recognizer, randomly initialised or from a checkpoint.

    Args:
        cfg (mmengine.config.Config): A SUGAR stage-2 config.
        checkpoint (str, optional): The trained checkpoint; None keeps the
            config's random initialisation (``init_weights``).
        seed (int): Seed of the random initialisation. Defaults to 0.

    Returns:
        torch.nn.Module: The recognizer, in eval mode.

    Raises:
        ValueError: If the head is not a text-supervised head or the
            checkpoint does not match the config.
    """
    from mmaction.registry import MODELS
    from mmengine.runner import load_checkpoint
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = MODELS.build(cfg.model)
        model.init_weights()
    head = getattr(model, 'cls_head', None)
    if not (hasattr(head, 'embed') and hasattr(head, 'class_embeds')):
        raise ValueError(f'{cfg.filename}: expected a SUGAR stage-2 config '
                         '(model.cls_head a TextSupervisedHead), got '
                         f'{type(head).__name__}')
    if checkpoint is not None:
        if not osp.isfile(checkpoint):
            raise ValueError(f'{checkpoint}: checkpoint does not exist')
        try:  # torch.load(weights_only=True) with the plugin's allow-list
            load_checkpoint(
                model, checkpoint, 'cpu', strict=True, logger='current')
        except RuntimeError as err:
            first = str(err).strip().splitlines()[0]
            raise ValueError(f'{checkpoint}: does not match {cfg.filename}: '
                             f'{first}') from None
    return model.eval()


def test_dataset(cfg):
    """The config's test dataset (its test pipeline).

    Args:
        cfg (mmengine.config.Config): The config.

    Returns:
        mmengine.dataset.BaseDataset: The dataset.
    """
    from mmaction.registry import DATASETS
    return DATASETS.build(cfg.test_dataloader.dataset)


def spread_indices(total: int, num: int) -> np.ndarray:
    """``num`` indices spread evenly over ``range(total)`` (all if fewer).

    Args:
        total (int): The dataset size.
        num (int): How many to take.

    Returns:
        np.ndarray: Distinct increasing indices.
    """
    if num >= total:
        return np.arange(total)
    return np.linspace(0, total - 1, num).round().astype(int)


@torch.no_grad()
def embed_clips(model,
                dataset,
                indices: Sequence[int],
                batch_size: int = 16) -> Tuple[np.ndarray, ...]:
    """Skeleton embeddings, labels and predictions of some samples.

    Args:
        model (torch.nn.Module): The stage-2 recognizer (eval mode).
        dataset (BaseDataset): The test dataset.
        indices (Sequence[int]): The samples.
        batch_size (int): Samples per forward pass. Defaults to 16.

    Returns:
        tuple[np.ndarray, ...]: Embeddings (N, D), L2-normalised means of
        each sample's clips; true labels (N, ); predicted labels (N, ),
        the head's scores over its candidates, clip probabilities
        averaged.
    """
    from mmengine.dataset import pseudo_collate
    head = model.cls_head
    embeds, labels, preds = [], [], []
    for start in range(0, len(indices), batch_size):
        batch = [dataset[int(i)] for i in indices[start:start + batch_size]]
        data = model.data_preprocessor(pseudo_collate(batch), False)
        inputs = data['inputs']  # (N, clips, M, T, V, C)
        num, clips = inputs.shape[:2]
        feats, _ = model.extract_feat(inputs)  # (N * clips, M, C, T, V)
        clip_embeds = head.embed(feats)  # (N * clips, D)
        scores = head.class_scores(clip_embeds, head.test_index)
        probs = scores.softmax(-1).view(num, clips, -1).mean(1)  # (N, C')
        preds.append(head.test_index[probs.argmax(-1)])
        embeds.append(F.normalize(clip_embeds.view(num, clips, -1).mean(1)))
        labels += [int(d.gt_label) for d in data['data_samples']]
    return (torch.cat(embeds).numpy(), np.array(labels),
            torch.cat(preds).numpy())


def text_points(head, texts: str = 'mean') -> Tuple[np.ndarray, np.ndarray]:
    """The class-text embeddings of a text-supervised head.

    Args:
        head (TextSupervisedHead): The head.
        texts (str): ``'mean'`` (one normalised mean per class) or
            ``'all'`` (every description). Defaults to ``'mean'``.

    Returns:
        tuple[np.ndarray, np.ndarray]: Embeddings (K, D) and their class
        labels (K, ).
    """
    if texts == 'mean':
        return (head.class_embeds.cpu().numpy(),
                np.arange(len(head.class_embeds)))
    mask = head.text_mask.cpu()  # (C, B)
    labels = torch.arange(len(mask))[:, None].expand_as(mask)[mask]
    return head.text_embeds.cpu()[mask].numpy(), labels.numpy()


def _normalise(x: np.ndarray) -> np.ndarray:
    """L2-normalise rows."""
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def tsne(points: np.ndarray, perplexity: float = 30., seed: int = 0):
    """2-D t-SNE (scikit-learn) of some points.

    Args:
        points (np.ndarray): Shape (N, D), N >= 5.
        perplexity (float): Capped at (N - 1) / 3. Defaults to 30.
        seed (int): Random state. Defaults to 0.

    Returns:
        np.ndarray: Shape (N, 2).
    """
    from sklearn.manifold import TSNE
    perplexity = min(perplexity, (len(points) - 1) / 3)
    return TSNE(
        n_components=2, perplexity=perplexity, init='pca',
        random_state=seed).fit_transform(points.astype(np.float64))


def panel(model,
          dataset,
          indices: Sequence[int],
          batch_size: int = 16,
          texts: str = 'mean',
          perplexity: float = 30.,
          seed: int = 0,
          center: bool = False) -> Dict:
    """Embed, score and lay out one model's clips and class texts.

    Args:
        model (torch.nn.Module): The recognizer.
        dataset (BaseDataset): The test dataset.
        indices (Sequence[int]): The samples.
        batch_size (int): Samples per forward pass. Defaults to 16.
        texts (str): See :func:`text_points`. Defaults to ``'mean'``.
        perplexity (float): See :func:`tsne`. Defaults to 30.
        seed (int): See :func:`tsne`. Defaults to 0.
        center (bool): Subtract each modality's mean embedding (and
            re-normalise) before t-SNE. Defaults to False.

    Returns:
        dict: ``skeleton`` (N, 2), ``labels`` (N, ), ``text`` (K, 2),
        ``text_labels`` (K, ) and ``top1``.
    """
    embeds, labels, preds = embed_clips(model, dataset, indices, batch_size)
    text_embeds, text_labels = text_points(model.cls_head, texts)
    if center:  # close the modality gap: both clouds around the origin
        embeds, text_embeds = (
            _normalise(x - x.mean(0)) for x in (embeds, text_embeds))
    layout = tsne(np.concatenate([embeds, text_embeds]), perplexity, seed)
    return dict(
        skeleton=layout[:len(embeds)],
        labels=labels,
        text=layout[len(embeds):],
        text_labels=text_labels,
        top1=float((labels == preds).mean()))


def plot_panels(panels: Sequence[Tuple[str, Dict]],
                class_names: Sequence[str],
                out_file: str,
                dpi: int = 90) -> str:
    """Draw the t-SNE panels side by side with one class legend.

    Args:
        panels (Sequence[tuple[str, dict]]): Title and :func:`panel`.
        class_names (Sequence[str]): The class names, in label order.
        out_file (str): The ``.png`` (``.pdf``, ``.svg``) to write.
        dpi (int): Resolution. Defaults to 90.

    Returns:
        str: ``out_file``.
    """
    colours = class_colours(len(class_names))
    fig, axes = plt.subplots(
        1, len(panels), figsize=(5.2 * len(panels), 7.0), squeeze=False)
    for ax, (title, p) in zip(axes[0], panels):
        ax.scatter(
            *p['skeleton'].T,
            s=7,
            c=colours[p['labels']],
            alpha=0.75,
            linewidths=0)
        ax.scatter(
            *p['text'].T,
            s=90,
            marker='*',
            c=colours[p['text_labels']],
            edgecolors='black',
            linewidths=0.6)
        ax.set_title(
            f'{title}\ntop-1 {p["top1"]:.1%} on '
            f'{len(p["labels"])} test samples',
            fontsize=10)
        ax.set(xticks=[], yticks=[])
    handles = [
        Line2D([], [], ls='', marker='o', ms=5, color=colours[i], label=name)
        for i, name in enumerate(class_names)
    ]
    handles += [
        Line2D([], [],
               ls='',
               marker='o',
               ms=4,
               color='grey',
               label='skeleton (test sample)'),
        Line2D([], [],
               ls='',
               marker='*',
               ms=9,
               color='grey',
               markeredgecolor='black',
               label='class text')
    ]
    fig.legend(
        handles=handles,
        loc='lower center',
        ncol=4,
        fontsize=6.5,
        frameon=False)
    rows = -(-len(handles) // 4)  # legend rows under the panels
    fig.subplots_adjust(
        left=0.02, right=0.98, top=0.93, wspace=0.05, bottom=0.024 * rows)
    return save_figure(fig, out_file, dpi)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (Sequence[str], optional): The arguments. Defaults to None.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description='t-SNE of skeleton and class-text embeddings of a SUGAR '
        'stage-2 model, before and after training')
    parser.add_argument('config', help='SUGAR stage-2 config')
    parser.add_argument('checkpoint', help='trained stage-2 checkpoint')
    parser.add_argument(
        '--out', required=True, help='the .png (or .pdf, .svg) to write')
    parser.add_argument(
        '--num-clips',
        type=int,
        default=512,
        help='test samples to embed, spread over the split (default: 512)')
    parser.add_argument(
        '--texts',
        choices=['mean', 'all'],
        default='mean',
        help="class texts: each class's mean description embedding, or "
        "every description (default: 'mean')")
    parser.add_argument(
        '--perplexity', type=float, default=30, help='t-SNE perplexity')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='seed of the random initialisation and of t-SNE (default: 0)')
    parser.add_argument(
        '--batch-size', type=int, default=16, help='samples per forward')
    parser.add_argument(
        '--center',
        action='store_true',
        help="subtract each modality's mean embedding before t-SNE: "
        'skeleton and text embeddings of contrastive models lie in two '
        'separate cones (the modality gap); centred, a class text lies '
        'among its clips')
    parser.add_argument(
        '--dpi', type=int, default=90, help='resolution (default: 90)')
    args = parser.parse_args(argv)
    if args.num_clips < 5:
        parser.error(f'--num-clips must be at least 5, got {args.num_clips}')
    return args


def _log(message: str) -> None:
    """A progress line on stderr."""
    print(f'[tsne] {message}', file=sys.stderr, flush=True)


def main(argv: Optional[Sequence[str]] = None) -> List[Tuple[str, Dict]]:
    """Run the script.

    Args:
        argv (Sequence[str], optional): The arguments. Defaults to None.

    Returns:
        list[tuple[str, dict]]: The panels (title and :func:`panel`).

    Raises:
        ValueError: On a bad config, checkpoint or output name.
    """
    args = parse_args(argv)
    check_out_file(args.out, ('.png', '.pdf', '.svg'))
    if not osp.isfile(args.checkpoint):
        raise ValueError(f'{args.checkpoint}: checkpoint does not exist')
    cfg = load_config(args.config)
    from mmengine.logging import MMLogger

    # the current logger: warnings only (no per-weight init messages)
    MMLogger.get_instance('embeddings_tsne', log_level='WARNING')
    dataset = test_dataset(cfg)
    indices = spread_indices(len(dataset), args.num_clips)
    runs = [('before training (random init)', None),
            (f'after training (stage 2: {osp.basename(args.checkpoint)})',
             args.checkpoint)]
    panels = []
    for title, checkpoint in runs:
        start = time.perf_counter()
        model = build_recognizer(cfg, checkpoint, args.seed)
        result = panel(model, dataset, indices, args.batch_size, args.texts,
                       args.perplexity, args.seed, args.center)
        panels.append((title, result))
        _log(f'{title}: {len(indices)} samples, top-1 {result["top1"]:.2%} '
             f'({time.perf_counter() - start:.0f} s)')
    plot_panels(panels, model.cls_head.class_names, args.out, args.dpi)
    print(f'wrote {args.out}')
    return panels


if __name__ == '__main__':
    exit_on_error(main)
