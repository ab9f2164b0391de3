# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Temporal Query Projection (TQP): skeleton features to LLM soft tokens."""
import math
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

__all__ = ['TemporalQueryProjection']

MODES = ('tqp', 'qformer', 'linear', 'cross_attn')


def _sinusoid(length: int, dim: int, device) -> torch.Tensor:
    """Fixed sinusoidal position codes, shape (length, dim)."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(
        torch.arange(0, dim, 2, device=device, dtype=torch.float32) *
        (-math.log(10000.0) / dim))
    codes = torch.zeros(length, dim, device=device)
    codes[:, 0::2] = torch.sin(pos * freq)
    codes[:, 1::2] = torch.cos(pos * freq)[:, :dim // 2]
    return codes


@MODELS.register_module()
class TemporalQueryProjection(BaseModule):
    """SUGAR's Temporal Query Projection and its ablation variants.

    The skeleton encoder's features (persons averaged) become a sequence of
    tokens, one per frame and joint (``tokens='joint'``) or per frame
    (``tokens='frame'``), with a sinusoidal code of the frame index and a
    learned joint code added. Then, by ``mode``:

    - ``'tqp'`` (the paper's): the frames are cut into ``num_segments``
      consecutive segments; one BLIP-2 Q-Former (transformers'
      ``Blip2QFormerModel``, weights shared by all segments) runs segment
      after segment with ``num_queries // num_segments`` queries, the query
      outputs of segment t-1 added to the learned queries of segment t.
      The outputs of all segments, in order, are the soft tokens.
    - ``'qformer'``: one Q-Former with ``num_queries`` queries over the
      whole sequence.
    - ``'cross_attn'``: one plain multi-head cross-attention from
      ``num_queries`` learned queries to the sequence.
    - ``'linear'``: the sequence average-pooled along time to
      ``num_queries`` tokens and mapped by a single linear layer.

    A final linear layer maps every query output to the LLM's width, so
    the LLM-side cost depends on ``num_queries`` only, never on the clip
    length.

    Args:
        in_channels (int): Channels of the encoder features.
        out_channels (int): The LLM's embedding width.
        num_queries (int): Total soft tokens per clip (paper: 128).
            Defaults to 32.
        num_segments (int): Temporal segments for ``'tqp'``; must divide
            ``num_queries``. Defaults to 4.
        mode (str): One of ``'tqp'``, ``'qformer'``, ``'cross_attn'``,
            ``'linear'``. Defaults to ``'tqp'``.
        tokens (str): ``'joint'`` (T x V tokens) or ``'frame'`` (T tokens,
            joints averaged). Defaults to ``'joint'``.
        qformer (dict): ``Blip2QFormerConfig`` fields (``encoder_hidden_size``
            is set to ``in_channels``). Defaults to a 2-layer, 256-wide
            Q-Former with cross-attention in every layer.
        pretrained (str, optional): A local folder saved by
            ``Blip2QFormerModel.save_pretrained`` to start the Q-Former
            from (cross-attention weights of another width are
            re-initialised). Defaults to None.
        num_joints (int): Joints per frame (for the joint codes).
            Defaults to 25.
        input_norm (bool): Standardise each encoder channel with
            ``BatchNorm1d`` before the queries read the tokens. Encoder
            features after a ReLU share a large mean across samples; without
            this the soft tokens are nearly the same for every clip and the
            LLM learns the class prior only (1 epoch on SynthNTU: 3.1% top-1,
            chance). Defaults to True.
        init_cfg (dict, optional): Initialisation of the non-Q-Former
            layers. Defaults to None.

    Example:
        >>> neck = TemporalQueryProjection(
        ...     in_channels=256, out_channels=576, num_queries=32,
        ...     num_segments=4)
        >>> feats = torch.randn(2, 2, 256, 8, 25)  # (N, M, C, T, V)
        >>> neck(feats).shape
        torch.Size([2, 32, 576])
        >>> neck(torch.randn(2, 2, 256, 75, 25)).shape  # longer clip
        torch.Size([2, 32, 576])
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 num_queries: int = 32,
                 num_segments: int = 4,
                 mode: str = 'tqp',
                 tokens: str = 'joint',
                 qformer: Dict = dict(
                     hidden_size=256,
                     num_hidden_layers=2,
                     num_attention_heads=4,
                     intermediate_size=1024,
                     cross_attention_frequency=1,
                     hidden_dropout_prob=0.1,
                     attention_probs_dropout_prob=0.1),
                 pretrained: Optional[str] = None,
                 num_joints: int = 25,
                 input_norm: bool = True,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        if tokens not in ('joint', 'frame'):
            raise ValueError(
                f"tokens must be 'joint' or 'frame', got {tokens!r}")
        if mode == 'tqp' and (num_segments < 1 or num_queries % num_segments):
            raise ValueError(
                f'num_queries ({num_queries}) must be a multiple of '
                f'num_segments ({num_segments})')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.num_queries, self.mode, self.tokens = num_queries, mode, tokens
        self.num_segments = num_segments if mode == 'tqp' else 1
        self.input_norm = nn.BatchNorm1d(in_channels) if input_norm else None
        self.joint_embed = nn.Parameter(torch.zeros(num_joints, in_channels))
        nn.init.normal_(self.joint_embed, std=0.02)
        self.pretrained = pretrained
        if mode in ('tqp', 'qformer'):
            self.qformer = self._build_qformer(qformer, pretrained)
            width = self.qformer.config.hidden_size
        elif mode == 'cross_attn':
            width = qformer.get('hidden_size', 256)
            self.in_proj = nn.Linear(in_channels, width)
            self.cross_attn = nn.MultiheadAttention(
                width, qformer.get('num_attention_heads', 4), batch_first=True)
            self.norm = nn.LayerNorm(width)
        else:
            width = in_channels
        if mode != 'linear':
            queries = torch.zeros(num_queries // self.num_segments, width)
            self.queries = nn.Parameter(nn.init.normal_(queries, std=0.02))
        self.out_proj = nn.Linear(width, out_channels)

    def _build_qformer(self, cfg: Dict, pretrained: Optional[str]):
        from transformers import Blip2QFormerConfig, Blip2QFormerModel
        cfg = dict(cfg, encoder_hidden_size=self.in_channels)
        if pretrained is not None:
            return Blip2QFormerModel.from_pretrained(
                pretrained, ignore_mismatched_sizes=True, **cfg)
        return Blip2QFormerModel(Blip2QFormerConfig(**cfg))

    def init_weights(self) -> None:
        """Initialise the own layers; the Q-Former keeps its weights."""
        if self.init_cfg is not None:
            super().init_weights()

    def _token_sequence(self, x: torch.Tensor) -> torch.Tensor:
        """(N, M, C, T, V) features to (N, T, V', C) coded tokens."""
        if x.dim() != 5 or x.shape[2] != self.in_channels:
            raise ValueError(
                f'expected encoder features (N, M, {self.in_channels}, T, '
                f'V), got shape {tuple(x.shape)}')
        num_joints = x.shape[-1]
        if num_joints > self.joint_embed.shape[0]:
            raise ValueError(
                f'features have {num_joints} joints, the neck was built '
                f'for {self.joint_embed.shape[0]} (num_joints)')
        x = x.mean(dim=1)  # (N, C, T, V)
        if self.input_norm is not None:
            x = self.input_norm(x.flatten(2)).view_as(x)
        x = x.permute(0, 2, 3, 1)  # (N, T, V, C)
        x = x + self.joint_embed[:num_joints]
        x = x + _sinusoid(x.shape[1], x.shape[-1], x.device)[:, None]
        if self.tokens == 'frame':
            x = x.mean(dim=2, keepdim=True)
        return x

    def _qformer(self, queries, tokens):
        return self.qformer(
            query_embeds=queries,
            encoder_hidden_states=tokens).last_hidden_state

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map encoder features to soft tokens.

        Args:
            x (torch.Tensor): Encoder features, shape (N, M, C, T, V).

        Returns:
            torch.Tensor: Soft tokens, shape (N, num_queries, out_channels).
        """
        tokens = self._token_sequence(x)  # (N, T, V', C)
        num, frames = tokens.shape[:2]
        if self.mode == 'linear':
            pooled = tokens.mean(dim=2).transpose(1, 2)  # (N, C, T)
            pooled = nn.functional.adaptive_avg_pool1d(pooled,
                                                       self.num_queries)
            return self.out_proj(pooled.transpose(1, 2))
        queries = self.queries.expand(num, -1, -1)
        if self.mode == 'cross_attn':
            keys = self.in_proj(tokens.flatten(1, 2))
            out, _ = self.cross_attn(queries, keys, keys, need_weights=False)
            return self.out_proj(self.norm(out + queries))
        if frames < self.num_segments:
            raise ValueError(
                f'{frames} feature frames cannot be cut into '
                f'{self.num_segments} segments: use shorter num_segments '
                'or longer clips')
        outputs, previous = [], None
        for segment in torch.tensor_split(tokens, self.num_segments, dim=1):
            q = queries if previous is None else queries + previous
            previous = self._qformer(q, segment.flatten(1, 2))
            outputs.append(previous)
        return self.out_proj(torch.cat(outputs, dim=1))
