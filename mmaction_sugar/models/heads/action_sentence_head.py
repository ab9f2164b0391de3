# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""LLM-AR's head: a LoRA-tuned frozen LLM reading action sentences."""
import re
from typing import Dict, List, Optional, Sequence

import torch
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from torch import nn

from .llm_head import LLMHead

__all__ = ['ActionSentenceHead', 'LLMAR_INSTRUCTION']

LLMAR_INSTRUCTION = (
    'Candidate actions: {actions}.\n'
    'An action sentence is a human action written in action words. Given '
    'the action sentence, please choose the most compatible action from '
    'the candidate actions, and describe the action.\n'
    'Action sentence: <action>')
"""str: LLM-AR's instruction-following prompt, with the candidate list
first so its keys and values are shared by every clip of a batch."""

WORD = re.compile(r'^[a-z]{3,6}$')


def pick_vocab_words(tokenizer, num: int) -> List[int]:
    """Ids of ``num`` plain lowercase word-piece tokens (3-6 letters, no
    leading space) of ``tokenizer``, in id order: the vocabulary that an
    action sentence is written in with ``sentence='vocab'``."""
    special = set(tokenizer.all_special_ids)
    ids = []
    for i in range(len(tokenizer)):
        if i not in special and WORD.match(tokenizer.decode([i])):
            ids.append(i)
            if len(ids) == num:
                return ids
    raise ValueError(f'the tokenizer has only {len(ids)} plain word-piece '
                     f'tokens, fewer than the {num} codes: pass vocab_words')


@MODELS.register_module()
class ActionSentenceHead(LLMHead):
    """Names and describes an action from its action sentence.

    LLM-AR (Qu et al., CVPR 2024): the frozen tokenizer's code indices
    (N, W) become tokens the LLM reads at ``<action>`` in the instruction:

    - ``sentence='new_tokens'``: K new tokens ``<a0> ... <aK-1>`` whose
      embeddings are trained with the LoRA weights (initialised from
      random rows of the LLM's own embedding table, so they start at the
      scale of its words);
    - ``sentence='vocab'``: each code is written as an existing token
      (``vocab_words``, or the tokenizer's first K plain 3-6 letter word
      pieces), read through the LLM's frozen embeddings: nothing but LoRA
      is trained and the sentence is plain text.

    Everything else (targets, exact candidate scoring into ``pred_score``,
    generation with robust class mapping, open-vocabulary candidate
    lists, checkpoints without the frozen LLM) is :class:`LLMHead`'s.
    ``predict`` also stores the clip's ``action_sentence`` as text.

    Args:
        num_codes (int): The tokenizer's codebook size K.
        sentence (str): ``'new_tokens'`` or ``'vocab'``. Defaults to
            ``'new_tokens'``.
        vocab_words (Sequence[str], optional): K words, each a single token
            of the LLM's tokenizer, for ``'vocab'``. Defaults to None
            (chosen automatically).
        instruction (str): Defaults to :data:`LLMAR_INSTRUCTION`.
        **kwargs: :class:`LLMHead` arguments (``llm``, ``knowledge``,
            ``train_classes``, ``test_classes``, ``generate`` ...).

    Example:
        >>> head = ActionSentenceHead(
        ...     num_codes=16,
        ...     llm=dict(type='LoRACausalLM', config=dict(
        ...         model_type='llama', vocab_size=49152, hidden_size=32,
        ...         intermediate_size=64, num_hidden_layers=2,
        ...         num_attention_heads=4, num_key_value_heads=2),
        ...         tokenizer_path='smollm2-135m-instruct',
        ...         lora=dict(r=4, lora_alpha=8,
        ...                   target_modules=['q_proj', 'v_proj'])),
        ...     knowledge='synth_ntu', matcher_encoder=None)
        >>> from mmaction.structures import ActionDataSample
        >>> samples = [ActionDataSample().set_gt_label(3) for _ in range(2)]
        >>> codes = torch.randint(16, (2, 8))  # (N, W) action sentences
        >>> sorted(head.loss(codes, samples))
        ['loss_llm', 'name_acc', 'token_acc']
        >>> head.predict(codes, samples)[0].pred_score.shape
        torch.Size([32])
    """

    def __init__(self,
                 num_codes: int,
                 sentence: str = 'new_tokens',
                 vocab_words: Optional[Sequence[str]] = None,
                 instruction: str = LLMAR_INSTRUCTION,
                 **kwargs) -> None:
        super().__init__(instruction=instruction, **kwargs)
        if sentence not in ('new_tokens', 'vocab'):
            raise ValueError("sentence must be 'new_tokens' or 'vocab', got "
                             f'{sentence!r}')
        self.num_codes = num_codes
        self.sentence = sentence
        table = self.llm.base_causal_lm.get_input_embeddings().weight
        if sentence == 'new_tokens':
            rows = torch.randint(len(table), (num_codes, ))
            self.code_embed = nn.Embedding(num_codes, table.shape[1])
            self.code_embed.weight.data.copy_(table.detach()[rows].float())
            return
        tok = self.llm.tokenizer
        if vocab_words is None:
            ids = pick_vocab_words(tok, num_codes)
        else:
            ids = [
                tok.encode(w, add_special_tokens=False) for w in vocab_words
            ]
            bad = [w for w, i in zip(vocab_words, ids) if len(i) != 1]
            if len(ids) != num_codes or bad:
                raise ValueError(
                    f'vocab_words must be {num_codes} single-token words; got '
                    f'{len(ids)}, not single tokens: {bad[:5]}')
            ids = [i[0] for i in ids]
        self.register_buffer('code_ids', torch.tensor(ids), False)

    def embed_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """LLM input embeddings (N, W, H) of action sentences (N, W)."""
        if codes.dim() != 2 or codes.dtype != torch.long:
            raise ValueError('expected action sentences as code indices '
                             f'(N, W) of dtype long, got {codes.dtype} '
                             f'{tuple(codes.shape)}')
        if codes.numel() and (codes.min() < 0
                              or codes.max() >= self.num_codes):
            raise ValueError(
                f'code indices must be in [0, {self.num_codes}), got '
                f'[{int(codes.min())}, {int(codes.max())}]: does the '
                "tokenizer's codebook size match the head's num_codes?")
        if self.sentence == 'new_tokens':
            return self.code_embed(codes).to(self.llm.dtype)
        return self.llm.embed_tokens(self.code_ids[codes])

    def sentence_text(self, codes: torch.Tensor) -> List[str]:
        """The action sentences as text, e.g. ``'<a12><a3><a3>'``."""
        if self.sentence == 'new_tokens':
            return [''.join(f'<a{c}>' for c in row) for row in codes.tolist()]
        return self.llm.tokenizer.batch_decode(self.code_ids[codes])

    def forward(self, codes: torch.Tensor, **kwargs) -> torch.Tensor:
        """Candidate scores (N, num_classes) (the ``tensor`` mode)."""
        return self.scores(self.embed_codes(codes))

    def loss(self, codes: torch.Tensor, data_samples: SampleList,
             **kwargs) -> Dict:
        """See :meth:`LLMHead.loss`; ``codes`` are (N, W) indices."""
        return super().loss(self.embed_codes(codes), data_samples)

    def predict(self, codes: torch.Tensor, data_samples: SampleList,
                **kwargs) -> SampleList:
        """See :meth:`LLMHead.predict`; also sets ``action_sentence``."""
        samples = super().predict(self.embed_codes(codes), data_samples)
        clips = len(codes) // len(samples)
        texts = self.sentence_text(codes[::clips])
        for sample, text in zip(samples, texts):
            sample.action_sentence = text
        return samples
