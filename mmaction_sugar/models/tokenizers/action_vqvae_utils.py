# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Building blocks of :class:`ActionVQVAE`: temporal convolutional encoder
and decoder, the code-context predictor and the Zipf prior."""
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    'MotionEncoder', 'MotionDecoder', 'CodeContextPredictor',
    'zipf_prior_loss', 'perplexity'
]


class ResBlock1d(nn.Module):
    """Dilated temporal residual blocks (as in motion VQ-VAEs)."""

    def __init__(self, width: int, dilations: Sequence[int] = (1, 3, 9)):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Sequential(nn.ReLU(),
                          nn.Conv1d(width, width, 3, padding=d, dilation=d),
                          nn.ReLU(), nn.Conv1d(width, width, 1))
            for d in dilations)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = x + layer(x)
        return x


class MotionEncoder(nn.Sequential):
    """(B, C_in, T) -> (B, D, T / 2**down_t) with strided convolutions."""

    def __init__(self, in_channels: int, width: int, latent_dim: int,
                 down_t: int):
        layers = [nn.Conv1d(in_channels, width, 3, padding=1), nn.ReLU()]
        for _ in range(down_t):
            layers += [
                nn.Conv1d(width, width, 4, stride=2, padding=1),
                ResBlock1d(width)
            ]
        layers.append(nn.Conv1d(width, latent_dim, 3, padding=1))
        super().__init__(*layers)


class MotionDecoder(nn.Sequential):
    """(B, D, W) -> (B, C_out, W * 2**down_t), the encoder's mirror."""

    def __init__(self, out_channels: int, width: int, latent_dim: int,
                 down_t: int):
        layers = [nn.Conv1d(latent_dim, width, 3, padding=1), nn.ReLU()]
        for _ in range(down_t):
            layers += [
                ResBlock1d(width),
                nn.Upsample(scale_factor=2, mode='nearest'),
                nn.Conv1d(width, width, 3, padding=1)
            ]
        layers += [
            nn.Conv1d(width, width, 3, padding=1),
            nn.ReLU(),
            nn.Conv1d(width, out_channels, 3, padding=1)
        ]
        super().__init__(*layers)


class CodeContextPredictor(nn.Module):
    """Predicts each step's code from its neighbours only.

    A temporal convolution over ``2 * radius + 1`` steps whose centre tap
    is masked out, then a per-step classifier over the K codes: what a
    code means must be recoverable from its context, as a word's is.
    """

    def __init__(self,
                 dim: int,
                 num_codes: int,
                 width: int = 128,
                 radius: int = 2):
        super().__init__()
        self.context = nn.Conv1d(dim, width, 2 * radius + 1, padding=radius)
        mask = torch.ones_like(self.context.weight)
        mask[..., radius] = 0  # never see the step itself
        self.register_buffer('mask', mask, False)
        self.classify = nn.Sequential(nn.ReLU(),
                                      nn.Conv1d(width, num_codes, 1))

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        """Code logits (B, W, K) from code vectors (B, W, D)."""
        x = F.conv1d(
            codes.transpose(1, 2),
            self.context.weight * self.mask,
            self.context.bias,
            padding=self.context.padding)  # (B, width, W)
        return self.classify(x).transpose(1, 2)


def zipf_prior_loss(probs: torch.Tensor,
                    exponent: float = 1.0) -> torch.Tensor:
    """A Zipf's-law prior on the code frequencies of a batch.

    ``KL(Zipf || sorted mean_i p_i) + mean_i H(p_i)``: the ranked batch
    frequencies of the codes should follow ``f(r) ~ r^-s``, as word
    frequencies in language do, while each latent stays sharply assigned.
    Without the second (sharpness) term the prior can be met by soft
    assignments alone, with codes at graded distances from a single
    cluster of latents, and the hard code usage collapses.

    Args:
        probs (torch.Tensor): Soft code assignments, shape (N, K).
        exponent (float): The ``s`` of Zipf's law. Defaults to 1.0.

    Returns:
        torch.Tensor: A scalar, zero for one-hot assignments whose ranked
        frequencies follow Zipf's law.
    """
    freq = probs.mean(0).sort(descending=True).values  # (K,)
    ranks = torch.arange(1, len(freq) + 1, device=probs.device)
    zipf = ranks.to(probs.dtype).pow(-exponent)
    zipf = zipf / zipf.sum()
    prior = (zipf * (zipf.log() - freq.clamp_min(1e-12).log())).sum()
    sharp = -(probs * probs.clamp_min(1e-12).log()).sum(-1).mean()
    return prior + sharp


def perplexity(indices: torch.Tensor, num_codes: int) -> torch.Tensor:
    """``exp`` of the entropy of the code histogram (K for uniform use)."""
    counts = torch.bincount(indices.flatten(), minlength=num_codes).float()
    share = counts / counts.sum().clamp_min(1)
    return torch.exp(-(share * share.clamp_min(1e-12).log()).sum())
