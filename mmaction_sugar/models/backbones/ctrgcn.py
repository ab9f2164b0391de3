# Copyright (c) mmaction-sugar contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmaction.models.utils import Graph
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from .ctrgcn_utils import CTRGCNBlock

REGISTERED_NAME = 'SugarCTRGCN'
"""str: The registry name of :class:`CTRGCN`. A distinct name, so that it
never collides with the ``CTRGCN`` that MMAction2's source-tree project
(``projects/ctrgcn``) registers when a user imports it in the same
process, whichever is imported first."""


@MODELS.register_module(name=REGISTERED_NAME)
class CTRGCN(BaseModule):
    """CTR-GCN backbone (Chen et al., ICCV 2021), SUGAR's skeleton encoder.

    "Channel-wise Topology Refinement Graph Convolution for Skeleton-Based
    Action Recognition": every block refines the shared, learnable graph
    topology per channel with a sample-dependent correlation (see
    :class:`~mmaction_sugar.models.backbones.ctrgcn_utils.CTRGC`), then
    applies a multi-scale dilated temporal convolution, with residual
    connections. Registered as ``'SugarCTRGCN'`` (see
    :data:`REGISTERED_NAME`). Input and output follow the toolbox's
    skeleton backbones, so ``GCNHead`` and the SUGAR heads take it as is.

    Args:
        graph_cfg (dict): Config of the toolbox's ``Graph``, e.g.
            ``dict(layout='nturgb+d', mode='spatial')`` (3 subsets).
        in_channels (int): Channels of the input (3 for 3D joints, 2 or 3
            for 2D keypoints with scores). Defaults to 3.
        base_channels (int): Width of the first blocks. Defaults to 64.
        data_bn_type (str): Input BatchNorm over persons, joints and
            channels (``'MVC'``), joints and channels (``'VC'``) or none
            (None). Defaults to ``'MVC'``.
        num_person (int): Persons per sample, for ``'MVC'``.
            Defaults to 2.
        num_stages (int): Number of blocks. Defaults to 10.
        inflate_stages (Sequence[int]): Blocks (1-based) that double the
            width. Defaults to ``(5, 8)``: 64-64-64-64-128-128-128-256-256-
            256.
        down_stages (Sequence[int]): Blocks with temporal stride 2.
            Defaults to ``(5, 8)``.
        kernel_size (int): Temporal kernel size. Defaults to 5.
        dilations (Sequence[int]): Temporal dilations. Defaults to
            ``(1, 2)``.
        init_cfg (dict or list[dict], optional): Initialisation config;
            the blocks already initialise as in the paper.
            Defaults to None.

    Example:
        >>> import torch
        >>> from mmaction_sugar.models.backbones import CTRGCN
        >>> model = CTRGCN(graph_cfg=dict(layout='nturgb+d', mode='spatial'))
        >>> x = torch.randn(2, 2, 32, 25, 3)  # (N, M, T, V, C)
        >>> model(x).shape  # (N, M, C, T / 4, V)
        torch.Size([2, 2, 256, 8, 25])
        >>> # with a 60-class linear classifier: 1.45M (published: 1.46M)
        >>> round(sum(p.numel() for p in model.parameters()) / 1e6, 2)
        1.43
    """

    def __init__(self,
                 graph_cfg: Dict,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 data_bn_type: Optional[str] = 'MVC',
                 num_person: int = 2,
                 num_stages: int = 10,
                 inflate_stages: Sequence[int] = (5, 8),
                 down_stages: Sequence[int] = (5, 8),
                 kernel_size: int = 5,
                 dilations: Sequence[int] = (1, 2),
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.graph = Graph(**graph_cfg)
        A = torch.tensor(self.graph.A, dtype=torch.float32)  # (K, V, V)
        num_joints = A.shape[1]
        if data_bn_type not in ('MVC', 'VC', None):
            raise ValueError("data_bn_type must be 'MVC', 'VC' or None, got "
                             f'{data_bn_type!r}')
        self.data_bn_type = data_bn_type
        self.in_channels = in_channels
        self.num_person = num_person
        if data_bn_type == 'MVC':
            self.data_bn = nn.BatchNorm1d(num_person * in_channels *
                                          num_joints)
        elif data_bn_type == 'VC':
            self.data_bn = nn.BatchNorm1d(in_channels * num_joints)
        else:
            self.data_bn = nn.Identity()
        blocks = []
        channels = in_channels
        width = base_channels
        for stage in range(1, num_stages + 1):
            width *= 1 + (stage in inflate_stages)
            blocks.append(
                CTRGCNBlock(
                    channels,
                    width,
                    A,
                    stride=1 + (stage in down_stages),
                    residual=stage > 1,
                    kernel_size=kernel_size,
                    dilations=dilations))
            channels = width
        self.gcn = nn.ModuleList(blocks)
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode a batch of skeleton sequences.

        Args:
            x (torch.Tensor): Joints, shape (N, M, T, V, C).

        Returns:
            torch.Tensor: Features, shape (N, M, C', T', V), with the
            temporal length reduced by the down-sampling blocks (by 4 by
            default) and no temporal pooling.
        """
        N, M, T, V, C = x.shape
        if C != self.in_channels:
            raise ValueError(f'expected {self.in_channels} input channels '
                             f'(x of shape (N, M, T, V, C)), got {C}')
        if self.data_bn_type == 'MVC' and M != self.num_person:
            raise ValueError(f'expected {self.num_person} persons for the '
                             f"'MVC' input BatchNorm, got {M}; set "
                             'num_person or data_bn_type')
        x = x.permute(0, 1, 3, 4, 2).contiguous()  # (N, M, V, C, T)
        if self.data_bn_type == 'MVC':
            x = self.data_bn(x.view(N, M * V * C, T))
        else:
            x = self.data_bn(x.view(N * M, V * C, T))
        x = x.view(N, M, V, C, T).permute(0, 1, 3, 4, 2)  # (N, M, C, T, V)
        x = x.contiguous().view(N * M, C, T, V)
        for block in self.gcn:
            x = block(x)
        return x.reshape((N, M) + x.shape[1:])  # (N, M, C', T', V)
