# Copyright (c) mmaction-sugar contributors. All rights reserved.
import json
import shutil

import pytest
import torch
from conftest import TINY_LLAMA, tiny_llm_cfg
from mmaction.registry import MODELS

from mmaction_sugar.models.llms import LLMLoadError, LoRACausalLM
from mmaction_sugar.models.llms.causal_lm import TOKENIZER_FILES


def build(**kwargs):
    return MODELS.build(tiny_llm_cfg(**kwargs))


def test_frozen_base_and_trainable_lora_only():
    llm = build()
    trainable = [n for n, p in llm.named_parameters() if p.requires_grad]
    assert trainable and all('lora_' in n for n in trainable)
    frozen = [n for n, p in llm.named_parameters() if not p.requires_grad]
    assert any('embed_tokens' in n for n in frozen)


def test_state_dict_holds_only_trainable_weights_and_reloads_strictly():
    torch.manual_seed(0)
    llm = build()
    state = llm.state_dict()
    assert state and all('lora_' in k for k in state)
    assert not any('embed_tokens' in k or 'mlp' in k for k in state)
    other = build()
    other.load_state_dict(state, strict=True)  # frozen keys not "missing"
    for key, value in other.state_dict().items():
        torch.testing.assert_close(value, state[key])


def test_wrapped_in_a_parent_module_the_prefix_is_handled():
    parent = torch.nn.ModuleDict(dict(head=build()))
    state = parent.state_dict()
    assert all(k.startswith('head.') and 'lora_' in k for k in state)
    result = parent.load_state_dict(state, strict=False)
    assert result.missing_keys == [] and result.unexpected_keys == []
    missing = parent.load_state_dict({}, strict=False).missing_keys
    assert missing and all('lora_' in k for k in missing)


def test_shared_prefix_equals_the_full_sequence():
    torch.manual_seed(0)
    llm = build().eval()
    prefix = torch.randn(1, 5, 32)
    tail = torch.randn(3, 4, 32)
    hidden, cache = llm.forward_embeds(tail, prefix=prefix)
    full = llm.decoder(
        inputs_embeds=torch.cat([prefix.expand(3, -1, -1), tail],
                                1)).last_hidden_state
    torch.testing.assert_close(hidden, full[:, 5:], atol=1e-5, rtol=1e-4)
    assert cache.get_seq_length() == 9


def test_gradients_reach_lora_through_the_shared_prefix():
    llm = build()
    hidden, _ = llm.forward_embeds(
        torch.randn(2, 3, 32), prefix=torch.randn(1, 4, 32))
    hidden.sum().backward()
    grads = [p.grad for n, p in llm.named_parameters() if 'lora_B' in n]
    assert grads and all(g is not None for g in grads)


def test_loads_a_local_folder_and_exports_a_peft_adapter(
        tiny_llm_dir, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM
    llm = MODELS.build(
        dict(
            type='LoRACausalLM',
            path=tiny_llm_dir,
            lora=dict(r=4, lora_alpha=8, target_modules=['q_proj'])))
    assert llm.hidden_size == TINY_LLAMA['hidden_size']
    with torch.no_grad():
        for name, p in llm.named_parameters():
            if 'lora_B' in name:
                p.fill_(0.5)
    out = tmp_path / 'adapter'
    llm.save_adapter(str(out))
    llm.save_adapter(str(out))  # overwriting is atomic too
    assert (out / 'adapter_config.json').is_file()
    base = AutoModelForCausalLM.from_pretrained(tiny_llm_dir)
    loaded = PeftModel.from_pretrained(base, str(out))
    ids = torch.tensor([[1, 2, 3]])
    with torch.no_grad():
        torch.testing.assert_close(
            loaded(input_ids=ids).logits,
            llm.model(input_ids=ids).logits)


def test_clear_errors_for_bad_models(tmp_path, tiny_llm_dir):
    with pytest.raises(LLMLoadError, match='does not exist'):
        LoRACausalLM(path=str(tmp_path / 'nope'))
    with pytest.raises(LLMLoadError, match='no config.json'):
        LoRACausalLM(path=str(tmp_path))
    with pytest.raises(LLMLoadError, match='GGUF file'):
        LoRACausalLM(path=tiny_llm_dir, gguf_file='model.gguf')
    with pytest.raises(LLMLoadError, match='exactly one'):
        LoRACausalLM()
    with pytest.raises(LLMLoadError, match='tokenizer_path'):
        LoRACausalLM(config=TINY_LLAMA, lora=None)
    with pytest.raises(LLMLoadError, match='does not fit'):
        build(lora=dict(r=4, target_modules=['no_such_layer']))
    with pytest.raises(ValueError, match='dtype'):
        build(dtype='int8')


def copy_model(src, dst, drop=()):
    """A copy of a saved model folder without the files in ``drop``."""
    shutil.copytree(src, dst, ignore=lambda folder, names: [
        n for n in names if n in drop])
    return str(dst)


def edit_config(folder, **changes):
    path = f'{folder}/config.json'
    with open(path) as f:
        config = json.load(f)
    config.update(changes)
    with open(path, 'w') as f:
        json.dump(config, f)


def test_refuses_models_that_are_not_decoder_only(tmp_path, tiny_llm_dir):
    from transformers import BartConfig, BertConfig
    bert = tmp_path / 'bert'
    BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
               intermediate_size=64).save_pretrained(bert)
    # refused from config.json alone (no weights there), with lora=None
    # too: a BERT causal LM would run without a causal mask
    with pytest.raises(LLMLoadError) as info:
        LoRACausalLM(path=str(bert), lora=None)
    assert str(info.value) == (
        f"'{bert}' holds a 'bert' model, an encoder that "
        'attends in both directions: expected a decoder-only causal LM '
        'such as llama, mistral, qwen2 or gpt2')
    bart = tmp_path / 'bart'
    BartConfig(d_model=32).save_pretrained(bart)
    with pytest.raises(LLMLoadError, match="'bart' model.*an encoder"):
        LoRACausalLM(path=str(bart))
    with pytest.raises(LLMLoadError, match="<config> holds a 'bert' model"):
        LoRACausalLM(config=dict(model_type='bert', hidden_size=32,
                                 num_attention_heads=2),
                     tokenizer_path=tiny_llm_dir)
    with pytest.raises(LLMLoadError, match="'t5' model, which has no "
                       'causal LM in transformers'):
        LoRACausalLM(config=dict(model_type='t5'),
                     tokenizer_path=tiny_llm_dir)


def test_clear_errors_for_broken_folders(tmp_path, tiny_llm_dir):
    notok = copy_model(tiny_llm_dir, tmp_path / 'notok',
                       drop=TOKENIZER_FILES + ('chat_template.jinja', ))
    with pytest.raises(LLMLoadError, match=r"notok' has no tokenizer \("):
        LoRACausalLM(path=notok, lora=None)
    with pytest.raises(LLMLoadError, match="tokenizer folder .*nope' does "
                       'not exist'):
        LoRACausalLM(path=tiny_llm_dir, tokenizer_path=str(tmp_path / 'nope'))
    noweights = copy_model(tiny_llm_dir, tmp_path / 'noweights',
                           drop=('model.safetensors', ))
    with pytest.raises(LLMLoadError, match='noweights.*OSError.*no file '
                       'named model.safetensors'):
        LoRACausalLM(path=noweights, lora=None)
    cut = copy_model(tiny_llm_dir, tmp_path / 'cut')
    weights = tmp_path / 'cut' / 'model.safetensors'
    weights.write_bytes(weights.read_bytes()[:4096])
    with pytest.raises(LLMLoadError, match="cut'.*SafetensorError"):
        LoRACausalLM(path=cut, lora=None)
    mismatch = copy_model(tiny_llm_dir, tmp_path / 'mismatch')
    edit_config(mismatch, intermediate_size=48)
    with pytest.raises(LLMLoadError, match='the weights do not have the '
                       'shapes that config.json gives'):
        LoRACausalLM(path=mismatch, lora=None)
    badjson = copy_model(tiny_llm_dir, tmp_path / 'badjson')
    (tmp_path / 'badjson' / 'config.json').write_text('{"model_type": ')
    with pytest.raises(LLMLoadError, match='cannot read the model config '
                       ".*badjson'.*not a valid JSON file"):
        LoRACausalLM(path=badjson, lora=None)
    unknown = copy_model(tiny_llm_dir, tmp_path / 'unknown')
    edit_config(unknown, model_type='no_such_model')
    with pytest.raises(LLMLoadError, match='model type `no_such_model`'):
        LoRACausalLM(path=unknown, lora=None)


def test_clear_errors_for_bad_configs(tiny_llm_dir):
    with pytest.raises(LLMLoadError, match=r'has 49152 tokens but the model '
                       'at <config> embeds only 64'):
        LoRACausalLM(config=dict(TINY_LLAMA, vocab_size=64),
                     tokenizer_path=tiny_llm_dir, lora=None)
    with pytest.raises(LLMLoadError, match=r'hidden size \(32\) is not a '
                       r'multiple of the number of attention heads \(5\)'):
        LoRACausalLM(config=dict(TINY_LLAMA, num_attention_heads=5),
                     tokenizer_path=tiny_llm_dir)
