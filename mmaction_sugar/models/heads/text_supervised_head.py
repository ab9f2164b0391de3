# Copyright (c) mmaction-sugar contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.models.heads import BaseHead
from mmaction.registry import MODELS
from mmaction.utils import SampleList

from mmaction_sugar.datasets.action_knowledge import ActionKnowledge
from ..text_encoders import DEFAULT_CACHE_DIR, build_class_text_bank

Classes = Optional[Sequence[Union[int, str]]]


@MODELS.register_module()
class TextSupervisedHead(BaseHead):
    """SUGAR's stage-2 head: skeleton features supervised by class texts.

    The backbone's feature map ``(N, M, C, T, V)`` is average-pooled over
    persons, time and joints, projected linearly into the text space and
    L2-normalised. Training scores it against every description text of
    every training class (motion and visual descriptions from the action
    knowledge, embedded once by a frozen text encoder and cached on disk,
    so no step runs the text encoder) and applies the MIL-NCE loss with
    the texts of the sample's class as positives (Ye et al., AAAI 2026).
    Prediction scores each candidate class by its bag of texts, so classes
    never seen in training are recognised by their texts alone
    (zero-shot); ``pred_score`` is filled over all classes of the
    knowledge (non-candidates get probability 0), so the stock
    ``AccMetric`` works unchanged.

    The default bag score ``log mean_n exp(s . t_cn / tau)`` is the class
    posterior the MIL-NCE loss trains (its numerator), up to the bag size.
    Scoring by the mean text embedding instead (``score='mean'``) is
    inconsistent with that loss: MIL-NCE lets a sample match any one text
    of its bag, and the bag mean then points elsewhere. On frozen ST-GCN
    features of SynthNTU, MIL-NCE at tau 0.07 reached 65.8 top-1 with bag
    scores and 56.4 with mean scores, and the gap widens as tau falls
    (docs/RESULTS.md).

    Args:
        in_channels (int): Channels of the backbone output.
        knowledge (str): Bundled knowledge name (``'synth_ntu'``,
            ``'ntu60'``, ``'ntu120'``, ...) or path to a knowledge JSON.
            Its classes, in order, are the label space.
            Defaults to ``'synth_ntu'``.
        text_encoder (dict): Config of the frozen text encoder. Defaults
            to ``dict(type='FrozenTextEncoder', max_length=128)``: the
            bundled all-MiniLM-L6-v2, with room for the longest motion
            descriptions (~80 tokens).
        cache_dir (str): Folder of the cached class-text embeddings.
            Defaults to ``.cache/mmaction_sugar/text_bank``.
        temperature (float): Initial softmax temperature tau.
            Defaults to 0.07.
        learnable_temperature (bool): Learn ``log(1 / tau)``, clamped to
            ``0.01 <= tau <= 1``. With SGD at a backbone's learning rate
            (0.1) the temperature runs away to the upper clamp: keep it
            fixed there, or give it a small ``lr_mult``. Defaults to True.
        texts_per_class (int, optional): Per training step, use a random
            subset of this many texts of each class (the paper's random
            combination of descriptions). None uses all. Defaults to None.
        train_classes (Sequence[int | str], optional): Classes (labels or
            names) seen in training; a zero-shot split leaves the unseen
            ones out. None means all. Defaults to None.
        test_classes (Sequence[int | str], optional): Candidate classes at
            prediction time (e.g. only the unseen ones for zero-shot, all
            for generalised zero-shot). None means all. Defaults to None.
        center_texts (bool): Subtract the mean of all text embeddings and
            re-normalise. Sentence encoders put all descriptions in a
            narrow cone (all-MiniLM-L6-v2 on SynthNTU: mean cosine 0.66
            between class means, 0.52 between texts of one class);
            centring spreads them, but did not raise accuracy there
            (docs/RESULTS.md). Defaults to False.
        score (str): How a class is scored from its texts: ``'bag'``
            (log-mean-exp of the similarities to its texts, consistent with
            MIL-NCE) or ``'mean'`` (similarity to the normalised mean text
            embedding). Defaults to ``'bag'``.
        ce_weight (float): Weight of an extra cross-entropy term on the
            class scores. Defaults to 0.
        feat_norm (bool): Batch-normalise the pooled features before the
            projection. The backbone's pooled ReLU features share a large
            mean; projected and L2-normalised without centring, every
            sample points the same way and the cosine scores barely move,
            which slowed stage-2 training several-fold (docs/RESULTS.md).
            Defaults to True.
        dropout (float): Dropout before the projection. Defaults to 0.
        average_clips (str): How scores of several clips of a video are
            merged, as in ``GCNHead``. Defaults to ``'prob'``.
        loss_cls (dict): The contrastive loss.
            Defaults to ``dict(type='MILNCELoss')``.
        init_cfg (dict): Initialisation of the projection.
            Defaults to ``dict(type='Normal', layer='Linear', std=0.01)``.

    Example:
        >>> import torch
        >>> from mmaction_sugar.models.heads import TextSupervisedHead
        >>> head = TextSupervisedHead(in_channels=256)
        >>> head.num_classes, head.text_embeds.shape[0]
        (32, 32)
        >>> feats = torch.randn(2, 2, 256, 8, 25)  # (N, M, C, T, V)
        >>> head(feats).shape
        torch.Size([2, 32])
    """

    def __init__(self,
                 in_channels: int,
                 knowledge: str = 'synth_ntu',
                 text_encoder: Dict = dict(
                     type='FrozenTextEncoder', max_length=128),
                 cache_dir: str = DEFAULT_CACHE_DIR,
                 temperature: float = 0.07,
                 learnable_temperature: bool = True,
                 texts_per_class: Optional[int] = None,
                 train_classes: Classes = None,
                 test_classes: Classes = None,
                 center_texts: bool = False,
                 score: str = 'bag',
                 ce_weight: float = 0.,
                 feat_norm: bool = True,
                 dropout: float = 0.,
                 average_clips: str = 'prob',
                 loss_cls: Dict = dict(type='MILNCELoss'),
                 init_cfg: Dict = dict(
                     type='Normal', layer='Linear', std=0.01),
                 **kwargs) -> None:
        self.knowledge = ActionKnowledge.load(knowledge)
        super().__init__(
            len(self.knowledge),
            in_channels,
            loss_cls=loss_cls,
            average_clips=average_clips,
            init_cfg=init_cfg,
            **kwargs)
        bank = build_class_text_bank(
            self.knowledge, text_encoder, cache_dir=cache_dir)
        texts, mask = bank.embeddings, bank.mask  # (C, B, D), (C, B)
        if center_texts:
            texts = F.normalize(texts - texts[mask].mean(dim=0), dim=-1)
            texts = texts * mask[..., None]  # padding stays zero
        means = texts.sum(dim=1) / mask.sum(dim=1, keepdim=True)  # (C, D)
        # derived from the knowledge and the encoder: not checkpointed
        self.register_buffer('text_embeds', texts, False)
        self.register_buffer('text_mask', mask, False)
        self.register_buffer('class_embeds', F.normalize(means, dim=-1), False)
        self.register_buffer('train_index', self._class_index(train_classes),
                             False)
        # position of each label among the training classes, -1 if unseen
        lookup = torch.full((self.num_classes, ), -1)
        lookup[self.train_index] = torch.arange(len(self.train_index))
        self.register_buffer('train_lookup', lookup, False)
        self.register_buffer('test_index', self._class_index(test_classes),
                             False)
        if score not in ('bag', 'mean'):
            raise ValueError(f"score must be 'bag' or 'mean', got {score!r}")
        self.score = score
        self.texts_per_class = texts_per_class
        self.ce_weight = ce_weight
        self.feat_norm = nn.BatchNorm1d(in_channels) if feat_norm else None
        self.dropout = nn.Dropout(dropout) if dropout else None
        self.proj = nn.Linear(in_channels, bank.embed_dim)
        scale = torch.tensor(1.0 / temperature).log()
        if learnable_temperature:
            self.logit_scale = nn.Parameter(scale)
        else:
            self.register_buffer('logit_scale', scale)

    @property
    def class_names(self) -> List[str]:
        """list[str]: The label space, in label order."""
        return self.knowledge.class_names

    def _class_index(self, classes: Classes) -> torch.Tensor:
        """Labels of ``classes`` (names or labels), all when None."""
        if classes is None:
            return torch.arange(self.num_classes)
        return torch.tensor(self.knowledge.labels(classes))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Pool and project backbone features into the text space.

        Args:
            x (torch.Tensor): Backbone features, shape (N, M, C, T, V).

        Returns:
            torch.Tensor: L2-normalised embeddings, shape (N, D).
        """
        x = x.mean(dim=(1, 3, 4))  # (N, C)
        if self.feat_norm is not None:
            x = self.feat_norm(x)
        if self.dropout is not None:
            x = self.dropout(x)
        return F.normalize(self.proj(x), dim=-1)  # (N, D)

    def scale(self) -> torch.Tensor:
        """The logit scale ``1 / tau``, tau clamped to [0.01, 1]."""
        return self.logit_scale.clamp(min=0., max=4.6052).exp()

    def class_scores(self, embeds: torch.Tensor,
                     classes: torch.Tensor) -> torch.Tensor:
        """Score embeddings against the texts of some classes.

        Args:
            embeds (torch.Tensor): L2-normalised embeddings, shape (N, D).
            classes (torch.Tensor): Labels of the classes to score,
                shape (C', ).

        Returns:
            torch.Tensor: ``log mean_n exp(s . t_cn / tau)`` over each
            class's texts (``score='bag'``) or ``s . mean_c / tau``
            (``score='mean'``), shape (N, C').
        """
        if self.score == 'mean':
            return self.scale() * embeds @ self.class_embeds[classes].T
        sims = self.scale() * torch.einsum('nd,cbd->ncb', embeds,
                                           self.text_embeds[classes])
        return self._bag_scores(sims, self.text_mask[classes])

    @staticmethod
    def _bag_scores(sims: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Log-mean-exp of (N, C', B) text logits over each bag's texts."""
        sims = sims.masked_fill(~valid, float('-inf'))
        return sims.logsumexp(dim=2) - valid.sum(dim=1).log()  # (N, C')

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """Class scores over all classes; non-candidates are -1e4.

        Args:
            x (torch.Tensor): Backbone features, shape (N, M, C, T, V).

        Returns:
            torch.Tensor: Scores of :meth:`class_scores`, shape (N, C).
        """
        scores = self.class_scores(
            self.embed(x), torch.arange(self.num_classes, device=x.device))
        candidates = torch.zeros_like(scores[0], dtype=torch.bool)
        candidates[self.test_index] = True
        return scores.masked_fill(~candidates, -1e4)  # (N, C)

    def loss(self, feats: torch.Tensor, data_samples: SampleList,
             **kwargs) -> Dict:
        """MIL-NCE over the texts of the training classes.

        Args:
            feats (torch.Tensor): Backbone features, shape (N, M, C, T, V).
            data_samples (list[ActionDataSample]): With ``gt_label``.

        Returns:
            dict: ``loss_cls`` (and ``loss_ce``), ``top1_acc``/``top5_acc``
            over the training classes.
        """
        labels = torch.stack([d.gt_label for d in data_samples]).view(-1)
        self.knowledge.check_labels(labels.tolist(), 'the training batch')
        labels = labels.to(feats.device)
        target = self.train_lookup[labels]  # (N, )
        if (target < 0).any():
            unseen = labels[target < 0].unique().tolist()
            raise ValueError(f'training labels {unseen} are not among the '
                             'head\'s train_classes (zero-shot split)')
        texts = self.text_embeds[self.train_index]  # (C', B, D)
        valid = self.text_mask[self.train_index]  # (C', B)
        if self.texts_per_class is not None and self.training:
            valid = self._sample_texts(valid)
        num_cls, bag, dim = texts.shape
        embeds = self.embed(feats)  # (N, D)
        logits = self.scale() * embeds @ texts.reshape(-1, dim).T  # (N, C'B)
        positive = F.one_hot(target, num_cls).bool()  # (N, C')
        positive = positive[:, :, None].expand(-1, -1,
                                               bag).reshape(len(target),
                                                            -1)  # (N, C'B)
        losses = dict()
        losses['loss_cls'] = self.loss_cls(logits, positive, valid.reshape(-1))
        if self.score == 'bag':  # the same similarities, all texts
            class_scores = self._bag_scores(
                logits.view(-1, num_cls, bag),
                self.text_mask[self.train_index])
        else:
            class_scores = self.class_scores(embeds, self.train_index)
        if self.ce_weight:
            losses['loss_ce'] = self.ce_weight * F.cross_entropy(
                class_scores, target)
        ranks = class_scores.detach().argsort(dim=1, descending=True)
        for k in self.topk:
            hit = (ranks[:, :k] == target[:, None]).any(dim=1)
            losses[f'top{k}_acc'] = hit.float().mean()
        return losses

    def _sample_texts(self, valid: torch.Tensor) -> torch.Tensor:
        """Keep a random ``texts_per_class`` of each class's real texts."""
        noise = torch.rand(valid.shape, device=valid.device)
        noise = noise.masked_fill(~valid, -1.0)  # padding never chosen
        k = min(self.texts_per_class, valid.shape[1])
        keep = noise.topk(k, dim=1).indices
        chosen = torch.zeros_like(valid).scatter_(1, keep, True)
        return chosen & valid
