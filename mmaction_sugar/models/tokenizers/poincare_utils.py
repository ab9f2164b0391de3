# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Poincare-ball maths for the hyperbolic action tokenizer.

Pure functions over ``geoopt``'s stereographic model (sectional curvature
``k = -c``); the ball of radius ``1 / sqrt(c)`` is the Poincare ball used
by LLM-AR (Qu et al., CVPR 2024). Curvature is keyword-only, the last
dimension is the manifold dimension, and every function broadcasts.
"""
from typing import Optional, Union

import torch
from geoopt.manifolds.stereographic import math as gmath

__all__ = [
    'expmap0', 'logmap0', 'mobius_add', 'dist', 'pairwise_dist', 'project',
    'clip_tangent'
]

Curvature = Union[float, torch.Tensor]


def _k(x: torch.Tensor, c: Curvature) -> torch.Tensor:
    """geoopt's sectional curvature ``-c`` as a tensor like ``x``."""
    c = torch.as_tensor(c, dtype=x.dtype, device=x.device)
    if (c <= 0).any():
        raise ValueError(f'the Poincare ball needs curvature c > 0, got {c}')
    return -c


def project(x: torch.Tensor, *, c: Curvature = 1.0) -> torch.Tensor:
    """Pull points back inside the ball with a dtype-aware margin.

    ``|x| <= (1 - eps) / sqrt(c)`` with ``eps`` 4e-3 in float32 and 1e-5
    in float64 (geoopt's ``BALL_EPS``), so the distance stays finite.
    """
    return gmath.project(x, k=_k(x, c))


def expmap0(u: torch.Tensor, *, c: Curvature = 1.0) -> torch.Tensor:
    """Exponential map at the origin (tangent vector -> ball), projected.

    ``exp_0(u) = tanh(sqrt(c) |u|) u / (sqrt(c) |u|)``.
    """
    return project(gmath.expmap0(u, k=_k(u, c)), c=c)


def logmap0(y: torch.Tensor, *, c: Curvature = 1.0) -> torch.Tensor:
    """Logarithmic map at the origin (ball -> tangent vector).

    ``log_0(y) = artanh(sqrt(c) |y|) y / (sqrt(c) |y|)``.
    """
    return gmath.logmap0(y, k=_k(y, c))


def mobius_add(x: torch.Tensor,
               y: torch.Tensor,
               *,
               c: Curvature = 1.0) -> torch.Tensor:
    """Mobius addition ``x (+) y``, the ball's analogue of ``x + y``."""
    return gmath.mobius_add(x, y, k=_k(x, c))


def dist(x: torch.Tensor,
         y: torch.Tensor,
         *,
         c: Curvature = 1.0,
         keepdim: bool = False) -> torch.Tensor:
    """The Poincare distance.

    ``d(x, y) = (2 / sqrt(c)) artanh(sqrt(c) |(-x) (+) y|)``, equal to
    ``(1 / sqrt(c)) arcosh(1 + 2c|x - y|^2 / ((1 - c|x|^2)(1 - c|y|^2)))``.
    """
    return gmath.dist(x, y, k=_k(x, c), keepdim=keepdim)


def pairwise_dist(x: torch.Tensor,
                  codes: torch.Tensor,
                  *,
                  c: Curvature = 1.0) -> torch.Tensor:
    """Distances from every point to every code.

    Args:
        x (torch.Tensor): Points, shape (N, D).
        codes (torch.Tensor): Codes, shape (K, D).
        c (float | torch.Tensor): Curvature. Defaults to 1.0.

    Returns:
        torch.Tensor: Shape (N, K).
    """
    return dist(x[:, None], codes[None], c=c)


def clip_tangent(u: torch.Tensor,
                 max_norm: Optional[float] = None) -> torch.Tensor:
    """Scale tangent vectors longer than ``max_norm`` down to it.

    Clipped hyperbolic embeddings (Guo et al., CVPR 2022) keep points
    away from the ball's edge, where the maps saturate and gradients
    vanish. None leaves ``u`` as it is.
    """
    if max_norm is None:
        return u
    norm = u.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return u * (max_norm / norm).clamp(max=1.0)
