# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""LLM-AR's action tokenizer: a VQ-VAE with a hyperbolic codebook."""
from typing import Dict, Optional, Union

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from mmengine.model import BaseModel

from .action_vqvae_utils import (CodeContextPredictor, MotionDecoder,
                                 MotionEncoder, perplexity, zipf_prior_loss)

__all__ = ['ActionVQVAE']

LOSS_KEYS = ('recon', 'embed', 'commit', 'zipf', 'context')


@MODELS.register_module()
class ActionVQVAE(BaseModel):
    """Turns a skeleton sequence into an "action sentence" of code indices.

    The tokenizer of LLM-AR (Qu et al., "LLMs are Good Action
    Recognizers", CVPR 2024). The persons, joints and coordinates of each
    frame are one feature vector; a temporal convolutional encoder maps
    the T frames to W = T / 2**down_t latent steps; each step is quantized
    to the nearest code of a :class:`HyperbolicCodebook` under the
    Poincare distance; a mirror decoder reconstructs the sequence. The
    clip's code indices (W,) are its action sentence.

    Losses (weights in ``loss_weights``; 0 switches one off):

    - ``recon``: smooth L1 (beta 1 cm) between the input and output
      coordinates;
    - ``embed`` / ``commit``: squared Poincare distance between latents and
      their codes, with the gradient into the codes / into the encoder;
    - ``zipf``: a Zipf's-law prior on the batch's ranked code frequencies
      (:func:`zipf_prior_loss`), the first human inductive bias;
    - ``context``: context sensitivity, the cross-entropy of predicting
      each step's (soft) code from its neighbours alone
      (:class:`CodeContextPredictor`), so the sequence carries meaning in
      its order, as a sentence does. The target assignments are detached:
      otherwise the easiest way to be predictable is one code for all.

    The training log also shows the batch's code ``perplexity``, the
    fraction of codes it uses (``code_usage``), the per-joint error in
    metres (``mpjpe``) and the codebook's dead-code ``restarts`` so far.

    Modes: ``loss``; ``predict`` (sets ``pred_codes``, ``recon_mpjpe`` and
    ``num_codes`` on each data sample, for :class:`ActionTokenizerMetric`);
    ``tensor`` (the code indices, shape (N, W)), which is how
    :class:`LLMARRecognizer` uses the frozen tokenizer as its backbone.

    Args:
        in_channels (int): Coordinates per joint. Defaults to 3.
        num_joints (int): Joints per person. Defaults to 25.
        num_person (int): Persons per clip (``FormatGCNInput``'s
            ``num_person``). Defaults to 2.
        width (int): Channels of the encoder and decoder. Defaults to 256.
        latent_dim (int): Dimension of the latents and codes. Defaults to
            64.
        down_t (int): Temporal downsampling ``2**down_t``; clips are
            padded to a multiple of it. Defaults to 2.
        codebook (dict): A :class:`HyperbolicCodebook` config (its ``dim``
            defaults to ``latent_dim``). Defaults to 256 Poincare codes.
        loss_weights (dict): Weights of ``recon``, ``embed``, ``commit``,
            ``zipf`` and ``context``. Defaults to 1, 1, 0.25, 0.1, 0.1.
        zipf_exponent (float): The ``s`` of Zipf's law. Defaults to 1.0.
        context_radius (int): Neighbours each side seen by the context
            predictor. Defaults to 2.
        data_preprocessor (dict, optional): Defaults to the toolbox's
            ``ActionDataPreprocessor``.
        init_cfg (dict, optional): Defaults to None.

    Example:
        >>> model = ActionVQVAE(width=32, latent_dim=8,
        ...                     codebook=dict(num_codes=16))
        >>> clips = torch.randn(2, 2, 32, 25, 3)  # (N, M, T, V, C)
        >>> model(clips, mode='tensor').shape  # an action sentence each
        torch.Size([2, 8])
        >>> sorted(model(clips[:, None], None, mode='loss'))[:5]
        ['code_usage', 'loss_commit', 'loss_context', 'loss_embed', \
'loss_recon']
    """

    def __init__(self,
                 in_channels: int = 3,
                 num_joints: int = 25,
                 num_person: int = 2,
                 width: int = 256,
                 latent_dim: int = 64,
                 down_t: int = 2,
                 codebook: Dict = dict(
                     type='HyperbolicCodebook', num_codes=256),
                 loss_weights: Dict = dict(
                     recon=1.0, embed=1.0, commit=0.25, zipf=0.1, context=0.1),
                 zipf_exponent: float = 1.0,
                 context_radius: int = 2,
                 data_preprocessor: Optional[Dict] = dict(
                     type='ActionDataPreprocessor'),
                 init_cfg: Optional[Dict] = None) -> None:
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        unknown = set(loss_weights) - set(LOSS_KEYS)
        if unknown:
            raise ValueError(f'loss_weights has unknown keys {sorted(unknown)}'
                             f'; expected some of {LOSS_KEYS}')
        self.loss_weights = {
            k: float(loss_weights.get(k, 0.0))
            for k in LOSS_KEYS
        }
        self.in_channels = in_channels
        self.num_joints = num_joints
        self.num_person = num_person
        self.down_t = down_t
        self.zipf_exponent = zipf_exponent
        codebook = dict(codebook)
        codebook.setdefault('type', 'HyperbolicCodebook')
        codebook.setdefault('dim', latent_dim)
        self.codebook = MODELS.build(codebook)
        if self.codebook.dim != latent_dim:
            raise ValueError(f'codebook dim {self.codebook.dim} != '
                             f'latent_dim {latent_dim}')
        self.num_codes = self.codebook.num_codes
        channels = num_person * num_joints * in_channels
        self.encoder = MotionEncoder(channels, width, latent_dim, down_t)
        self.decoder = MotionDecoder(channels, width, latent_dim, down_t)
        self.context = CodeContextPredictor(
            latent_dim, self.num_codes, radius=context_radius)

    # ------------------------------------------------------------------
    # sequences <-> frames
    def _clips(self, inputs: torch.Tensor) -> torch.Tensor:
        """Validate and flatten clips to (B, M, T, V, C)."""
        if inputs.dim() == 6:  # (N, num_clips, M, T, V, C) from the loader
            inputs = inputs.flatten(0, 1)
        expected = (self.num_person, self.num_joints, self.in_channels)
        if inputs.dim() != 5 or (inputs.shape[1], ) + tuple(
                inputs.shape[3:]) != expected:
            raise ValueError(
                'ActionVQVAE expects skeletons (N, M, T, V, C) with '
                f'(M, V, C) = {expected}, got {tuple(inputs.shape)}')
        if not torch.isfinite(inputs).all():
            raise ValueError('ActionVQVAE got NaN or inf coordinates')
        return inputs

    def _to_seq(self, x: torch.Tensor) -> torch.Tensor:
        """(B, M, T, V, C) -> (B, M * V * C, T'), T' padded to 2**down_t."""
        b, m, t, v, c = x.shape
        seq = x.permute(0, 1, 3, 4, 2).reshape(b, m * v * c, t)
        pad = -t % (2**self.down_t)
        return F.pad(seq, (0, pad), mode='replicate') if pad else seq

    def _from_seq(self, seq: torch.Tensor, frames: int) -> torch.Tensor:
        """(B, M * V * C, T') -> (B, M, T, V, C), cropped to ``frames``."""
        b = seq.shape[0]
        seq = seq[..., :frames].reshape(b, self.num_person, self.num_joints,
                                        self.in_channels, frames)
        return seq.permute(0, 1, 4, 2, 3)

    # ------------------------------------------------------------------
    # the tokenizer's API
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Euclidean latents (B, W, D) of clips (B, M, T, V, C)."""
        return self.encoder(self._to_seq(x)).transpose(1, 2)

    def tokenize(self, x: torch.Tensor) -> torch.Tensor:
        """Action sentences: code indices (B, W) of clips (B, M, T, V, C)
        (or (N, num_clips, M, T, V, C))."""
        return self.codebook(self.encode(self._clips(x)), update=False)[1]

    def decode(self,
               indices: torch.Tensor,
               frames: Optional[int] = None) -> torch.Tensor:
        """Skeletons (B, M, T, V, C) from code indices (B, W)."""
        vectors = self.codebook.lookup(indices)  # (B, W, D)
        frames = frames or indices.shape[1] * 2**self.down_t
        return self._from_seq(self.decoder(vectors.transpose(1, 2)), frames)

    @staticmethod
    def joint_error(recon: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Mean per-joint position error (B,) over the persons present.

        A person is present in a frame when any of its coordinates is
        non-zero (``FormatGCNInput`` pads absent persons with zeros).
        """
        present = x.abs().flatten(3).sum(-1) > 0  # (B, M, T)
        error = (recon - x).norm(dim=-1).mean(-1)  # (B, M, T)
        total = (error * present).flatten(1).sum(-1)
        return total / present.flatten(1).sum(-1).clamp_min(1)

    # ------------------------------------------------------------------
    # modes
    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[SampleList] = None,
                mode: str = 'tensor') -> Union[Dict, SampleList, torch.Tensor]:
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.tokenize(inputs)
        raise RuntimeError(f'Invalid mode "{mode}". '
                           'Only supports loss, predict and tensor mode')

    def _run(self, x: torch.Tensor):
        latents = self.encode(x)  # (B, W, D)
        quantized, indices, extras = self.codebook(latents)
        recon = self._from_seq(
            self.decoder(quantized.transpose(1, 2)), x.shape[2])
        return recon, quantized, indices, extras

    def loss(self,
             inputs: torch.Tensor,
             data_samples: Optional[SampleList] = None) -> Dict:
        """The tokenizer's losses and code statistics for a batch.

        Args:
            inputs (torch.Tensor): Skeletons (N, num_clips, M, T, V, C) or
                (N, M, T, V, C).
            data_samples (list, optional): Unused (no labels needed).

        Returns:
            dict: ``loss_*`` terms (weighted) and the statistics above.
        """
        x = self._clips(inputs)
        recon, quantized, indices, extras = self._run(x)
        w = self.loss_weights
        losses = dict(
            loss_recon=w['recon'] * F.smooth_l1_loss(recon, x, beta=0.01),
            loss_embed=w['embed'] * extras['loss_embed'],
            loss_commit=w['commit'] * extras['loss_commit'])
        probs = extras['probs']  # (B * W, K)
        if w['zipf']:
            losses['loss_zipf'] = w['zipf'] * zipf_prior_loss(
                probs, self.zipf_exponent)
        if w['context']:
            # the target is detached: predicting a code from its neighbours
            # must shape the neighbours, not make every code alike
            logits = self.context(quantized)  # (B, W, K)
            soft_ce = -(
                probs.detach() * F.log_softmax(logits.flatten(0, 1), -1))
            losses['loss_context'] = w['context'] * soft_ce.sum(-1).mean()
        with torch.no_grad():
            losses.update(
                perplexity=perplexity(indices, self.num_codes),
                code_usage=indices.unique().numel() /
                torch.tensor(float(self.num_codes)),
                mpjpe=self.joint_error(recon, x).mean(),
                restarts=self.codebook.restarts.float())
        return losses

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor,
                data_samples: SampleList) -> SampleList:
        """Tokenize and reconstruct; record codes and errors per sample.

        With several clips per sample the errors are averaged and the
        first clip's codes kept.

        Returns:
            list[ActionDataSample]: With ``pred_codes`` (W,),
            ``recon_mpjpe`` (metres) and ``num_codes``.
        """
        x = self._clips(inputs)
        recon, _, indices, _ = self._run(x)
        num = len(data_samples)
        if len(x) % num:
            raise ValueError(f'{len(x)} clips do not split into {num} '
                             'samples')
        clips = len(x) // num
        errors = self.joint_error(recon, x).view(num, clips).mean(1)
        codes = indices.view(num, clips, -1)[:, 0]
        for sample, err, code in zip(data_samples, errors, codes):
            sample.pred_codes = code.cpu()
            sample.recon_mpjpe = float(err)
            sample.num_codes = self.num_codes
        return data_samples
