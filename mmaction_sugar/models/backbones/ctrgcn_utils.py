# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Building blocks of CTR-GCN (Chen et al., ICCV 2021)."""
from typing import Sequence

import torch
import torch.nn as nn


def conv_init(conv: nn.Conv2d) -> None:
    """Kaiming-normal (fan-out) weights and zero bias, as in the paper."""
    nn.init.kaiming_normal_(conv.weight, mode='fan_out')
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


def bn_init(bn: nn.BatchNorm2d, scale: float) -> None:
    """Constant BatchNorm scale and zero shift."""
    nn.init.constant_(bn.weight, scale)
    nn.init.zeros_(bn.bias)


class TemporalUnit(nn.Sequential):
    """Temporal convolution ``(k, 1)`` then BatchNorm.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Temporal kernel size. Defaults to 1.
        stride (int): Temporal stride. Defaults to 1.
        dilation (int): Temporal dilation. Defaults to 1.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 1,
                 stride: int = 1,
                 dilation: int = 1) -> None:
        pad = (kernel_size + (kernel_size - 1) * (dilation - 1) - 1) // 2
        conv = nn.Conv2d(
            in_channels,
            out_channels, (kernel_size, 1),
            padding=(pad, 0),
            stride=(stride, 1),
            dilation=(dilation, 1))
        bn = nn.BatchNorm2d(out_channels)
        conv_init(conv)
        bn_init(bn, 1)
        super().__init__(conv, bn)


class MultiScaleTCN(nn.Module):
    """Multi-scale temporal convolution.

    Branches of equal width, concatenated: one ``(k, 1)`` convolution per
    dilation, a 3-frame max-pool and a strided 1x1 convolution, each after
    a 1x1 bottleneck (Chen et al., ICCV 2021, Sec. 4).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels, divisible by the number of
            branches (``len(dilations) + 2``).
        kernel_size (int): Temporal kernel of the dilated branches.
            Defaults to 5.
        stride (int): Temporal stride. Defaults to 1.
        dilations (Sequence[int]): One branch per dilation.
            Defaults to ``(1, 2)``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 5,
                 stride: int = 1,
                 dilations: Sequence[int] = (1, 2)) -> None:
        super().__init__()
        num_branches = len(dilations) + 2
        if out_channels % num_branches:
            raise ValueError(f'out_channels {out_channels} must be divisible '
                             f'by the {num_branches} branches')
        width = out_channels // num_branches

        def bottleneck():
            return [
                nn.Conv2d(in_channels, width, 1),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True)
            ]

        branches = [
            nn.Sequential(*bottleneck(),
                          TemporalUnit(width, width, kernel_size, stride, d))
            for d in dilations
        ]
        branches.append(
            nn.Sequential(*bottleneck(),
                          nn.MaxPool2d((3, 1), (stride, 1), (1, 0)),
                          nn.BatchNorm2d(width)))
        branches.append(
            nn.Sequential(
                nn.Conv2d(in_channels, width, 1, stride=(stride, 1)),
                nn.BatchNorm2d(width)))
        self.branches = nn.ModuleList(branches)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                conv_init(m)
            elif isinstance(m, nn.BatchNorm2d):
                bn_init(m, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, T, V) -> (N, C_out, T / stride, V)."""
        return torch.cat([branch(x) for branch in self.branches], dim=1)


class CTRGC(nn.Module):
    """Channel-wise topology refinement graph convolution.

    For a shared topology ``A`` (V, V), each sample gets per-channel
    topologies ``A + alpha * Q``, with ``Q = xi(tanh(phi(x)_u - psi(x)_v))``
    built from the temporally pooled pairwise differences of two 1x1
    embeddings; features ``zeta(x)`` are then aggregated channel by
    channel: ``y_c = (A + alpha Q_c) zeta(x)_c`` (Chen et al., ICCV 2021,
    Eq. 5-7).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        reduction (int): Channel reduction of the correlation embeddings;
            narrow inputs (raw joints, up to 16 channels) use 8 channels,
            as the paper's 3- and 9-channel inputs do. Defaults to 8.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 reduction: int = 8) -> None:
        super().__init__()
        rel = 8 if in_channels <= 16 else in_channels // reduction
        self.phi = nn.Conv2d(in_channels, rel, 1)
        self.psi = nn.Conv2d(in_channels, rel, 1)
        self.zeta = nn.Conv2d(in_channels, out_channels, 1)
        self.xi = nn.Conv2d(rel, out_channels, 1)
        for conv in (self.phi, self.psi, self.zeta, self.xi):
            conv_init(conv)

    def forward(self, x: torch.Tensor, A: torch.Tensor,
                alpha: torch.Tensor) -> torch.Tensor:
        """(N, C_in, T, V) with A (V, V) -> (N, C_out, T, V)."""
        q1 = self.phi(x).mean(dim=2)  # (N, R, V)
        q2 = self.psi(x).mean(dim=2)  # (N, R, V)
        q = torch.tanh(q1.unsqueeze(-1) - q2.unsqueeze(-2))  # (N, R, V, V)
        topology = self.xi(q) * alpha + A  # (N, C_out, V, V)
        return torch.einsum('ncuv,nctv->nctu', topology, self.zeta(x))


class CTRGCNUnit(nn.Module):
    """Spatial block: one CTRGC per graph subset, summed, BN, residual.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        A (torch.Tensor): Graph subsets, shape (K, V, V); learned from
            this initial value (``adaptive``).
        residual (bool): Add the (projected) input. Defaults to True.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 A: torch.Tensor,
                 residual: bool = True) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            CTRGC(in_channels, out_channels) for _ in range(A.shape[0]))
        self.A = nn.Parameter(A.clone())
        self.alpha = nn.Parameter(torch.zeros(1))
        self.bn = nn.BatchNorm2d(out_channels)
        bn_init(self.bn, 1e-6)  # each block starts close to its residual
        if not residual:
            self.down = None
        elif in_channels == out_channels:
            self.down = nn.Identity()
        else:
            self.down = TemporalUnit(in_channels, out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, T, V) -> (N, C_out, T, V)."""
        y = sum(conv(x, self.A[i], self.alpha)
                for i, conv in enumerate(self.convs))
        y = self.bn(y)
        if self.down is not None:
            y = y + self.down(x)
        return self.relu(y)


class CTRGCNBlock(nn.Module):
    """CTR-GCN block: spatial unit, multi-scale temporal conv, residual.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        A (torch.Tensor): Graph subsets, shape (K, V, V).
        stride (int): Temporal stride. Defaults to 1.
        residual (bool): Use the block's residual connection.
            Defaults to True.
        kernel_size (int): Temporal kernel size. Defaults to 5.
        dilations (Sequence[int]): Temporal dilations.
            Defaults to ``(1, 2)``.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 A: torch.Tensor,
                 stride: int = 1,
                 residual: bool = True,
                 kernel_size: int = 5,
                 dilations: Sequence[int] = (1, 2)) -> None:
        super().__init__()
        self.gcn = CTRGCNUnit(in_channels, out_channels, A)
        self.tcn = MultiScaleTCN(out_channels, out_channels, kernel_size,
                                 stride, dilations)
        self.relu = nn.ReLU(inplace=True)
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = TemporalUnit(in_channels, out_channels,
                                         stride=stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, T, V) -> (N, C_out, T / stride, V)."""
        y = self.tcn(self.gcn(x))
        if self.residual is not None:
            y = y + self.residual(x)
        return self.relu(y)
