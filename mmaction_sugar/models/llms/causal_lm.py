# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""A frozen Hugging Face causal LM tuned with LoRA, fed with soft tokens.

One component serves both LLM recognizers (SUGAR and LLM-AR): it loads any
causal LM from a local folder (a GGUF file included) or builds one from a
config, freezes it, wraps it with ``peft`` LoRA from a plain dict, and runs
it on ``inputs_embeds`` after a shared prompt prefix whose keys and values
are computed once per batch.

Checkpoints written by mmengine hold only the trainable parameters (the
LoRA matrices, plus any ``modules_to_save``): the frozen weights are
dropped from :meth:`state_dict` and are not reported missing on load, so a
``.pth`` stays small and never carries the LLM.
"""
import os
import os.path as osp
import shutil
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from .bundled import resolve_llm_path

__all__ = ['LoRACausalLM', 'LLMLoadError']

_DTYPES = dict(
    float32=torch.float32, bfloat16=torch.bfloat16, float16=torch.float16)

#: The name FSDP gives the module it wraps (in state-dict prefixes).
FSDP_PREFIX = '_fsdp_wrapped_module.'
TOKENIZER_FILES = ('tokenizer.json', 'tokenizer_config.json',
                   'tokenizer.model', 'vocab.json', 'vocab.txt',
                   'spiece.model')
"""tuple[str]: Files of which a tokenizer folder holds at least one."""


class LLMLoadError(ValueError):
    """A language model folder, file or config that cannot be used."""


def _quiet_transformers() -> None:
    """Silence transformers' per-tensor progress bars and info logs."""
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def _brief(err: Exception) -> str:
    """``'<type>: <message>'`` of a library error, on one short line."""
    text = ' '.join(str(err).split())
    if 'ignore_mismatched_sizes' in text:  # its report went to the log
        text = 'the weights do not have the shapes that config.json gives'
    text = text if len(text) <= 300 else text[:297] + '...'
    return f'{type(err).__name__}: {text}'


def _check_decoder_only(config, where: str) -> None:
    """Refuse a config that is not a decoder-only causal LM.

    transformers also builds ``*ForCausalLM`` classes for encoders (BERT,
    RoBERTa, ...) and for the decoders of encoder-decoder models (BART,
    mBART, ...). An encoder attends in both directions, so it would read
    the answer it is asked to predict, and the heads' cached prompt
    prefix would be wrong: both are refused here, by their config alone,
    before any weight is read.

    Args:
        config (transformers.PretrainedConfig): The model's config.
        where (str): The folder (or ``'<config>'``), for the message.

    Raises:
        LLMLoadError: For a model type without a causal LM, an
            encoder-decoder model, or an encoder not set up as a decoder
            (a model type with a masked-LM head and ``is_decoder`` unset).
    """
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES, MODEL_FOR_MASKED_LM_MAPPING_NAMES)
    model_type = getattr(config, 'model_type', None)
    names = ', '.join(getattr(config, 'architectures', None) or [])
    what = f'{where} holds a {model_type!r} model' + (
        f' ({names})' if names else '')
    expected = ('expected a decoder-only causal LM such as llama, mistral, '
                'qwen2 or gpt2')
    if model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        raise LLMLoadError(f'{what}, which has no causal LM in transformers: '
                           f'{expected}')
    if getattr(config, 'is_encoder_decoder', False) or (
            model_type in MODEL_FOR_MASKED_LM_MAPPING_NAMES
            and not getattr(config, 'is_decoder', False)):
        raise LLMLoadError(f'{what}, an encoder that attends in both '
                           f'directions: {expected}')


def _resolve_dtype(dtype: Union[str, torch.dtype]) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype not in _DTYPES:
        raise ValueError(
            f'dtype must be one of {sorted(_DTYPES)}, got {dtype!r}')
    return _DTYPES[dtype]


@MODELS.register_module()
class LoRACausalLM(BaseModule):
    """A frozen causal LM with LoRA adapters, driven by input embeddings.

    Args:
        path (str, optional): A local folder with a Hugging Face causal LM
            (``config.json`` + weights, or a GGUF file named by
            ``gguf_file``), or ``'smollm2-135m-instruct'`` for the bundled
            model (see :mod:`.bundled`). Nothing is ever downloaded.
            Defaults to None (then ``config`` is required).
        gguf_file (str, optional): The GGUF file inside ``path``, which
            transformers dequantizes to a normal model. Defaults to None.
        config (dict, optional): Build a randomly initialised model from
            this config instead, e.g. ``dict(model_type='llama',
            hidden_size=4096, ...)`` for a LLaMA-2-7B-shaped model.
            Defaults to None.
        tokenizer_path (str, optional): The tokenizer's folder. Defaults to
            ``path`` (with ``gguf_file``).
        lora (dict, optional): ``peft.LoraConfig`` arguments. The paper's
            setting is ``r=64, lora_alpha=16``. ``None`` keeps the LLM
            fully frozen. Defaults to r=64, alpha=16, dropout 0.05 on the
            attention projections.
        dtype (str): ``'float32'`` (CPU), ``'bfloat16'`` or ``'float16'``
            (GPU). LoRA weights follow it. Defaults to ``'float32'``.
        gradient_checkpointing (bool): Recompute the LLM's activations in
            the backward pass (saves memory on large models; disables the
            shared-prefix cache during training). Defaults to False.
        attn_implementation (str, optional): ``'sdpa'`` or ``'eager'``.
            Defaults to None (transformers' default).
        init_cfg (dict, optional): Unused: the weights come from ``path``.
            Defaults to None.

    Example:
        >>> llm = LoRACausalLM(
        ...     config=dict(model_type='llama', vocab_size=49152,
        ...                 hidden_size=32, intermediate_size=64,
        ...                 num_hidden_layers=2, num_attention_heads=4,
        ...                 num_key_value_heads=2),
        ...     tokenizer_path='smollm2-135m-instruct',
        ...     lora=dict(r=4, lora_alpha=8, target_modules=['q_proj']))
        >>> llm.hidden_size
        32
        >>> sorted(llm.state_dict())[0]
        'model.base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight'
        >>> prefix = torch.randn(1, 5, 32)
        >>> hidden, cache = llm.forward_embeds(torch.randn(3, 4, 32), prefix)
        >>> hidden.shape, cache.get_seq_length()
        (torch.Size([3, 4, 32]), 9)
    """

    def __init__(self,
                 path: Optional[str] = None,
                 gguf_file: Optional[str] = None,
                 config: Optional[Dict] = None,
                 tokenizer_path: Optional[str] = None,
                 lora: Optional[Dict] = dict(
                     r=64,
                     lora_alpha=16,
                     lora_dropout=0.05,
                     target_modules=['q_proj', 'k_proj', 'v_proj', 'o_proj']),
                 dtype: Union[str, torch.dtype] = 'float32',
                 gradient_checkpointing: bool = False,
                 attn_implementation: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if (path is None) == (config is None):
            raise LLMLoadError('LoRACausalLM needs exactly one of `path` (a '
                               'local model folder) and `config`')
        _quiet_transformers()
        if path is not None:
            path = resolve_llm_path(path)
        if tokenizer_path is not None:
            tokenizer_path = resolve_llm_path(tokenizer_path)
        self.path, self.gguf_file = path, gguf_file
        self.dtype = _resolve_dtype(dtype)
        self.gradient_checkpointing = gradient_checkpointing
        model = self._load_model(path, gguf_file, config, attn_implementation)
        model.requires_grad_(False)
        if gradient_checkpointing:
            model.gradient_checkpointing_enable(
                gradient_checkpointing_kwargs=dict(use_reentrant=False))
            model.enable_input_require_grads()
        if lora is not None:
            from peft import LoraConfig, get_peft_model
            lora = dict(lora)
            lora.setdefault('task_type', 'CAUSAL_LM')
            try:
                model = get_peft_model(model, LoraConfig(**lora))
            except ValueError as err:
                raise LLMLoadError(
                    f'LoRA config {lora} does not fit the model at '
                    f'{path or "<config>"}: {err}') from err
        self.model = model
        self.tokenizer = self._load_tokenizer(
            tokenizer_path or path,
            gguf_file if tokenizer_path is None else None, config)
        rows = self.base_causal_lm.get_input_embeddings().num_embeddings
        if len(self.tokenizer) > rows:
            raise LLMLoadError(
                f'the tokenizer at {tokenizer_path or path!r} has '
                f'{len(self.tokenizer)} tokens but the model at '
                f'{path or "<config>"} embeds only {rows}: the tokenizer '
                'belongs to another model')
        # only these are checkpointed; the frozen LLM never is
        self._trainable = {
            name
            for name, p in self.named_parameters() if p.requires_grad
        }
        self._register_state_dict_hook(self._drop_frozen)
        self.register_load_state_dict_post_hook(self._ignore_frozen_missing)

    # ------------------------------------------------------------------
    # loading
    def _load_model(self, path, gguf_file, config, attn_implementation):
        from transformers import AutoConfig, AutoModelForCausalLM
        kwargs = dict(dtype=self.dtype)
        if attn_implementation is not None:
            kwargs['attn_implementation'] = attn_implementation
        if config is not None:
            config = dict(config)
            model_type = config.pop('model_type', None)
            if model_type is None:
                raise LLMLoadError('`config` needs a `model_type`, e.g. '
                                   "'llama'")
            where = f'config {dict(model_type=model_type, **config)}'
            try:  # e.g. an unknown type, heads that do not divide the width
                hf_config = AutoConfig.for_model(model_type, **config)
            except Exception as err:
                raise LLMLoadError(
                    f'cannot build a causal LM from {where}: '
                    f'{_brief(err)}') from err
            _check_decoder_only(hf_config, '<config>')
            try:
                return AutoModelForCausalLM.from_config(hf_config, **kwargs)
            except Exception as err:
                raise LLMLoadError(
                    f'cannot build a causal LM from {where}: '
                    f'{_brief(err)}') from err
        if not osp.isdir(path):
            raise LLMLoadError(
                f'LLM folder {path!r} does not exist (models are never '
                'downloaded: pass the folder of a saved model)')
        if gguf_file is not None:
            if not osp.isfile(osp.join(path, gguf_file)):
                raise LLMLoadError(
                    f'GGUF file {gguf_file!r} not found in {path!r}')
            kwargs['gguf_file'] = gguf_file
        elif not osp.isfile(osp.join(path, 'config.json')):
            raise LLMLoadError(
                f'{path!r} has no config.json: expected a saved Hugging '
                'Face model folder (or pass `gguf_file`)')
        try:  # the config alone first: no weights read for a wrong model
            hf_config = AutoConfig.from_pretrained(
                path, gguf_file=kwargs.get('gguf_file'))
        except Exception as err:  # invalid JSON, unknown model type, ...
            raise LLMLoadError(f'cannot read the model config in {path!r}: '
                               f'{_brief(err)}') from err
        _check_decoder_only(hf_config, repr(path))
        try:
            return AutoModelForCausalLM.from_pretrained(path, **kwargs)
        except Exception as err:  # missing, truncated or mismatched weights
            raise LLMLoadError(f'cannot load a causal LM from {path!r}: '
                               f'{_brief(err)}') from err

    @staticmethod
    def _load_tokenizer(path, gguf_file, config):
        from transformers import AutoTokenizer
        if path is None:
            raise LLMLoadError('a model built from `config` needs '
                               '`tokenizer_path` (a local tokenizer folder)')
        if not osp.isdir(path):
            raise LLMLoadError(
                f'tokenizer folder {path!r} does not exist (tokenizers are '
                'never downloaded: pass the folder of a saved tokenizer)')
        if not gguf_file and not any(
                osp.isfile(osp.join(path, name)) for name in TOKENIZER_FILES):
            raise LLMLoadError(
                f'{path!r} has no tokenizer (none of '
                f'{", ".join(TOKENIZER_FILES)}): save the tokenizer there '
                'or pass `tokenizer_path`')
        kwargs = dict(gguf_file=gguf_file) if gguf_file else dict()
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
        except Exception as err:
            raise LLMLoadError(f'cannot load a tokenizer from {path!r}: '
                               f'{_brief(err)}') from err
        if tokenizer.eos_token_id is None:
            raise LLMLoadError(f'the tokenizer at {path!r} has no EOS token')
        return tokenizer

    def init_weights(self) -> None:
        """Keep the loaded weights (the runner calls this after building;
        transformers' own ``init_weights`` would re-initialise them)."""

    # ------------------------------------------------------------------
    # checkpoints
    def drop_frozen(self, state_dict: Dict, prefix: str) -> Dict:
        """Delete this module's frozen entries from ``state_dict``.

        Args:
            state_dict (dict): A state dict holding this module's entries
                under ``prefix``.
            prefix (str): This module's key prefix, e.g.
                ``'cls_head.llm.'``.

        Returns:
            dict: ``state_dict``, without the frozen LLM's entries.
        """
        for key in list(state_dict):
            if key.startswith(prefix) and \
                    key[len(prefix):] not in self._trainable:
                del state_dict[key]
        return state_dict

    def _drop_frozen(self, module, state_dict, prefix, local_metadata):
        if FSDP_PREFIX in prefix:
            # FSDP gathers every wrapped entry after this hook and fails on
            # a missing one: LoRAFSDPStrategy drops them afterwards
            return state_dict
        return self.drop_frozen(state_dict, prefix)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        self._load_prefix = prefix  # read by the post hook below
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _ignore_frozen_missing(self, module, incompatible_keys) -> None:
        prefix = getattr(self, '_load_prefix', '')
        incompatible_keys.missing_keys[:] = [
            key for key in incompatible_keys.missing_keys if
            not key.startswith(prefix) or key[len(prefix):] in self._trainable
        ]

    def save_adapter(self, out_dir: str) -> None:
        """Export the LoRA adapter in ``peft``'s own format, atomically.

        The adapter is written to a temporary folder next to ``out_dir``
        and renamed into place, so an interrupted export never leaves a
        half-written adapter.

        Args:
            out_dir (str): The adapter folder; loads back with
                ``peft.PeftModel.from_pretrained(base_model, out_dir)``.
        """
        if not hasattr(self.model, 'peft_config'):
            raise RuntimeError('this LLM has no LoRA adapter to export')
        parent = osp.dirname(osp.abspath(out_dir))
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix='.adapter-', dir=parent)
        try:
            self.model.save_pretrained(tmp)
            old = None
            if osp.exists(out_dir):
                old = tmp + '.old'
                os.replace(out_dir, old)
            os.replace(tmp, out_dir)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    # ------------------------------------------------------------------
    # model parts
    @property
    def base_causal_lm(self) -> nn.Module:
        """The underlying transformers ``*ForCausalLM`` (LoRA layers in)."""
        model = self.model
        return model.get_base_model() if hasattr(model,
                                                 'get_base_model') else model

    @property
    def decoder(self) -> nn.Module:
        """The transformer body (``*Model``) that returns hidden states."""
        lm = self.base_causal_lm
        return getattr(lm, lm.base_model_prefix)

    @property
    def hidden_size(self) -> int:
        """int: The width of the LLM's token embeddings."""
        return self.base_causal_lm.config.hidden_size

    @property
    def device(self) -> torch.device:
        return self.base_causal_lm.get_input_embeddings().weight.device

    def embed_tokens(self, ids: torch.Tensor) -> torch.Tensor:
        """Token embeddings of ``ids`` (any shape), in the LLM's dtype."""
        return self.base_causal_lm.get_input_embeddings()(ids.to(self.device))

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Float32 next-token logits from hidden states (..., H)."""
        head = self.base_causal_lm.get_output_embeddings()
        return head(hidden).float()

    def tokenize(self, text: str) -> List[int]:
        """Token ids of ``text`` without special tokens."""
        return self.tokenizer(text, add_special_tokens=False)['input_ids']

    def new_cache(self,
                  past: Optional[Sequence[Tuple[torch.Tensor, ...]]] = None,
                  batch: int = 1):
        """A transformers ``DynamicCache``, optionally seeded.

        Args:
            past (list[tuple], optional): Per-layer ``(keys, values)`` of
                batch 1 (from :meth:`encode_prefix`, broadcast to
                ``batch``) or of batch ``batch`` (from
                :meth:`cache_state`). Defaults to None (empty cache).
            batch (int): The batch size to broadcast to. Defaults to 1.
        """
        from transformers import DynamicCache
        cache = DynamicCache(config=self.base_causal_lm.config)
        for layer, (keys, values) in enumerate(past or ()):
            cache.update(
                keys.expand(batch, *keys.shape[1:]),
                values.expand(batch, *values.shape[1:]), layer)
        return cache

    @staticmethod
    def cache_state(cache) -> List[Tuple[torch.Tensor, torch.Tensor]]:
        """Per-layer ``(keys, values)`` of a cache: a snapshot that
        :meth:`new_cache` turns back into a cache (the snapshot is not
        changed when that cache grows)."""
        return [(layer.keys, layer.values) for layer in cache.layers]

    def encode_prefix(self, prefix: torch.Tensor) -> List[Tuple]:
        """Keys and values of a prompt prefix shared by a whole batch.

        Args:
            prefix (torch.Tensor): Prefix embeddings, shape (1, P, H).

        Returns:
            list[tuple]: Per-layer ``(keys, values)``, batch 1; pass them
            as ``past`` to :meth:`forward_embeds` (gradients flow through
            them to the LoRA weights when computed with grad enabled).
        """
        cache = self.new_cache()
        self.decoder(
            inputs_embeds=prefix.to(self.dtype),
            past_key_values=cache,
            use_cache=True)
        return self.cache_state(cache)

    def forward_embeds(
        self,
        embeds: torch.Tensor,
        prefix: Optional[torch.Tensor] = None,
        past: Optional[Sequence[Tuple[torch.Tensor, ...]]] = None,
        cache=None,
        attention_mask: Optional[torch.Tensor] = None,
        position_ids: Optional[torch.Tensor] = None,
    ) -> Tuple[torch.Tensor, object]:
        """Run the LLM on embeddings after an optional shared prefix.

        The prefix (the instruction before the soft tokens, identical for
        every clip) is run once with batch size 1 and its keys and values
        are broadcast to the batch, so its cost does not grow with the
        batch; gradients still reach the LoRA weights through it.

        Args:
            embeds (torch.Tensor): Per-sample embeddings, shape (B, L, H).
            prefix (torch.Tensor, optional): Shared prefix embeddings,
                shape (1, P, H). Defaults to None.
            past (list[tuple], optional): The prefix already encoded by
                :meth:`encode_prefix`. Defaults to None.
            cache (transformers.Cache, optional): A batch-B cache returned
                by an earlier call, continued in place. Defaults to None.
            attention_mask (torch.Tensor, optional): A 4D additive mask
                (B, 1, L, P + L) for tree-shaped inputs. Defaults to None
                (causal, no padding).
            position_ids (torch.Tensor, optional): (B, L). Defaults to the
                positions following the cached ones.

        Returns:
            tuple: Hidden states (B, L, H) and the cache, which now also
            holds ``embeds``.
        """
        if sum(x is not None for x in (prefix, past, cache)) > 1:
            raise ValueError('pass at most one of `prefix`, `past`, `cache`')
        batch = embeds.shape[0]
        if prefix is not None:
            past = self.encode_prefix(prefix)
        if cache is None:
            cache = self.new_cache(past, batch)
        start = cache.get_seq_length()
        if position_ids is None:
            position_ids = torch.arange(
                start, start + embeds.shape[1],
                device=embeds.device).expand(batch, -1)
        out = self.decoder(
            inputs_embeds=embeds.to(self.dtype),
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=cache,
            use_cache=True)
        return out.last_hidden_state, cache

    def extra_repr(self) -> str:
        where = self.path if self.path is not None else '<config>'
        return f'path={where!r}, dtype={self.dtype}'
