# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""LLM-AR stage 2: frozen action tokenizer -> LoRA-tuned LLM."""
from typing import Dict, Optional

from mmaction.registry import MODELS

from .sugar_recognizer import SugarRecognizer

__all__ = ['LLMARRecognizer']


@MODELS.register_module()
class LLMARRecognizer(SugarRecognizer):
    """An LLM that recognizes actions from their action sentences.

    LLM-AR (Qu et al., "LLMs are Good Action Recognizers", CVPR 2024):
    ``backbone`` is the stage-1 :class:`ActionVQVAE`, loaded whole from
    its checkpoint and frozen, whose ``tensor`` mode turns each clip into
    code indices (N, W); ``cls_head`` is an :class:`ActionSentenceHead`
    that lets the LoRA-tuned LLM read them. There is no neck. Modes and
    checkpoints are :class:`SugarRecognizer`'s (the frozen LLM is never
    written; the tokenizer, code embeddings and LoRA are).

    Args:
        backbone (dict): The :class:`ActionVQVAE` config of stage 1.
        cls_head (dict): The :class:`ActionSentenceHead` config.
        encoder_checkpoint (str, optional): The stage-1 checkpoint
            (``weights_only=True``). Defaults to None.
        train_cfg (dict, optional): Unused. Defaults to None.
        test_cfg (dict, optional): Unused. Defaults to None.
        data_preprocessor (dict, optional): Defaults to the toolbox's
            ``ActionDataPreprocessor``.

    Example:
        >>> from mmengine.registry import init_default_scope
        >>> init_default_scope('mmaction')  # as the runner does
        >>> model = LLMARRecognizer(
        ...     backbone=dict(type='ActionVQVAE', width=32, latent_dim=8,
        ...                   codebook=dict(num_codes=16)),
        ...     cls_head=dict(
        ...         type='ActionSentenceHead', num_codes=16,
        ...         llm=dict(type='LoRACausalLM', config=dict(
        ...             model_type='llama', vocab_size=49152,
        ...             hidden_size=32, intermediate_size=64,
        ...             num_hidden_layers=2, num_attention_heads=4,
        ...             num_key_value_heads=2),
        ...             tokenizer_path='smollm2-135m-instruct',
        ...             lora=dict(r=4, lora_alpha=8,
        ...                       target_modules=['q_proj', 'v_proj'])),
        ...         knowledge='synth_ntu', matcher_encoder=None))
        >>> import torch
        >>> clips = torch.randn(2, 1, 2, 32, 25, 3)  # (N, clips, M, T, V, C)
        >>> model(clips, mode='tensor').shape  # the action sentences
        torch.Size([2, 8])
    """

    encoder_prefix = ''  # a stage-1 checkpoint is the tokenizer itself

    def __init__(self,
                 backbone: Dict,
                 cls_head: Dict,
                 encoder_checkpoint: Optional[str] = None,
                 train_cfg: Optional[Dict] = None,
                 test_cfg: Optional[Dict] = None,
                 data_preprocessor: Optional[Dict] = None) -> None:
        super().__init__(
            backbone=backbone,
            neck=None,
            cls_head=cls_head,
            encoder_checkpoint=encoder_checkpoint,
            freeze_encoder=True,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor)
        num_codes = getattr(self.backbone, 'num_codes', None)
        if num_codes != getattr(self.cls_head, 'num_codes', num_codes):
            raise ValueError(
                f'the tokenizer has {num_codes} codes but the head reads '
                f'{self.cls_head.num_codes}: set cls_head.num_codes to '
                'the codebook size')
