# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""A vector-quantization codebook on the Poincare ball (or in R^D)."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine import dist as mdist
from mmengine.model import BaseModule
from torch import nn

from .poincare_utils import clip_tangent, dist, expmap0, logmap0, pairwise_dist

__all__ = ['HyperbolicCodebook']


@MODELS.register_module()
class HyperbolicCodebook(BaseModule):
    """Nearest-code quantization under the Poincare distance.

    LLM-AR's quantizer (Qu et al., CVPR 2024): Euclidean latents ``f``
    go into the ball by the exponential map at the origin (E-to-H), take
    the nearest code of a hyperbolic codebook under the Poincare distance,
    and come back by the logarithmic map (H-to-E), with straight-through
    gradients to the encoder. ``manifold='euclidean'`` is the ablation: an
    ordinary VQ-VAE codebook under the L2 distance.

    The codes are stored as tangent vectors at the origin and used as
    ``expmap0(tangent)``, so every optimizer keeps them on the ball. Both
    latents and codes are clipped to ``max_norm`` in the tangent space
    before the map (clipped hyperbolic embeddings), away from the edge.

    Against collapse: the codebook is initialised from the first training
    batch's latents, and a code whose running share of assignments falls
    below ``restart_ratio / num_codes`` is moved onto a random latent of
    the current batch (dead-code restart). Counts are summed over
    distributed ranks and the new codes broadcast from rank 0.

    Args:
        num_codes (int): Codebook size K. Defaults to 256.
        dim (int): Code dimension D. Defaults to 64.
        manifold (str): ``'poincare'`` or ``'euclidean'``. Defaults to
            ``'poincare'``.
        curvature (float): Ball curvature c > 0 (radius ``1/sqrt(c)``).
            Defaults to 1.0.
        max_norm (float, optional): Tangent-space clipping radius; None
            for none. Defaults to 2.0 (|x| <= tanh(2) = 0.96 at c = 1).
        temperature (float): Soft assignments ``softmax(-d^2 / t)`` for
            the inductive-bias losses. Defaults to 0.5.
        restart_decay (float): Decay of the running code shares. Defaults
            to 0.9.
        restart_ratio (float): A code is dead below this fraction of the
            uniform share; 0 disables restarts. Defaults to 0.1.
        init_from_data (bool): Initialise from the first training batch.
            Defaults to True.
        init_cfg (dict, optional): Defaults to None.

    Example:
        >>> book = HyperbolicCodebook(num_codes=16, dim=8)
        >>> quantized, indices, extras = book(torch.randn(2, 5, 8))
        >>> quantized.shape, indices.shape, extras['probs'].shape
        (torch.Size([2, 5, 8]), torch.Size([2, 5]), torch.Size([10, 16]))
    """

    def __init__(self,
                 num_codes: int = 256,
                 dim: int = 64,
                 manifold: str = 'poincare',
                 curvature: float = 1.0,
                 max_norm: Optional[float] = 2.0,
                 temperature: float = 0.5,
                 restart_decay: float = 0.9,
                 restart_ratio: float = 0.1,
                 init_from_data: bool = True,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if manifold not in ('poincare', 'euclidean'):
            raise ValueError("manifold must be 'poincare' or 'euclidean', "
                             f'got {manifold!r}')
        if curvature <= 0:
            raise ValueError(f'curvature must be > 0, got {curvature}')
        if num_codes < 2 or dim < 1:
            raise ValueError(f'need num_codes >= 2 and dim >= 1, got '
                             f'{num_codes} and {dim}')
        self.num_codes = num_codes
        self.dim = dim
        self.manifold = manifold
        self.curvature = curvature
        self.max_norm = max_norm
        self.temperature = temperature
        self.restart_decay = restart_decay
        self.restart_ratio = restart_ratio
        self.tangent = nn.Parameter(torch.randn(num_codes, dim) * 0.1)
        self.register_buffer('usage', torch.full((num_codes, ),
                                                 1.0 / num_codes))
        self.register_buffer('initialised', torch.tensor(not init_from_data))
        self.register_buffer('restarts', torch.zeros((), dtype=torch.long))

    @property
    def hyperbolic(self) -> bool:
        return self.manifold == 'poincare'

    def to_space(self, tangent: torch.Tensor) -> torch.Tensor:
        """Tangent vectors to points of the codebook's space (E-to-H)."""
        tangent = clip_tangent(tangent, self.max_norm)
        return expmap0(tangent, c=self.curvature) if self.hyperbolic \
            else tangent

    def to_tangent(self, points: torch.Tensor) -> torch.Tensor:
        """Points back to Euclidean vectors (H-to-E)."""
        return logmap0(points, c=self.curvature) if self.hyperbolic \
            else points

    @property
    def codes(self) -> torch.Tensor:
        """torch.Tensor: The codes in their space, shape (K, D)."""
        return self.to_space(self.tangent)

    def distances(self, points: torch.Tensor,
                  codes: torch.Tensor) -> torch.Tensor:
        """Distances (N, K) from points (N, D) to codes (K, D)."""
        if self.hyperbolic:
            return pairwise_dist(points, codes, c=self.curvature)
        return torch.cdist(points, codes)

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """Euclidean (tangent) vectors of code indices, shape (..., D)."""
        return self.to_tangent(self.codes[indices])

    def forward(
        self,
        latents: torch.Tensor,
        update: Optional[bool] = None
    ) -> Tuple[torch.Tensor, torch.Tensor, Dict]:
        """Quantize Euclidean latents.

        Args:
            latents (torch.Tensor): Encoder outputs, shape (..., D).
            update (bool, optional): Initialise from data, track usage and
                restart dead codes. Defaults to None (in training mode).

        Returns:
            tuple: ``quantized`` (..., D), the codes' Euclidean vectors
            with straight-through gradients to ``latents``; ``indices``
            (...); and a dict with ``loss_embed`` (moves codes to the
            latents), ``loss_commit`` (moves latents to their codes), both
            mean squared distances, and ``probs`` (N, K), the soft
            assignments of the flattened latents, differentiable in the
            codes only.
        """
        if latents.shape[-1] != self.dim:
            raise ValueError(f'expected latents (..., {self.dim}), got '
                             f'{tuple(latents.shape)}')
        flat = clip_tangent(latents.reshape(-1, self.dim), self.max_norm)
        update = self.training if update is None else update
        if update and not bool(self.initialised):
            self._init_from(flat.detach())
        elif update and self.restart_ratio > 0:
            # before the codes enter the graph: restarted codes take part
            # in this batch, and no saved tensor is changed under autograd
            self._restart(flat.detach())
        points, codes = self.to_space(flat), self.codes
        # the choice needs no gradient; the soft assignments for the priors
        # get it in the codes only (pulling latents towards frequent codes
        # collapses the codebook)
        dists = self.distances(points.detach(), codes)  # (N, K)
        indices = dists.argmin(-1)
        chosen = codes[indices]
        if self.hyperbolic:
            to_code = dist(points.detach(), chosen, c=self.curvature)
            to_latent = dist(points, chosen.detach(), c=self.curvature)
        else:
            to_code = (points.detach() - chosen).norm(dim=-1)
            to_latent = (points - chosen.detach()).norm(dim=-1)
        code_vectors = self.to_tangent(chosen)
        quantized = flat + (code_vectors - flat).detach()
        probs = F.softmax(-dists.pow(2) / self.temperature, -1)
        if update:
            self._track(indices)
        extras = dict(
            loss_embed=to_code.pow(2).mean(),
            loss_commit=to_latent.pow(2).mean(),
            probs=probs)
        return (quantized.view(latents.shape),
                indices.view(latents.shape[:-1]), extras)

    @torch.no_grad()
    def _sample(self, flat: torch.Tensor, num: int) -> torch.Tensor:
        """``num`` latents of the batch (rank 0's, on every rank)."""
        pick = torch.randint(len(flat), (num, ), device=flat.device)
        spread = flat.std(0) if len(flat) > 1 else flat.new_ones(self.dim)
        new = flat[pick] + 0.01 * spread * torch.randn(
            num, self.dim, device=flat.device)
        mdist.broadcast(new, src=0)
        return new

    @torch.no_grad()
    def _init_from(self, flat: torch.Tensor) -> None:
        self.tangent.data.copy_(self._sample(flat, self.num_codes))
        self.initialised.fill_(True)

    @torch.no_grad()
    def _track(self, indices: torch.Tensor) -> None:
        """Running share of assignments per code, summed over ranks."""
        counts = torch.bincount(indices, minlength=self.num_codes).float()
        mdist.all_reduce(counts)
        self.usage.mul_(self.restart_decay).add_(
            counts / counts.sum(), alpha=1 - self.restart_decay)

    @torch.no_grad()
    def _restart(self, flat: torch.Tensor) -> None:
        """Move the dead codes onto latents of the batch."""
        dead = self.usage < self.restart_ratio / self.num_codes
        num = int(dead.sum())
        if num:
            self.tangent.data[dead] = self._sample(flat, num)
            self.usage[dead] = 1.0 / self.num_codes
            self.restarts += num
