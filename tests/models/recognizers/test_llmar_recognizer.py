# Copyright (c) mmaction-sugar contributors. All rights reserved.
import pytest
import torch
from conftest import tiny_llm_cfg
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.optim import OptimWrapper

TOKENIZER = dict(
    type='ActionVQVAE', width=32, latent_dim=8, codebook=dict(num_codes=16))


def build(encoder_checkpoint=None, num_codes=16, **head):
    cfg = dict(
        type='LLMARRecognizer',
        backbone=TOKENIZER,
        encoder_checkpoint=encoder_checkpoint,
        cls_head=dict(
            type='ActionSentenceHead',
            num_codes=num_codes,
            knowledge='synth_ntu',
            llm=tiny_llm_cfg(),
            matcher_encoder=None,
            max_new_tokens=4,
            **head))
    torch.manual_seed(0)
    return MODELS.build(cfg)


def batch(n=2, labels=(0, 3)):
    inputs = [torch.randn(1, 2, 16, 25, 3) for _ in range(n)]
    samples = [ActionDataSample().set_gt_label(x) for x in labels[:n]]
    return dict(inputs=inputs, data_samples=samples)


def stage1_checkpoint(tmp_path):
    """A trained-looking stage-1 checkpoint (the tokenizer itself)."""
    tokenizer = MODELS.build(TOKENIZER)
    tokenizer(torch.randn(4, 2, 16, 25, 3))  # initialises the codebook
    path = tmp_path / 'stage1.pth'
    torch.save(dict(state_dict=tokenizer.state_dict(), meta=dict()), path)
    return str(path), tokenizer.state_dict()


def test_tokenizer_loaded_frozen_and_lora_and_action_words_train(tmp_path):
    path, tokenizer = stage1_checkpoint(tmp_path)
    model = build(encoder_checkpoint=path)
    model.init_weights()
    for key, value in model.backbone.state_dict().items():
        torch.testing.assert_close(value, tokenizer[key])
    model.train()
    assert not model.backbone.training  # no codebook restarts in stage 2
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert not any(p.requires_grad for p in model.backbone.parameters())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    wrapper = OptimWrapper(torch.optim.AdamW(trainable, lr=1e-2))
    data = batch()
    losses = [model.train_step(data, wrapper) for _ in range(5)]
    assert losses[-1]['loss'] < losses[0]['loss']
    after = model.state_dict()
    for key in before:
        if key.startswith('backbone.'):
            torch.testing.assert_close(before[key], after[key], msg=key)
    assert not torch.equal(before['cls_head.code_embed.weight'],
                           after['cls_head.code_embed.weight'])
    assert any(not torch.equal(before[k], after[k]) for k in before
               if 'lora_B' in k)


def test_modes_and_action_sentences():
    model = build(generate=True).eval()
    data = model.data_preprocessor(batch(), False)
    with torch.no_grad():
        codes = model(data['inputs'], mode='tensor')
        out = model(**data, mode='predict')
    assert codes.shape == (2, 4) and codes.dtype == torch.long  # 16 / 4
    assert out[0].pred_score.shape == (32, )
    assert isinstance(out[0].pred_text, str)
    sentence = ''.join(f'<a{c}>' for c in codes[0].tolist())
    assert out[0].action_sentence == sentence


def test_checkpoint_has_no_frozen_llm():
    state = build().state_dict()
    llm_keys = [k for k in state if k.startswith('cls_head.llm.')]
    assert llm_keys and all('lora_' in k for k in llm_keys)
    assert 'cls_head.code_embed.weight' in state
    assert any(k.startswith('backbone.codebook.') for k in state)


def test_vocab_sentences_train_lora_only():
    model = build(sentence='vocab')
    assert not hasattr(model.cls_head, 'code_embed')
    ids = model.cls_head.code_ids
    assert len(ids) == 16 and len(set(ids.tolist())) == 16
    words = model.cls_head.sentence_text(torch.tensor([[0, 1]]))
    assert isinstance(words[0], str) and words[0]
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    assert names and all('lora_' in n for n in names)


def test_errors(tmp_path):
    with pytest.raises(ValueError, match='16 codes but the head reads 8'):
        build(num_codes=8)
    with pytest.raises(ValueError, match='single-token'):
        build(sentence='vocab', vocab_words=['walking'] * 3)
    head = build().cls_head
    with pytest.raises(ValueError, match=r'in \[0, 16\)'):
        head.embed_codes(torch.tensor([[0, 16]]))
    with pytest.raises(ValueError, match='dtype long'):
        head.embed_codes(torch.zeros(1, 4))
    bad = tmp_path / 'bad.pth'
    torch.save(dict(state_dict={'encoder.0.weight': torch.zeros(1)}), bad)
    with pytest.raises(ValueError, match='do not fit'):
        build(encoder_checkpoint=str(bad)).init_weights()
