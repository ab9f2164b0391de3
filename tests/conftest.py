# Copyright (c) mmaction-sugar contributors. All rights reserved.
import pytest
import torch
from mmaction.utils import register_all_modules

import mmaction_sugar  # noqa: F401  (compat fixes before mmaction.models)

register_all_modules(init_default_scope=True)


@pytest.fixture(scope='session')
def tiny_synth_ntu(tmp_path_factory):
    """Directory with the tiny SynthNTU set (pkl + class list)."""
    from mmaction_sugar.datasets.synthetic import write_synth_ntu
    out_dir = tmp_path_factory.mktemp('synth_ntu')
    write_synth_ntu(str(out_dir), size='tiny', seed=0)
    return str(out_dir)


TINY_LLAMA = dict(
    model_type='llama',
    vocab_size=49152,  # the bundled SmolLM2 tokenizer's
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2)


def tiny_llm_cfg(**kwargs):
    """A LoRACausalLM config: a 2-layer random Llama, SmolLM2 tokenizer."""
    cfg = dict(
        type='LoRACausalLM',
        config=TINY_LLAMA,
        tokenizer_path='smollm2-135m-instruct',
        lora=dict(r=4, lora_alpha=8, target_modules=['q_proj', 'v_proj']))
    cfg.update(kwargs)
    return cfg


@pytest.fixture(scope='session')
def tiny_llm_dir(tmp_path_factory):
    """A saved tiny Llama folder (config.json, safetensors, tokenizer)."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from mmaction_sugar.models.llms.bundled import smollm2_path
    out = tmp_path_factory.mktemp('tiny_llama')
    cfg = dict(TINY_LLAMA)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(
        AutoConfig.for_model(cfg.pop('model_type'), **cfg))
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(smollm2_path()).save_pretrained(out)
    return str(out)


@pytest.fixture(scope='module')
def one_thread():
    """One torch thread for a module of tiny tests: extra threads only
    contend on a busy 2-core machine. Use with
    ``pytestmark = pytest.mark.usefixtures('one_thread')``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
