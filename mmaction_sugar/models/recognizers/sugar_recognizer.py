# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""SUGAR stage 3: frozen skeleton encoder -> TQP neck -> LoRA-tuned LLM."""
import os.path as osp
from typing import Dict, Optional, Tuple

import torch
from mmaction.models.recognizers import RecognizerGCN
from mmaction.registry import MODELS
from mmengine.logging import MMLogger

from mmaction_sugar.utils import safe_torch_load

__all__ = ['SugarRecognizer']


@MODELS.register_module()
class SugarRecognizer(RecognizerGCN):
    """An LLM action recognizer over a frozen skeleton encoder.

    ``backbone`` is any MMAction2 skeleton backbone (STGCN, AAGCN,
    STGCN++, :class:`CTRGCN` ...), loaded from the stage-2 checkpoint and
    frozen (eval mode, no gradients); ``neck`` maps its features to soft
    tokens (:class:`TemporalQueryProjection`); ``cls_head`` is the LLM
    (:class:`LLMHead`). Modes: ``loss`` (the LLM's target cross-entropy),
    ``predict`` (candidate scores in ``pred_score``, answers when the head
    generates) and ``tensor`` (the soft tokens).

    Checkpoints hold the encoder, the neck and the LoRA weights; the
    frozen LLM is never written.

    Args:
        backbone (dict): The skeleton encoder config.
        neck (dict): The soft-token projection config.
        cls_head (dict): The :class:`LLMHead` config.
        encoder_checkpoint (str, optional): A stage-2 checkpoint whose
            ``backbone.*`` weights initialise the encoder (loaded with
            ``weights_only=True``). Defaults to None.
        freeze_encoder (bool): Keep the encoder frozen. Defaults to True.
        train_cfg (dict, optional): Unused. Defaults to None.
        test_cfg (dict, optional): Unused. Defaults to None.
        data_preprocessor (dict, optional): Defaults to the toolbox's
            ``ActionDataPreprocessor``.

    Example:
        >>> from mmengine.registry import init_default_scope
        >>> init_default_scope('mmaction')  # as the runner does
        >>> model = SugarRecognizer(
        ...     backbone=dict(type='STGCN', base_channels=16,
        ...                   graph_cfg=dict(layout='nturgb+d',
        ...                                  mode='stgcn_spatial')),
        ...     neck=dict(type='TemporalQueryProjection', in_channels=64,
        ...               out_channels=32, num_queries=4, num_segments=2,
        ...               qformer=dict(hidden_size=32, num_hidden_layers=1,
        ...                            num_attention_heads=2,
        ...                            intermediate_size=64)),
        ...     cls_head=dict(
        ...         type='LLMHead', in_channels=32, knowledge='synth_ntu',
        ...         matcher_encoder=None,
        ...         llm=dict(type='LoRACausalLM', config=dict(
        ...             model_type='llama', vocab_size=49152,
        ...             hidden_size=32, intermediate_size=64,
        ...             num_hidden_layers=2, num_attention_heads=4,
        ...             num_key_value_heads=2),
        ...             tokenizer_path='smollm2-135m-instruct',
        ...             lora=dict(r=4, lora_alpha=8,
        ...                       target_modules=['q_proj', 'v_proj']))))
        >>> any(p.requires_grad for p in model.backbone.parameters())
        False
        >>> clips = torch.randn(2, 1, 2, 16, 25, 3)  # (N, clips, M, T, V, C)
        >>> model(clips, mode='tensor').shape  # soft tokens (N, Q, H)
        torch.Size([2, 4, 32])
        >>> from mmaction.structures import ActionDataSample
        >>> samples = [ActionDataSample().set_gt_label(3) for _ in range(2)]
        >>> model(clips, samples, mode='predict')[0].pred_score.shape
        torch.Size([32])
    """

    encoder_prefix = 'backbone.'  # where the encoder sits in its checkpoint

    def __init__(self,
                 backbone: Dict,
                 neck: Dict,
                 cls_head: Dict,
                 encoder_checkpoint: Optional[str] = None,
                 freeze_encoder: bool = True,
                 train_cfg: Optional[Dict] = None,
                 test_cfg: Optional[Dict] = None,
                 data_preprocessor: Optional[Dict] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=neck,
            cls_head=cls_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor)
        self.encoder_checkpoint = encoder_checkpoint
        self.freeze_encoder = freeze_encoder
        if freeze_encoder:
            self.backbone.requires_grad_(False)
            self.backbone.eval()

    def init_weights(self) -> None:
        """Initialise the neck (and head), then load the stage-2 encoder."""
        super().init_weights()
        if self.encoder_checkpoint is not None:
            self.load_encoder(self.encoder_checkpoint)
        elif self.freeze_encoder:
            MMLogger.get_current_instance().warning(
                f'{type(self).__name__}: no encoder_checkpoint, so the '
                'frozen encoder keeps random weights unless a checkpoint is '
                'loaded next (--resume / load_from). Set '
                'model.encoder_checkpoint to the previous stage\'s '
                'checkpoint, or train with a multi-stage config such as '
                'configs/sugar_synthntu.py or configs/llmar_synthntu.py')

    def load_encoder(self, path: str) -> None:
        """Load ``backbone.*`` weights from a stage-2 checkpoint.

        Args:
            path (str): An mmengine checkpoint (``.pth``) of a recognizer
                with the same backbone.

        Raises:
            ValueError: If the file is missing, has no backbone weights,
                or they do not fit this backbone.
        """
        if not osp.isfile(path):
            raise ValueError(
                f'encoder_checkpoint {path!r} does not exist: train stage 2 '
                'first, or set model.encoder_checkpoint')
        ckpt = safe_torch_load(path)
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt,
                                                           dict) else None
        if not isinstance(state, dict):
            raise ValueError(f'{path!r} holds no state_dict')
        prefix = self.encoder_prefix
        weights = {
            k[len(prefix):]: v
            for k, v in state.items() if k.startswith(prefix)
        }
        if not weights:
            raise ValueError(f'{path!r} has no {prefix}* weights (expected '
                             'a stage-2 recognizer checkpoint)')
        try:
            self.backbone.load_state_dict(weights, strict=True)
        except RuntimeError as err:
            raise ValueError(
                f'the backbone weights in {path!r} do not fit the configured '
                f'backbone {type(self.backbone).__name__}: {err}') from err
        MMLogger.get_current_instance().info(
            f'SugarRecognizer: encoder loaded from {path} '
            f'({len(weights)} tensors, frozen={self.freeze_encoder})')

    def train(self, mode: bool = True) -> 'SugarRecognizer':
        super().train(mode)
        if self.freeze_encoder:
            self.backbone.eval()  # BatchNorm statistics stay fixed
        return self

    def extract_feat(self,
                     inputs: torch.Tensor,
                     stage: str = 'neck',
                     **kwargs) -> Tuple:
        """Encoder features, then soft tokens.

        Args:
            inputs (torch.Tensor): Skeletons, shape
                (B, num_clips, M, T, V, C).
            stage (str): ``'backbone'`` or ``'neck'``. Defaults to
                ``'neck'``.

        Returns:
            tuple: The features (soft tokens (B * num_clips, Q, H) at
            ``'neck'``) and an empty kwargs dict.
        """
        bs, nc = inputs.shape[:2]
        inputs = inputs.reshape((bs * nc, ) + inputs.shape[2:])
        with torch.set_grad_enabled(torch.is_grad_enabled()
                                    and not self.freeze_encoder):
            x = self.backbone(inputs)
        if stage == 'backbone' or not self.with_neck:
            return x, dict()
        return self.neck(x), dict()

    def _forward(self,
                 inputs: torch.Tensor,
                 stage: str = 'neck',
                 **kwargs) -> torch.Tensor:
        """The ``tensor`` mode: soft tokens (or encoder features with
        ``stage='backbone'``)."""
        return self.extract_feat(inputs, stage=stage)[0]
