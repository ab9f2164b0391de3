# Copyright (c) mmaction-sugar contributors. All rights reserved.
import pytest
import torch
from conftest import tiny_llm_cfg
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.optim import OptimWrapper

BACKBONE = dict(
    type='STGCN',
    graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial'),
    base_channels=16,
    num_stages=4,
    inflate_stages=[3],
    down_stages=[3])


def build(encoder_checkpoint=None, **head):
    cfg = dict(
        type='SugarRecognizer',
        backbone=BACKBONE,
        encoder_checkpoint=encoder_checkpoint,
        neck=dict(
            type='TemporalQueryProjection',
            in_channels=32,
            out_channels=32,
            num_queries=4,
            num_segments=2,
            qformer=dict(
                hidden_size=32,
                num_hidden_layers=1,
                num_attention_heads=2,
                intermediate_size=64,
                cross_attention_frequency=1)),
        cls_head=dict(
            type='LLMHead',
            in_channels=32,
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


def stage2_checkpoint(tmp_path):
    """A stage-2-like checkpoint: recognizer keys with a backbone."""
    model = MODELS.build(dict(type='RecognizerGCN', backbone=BACKBONE))
    for p in model.backbone.parameters():
        p.data.normal_()
    path = tmp_path / 'stage2.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return str(path), model.backbone.state_dict()


def test_train_step_updates_neck_and_lora_but_not_the_encoder(tmp_path):
    path, encoder = stage2_checkpoint(tmp_path)
    model = build(encoder_checkpoint=path)
    model.init_weights()
    for key, value in model.backbone.state_dict().items():
        torch.testing.assert_close(value, encoder[key])
    model.train()
    assert not model.backbone.training  # BatchNorm statistics frozen
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert not any(p.requires_grad for p in model.backbone.parameters())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    wrapper = OptimWrapper(torch.optim.AdamW(trainable, lr=1e-2))
    losses = [model.train_step(batch(), wrapper) for _ in range(4)]
    assert losses[-1]['loss'] < losses[0]['loss']
    after = model.state_dict()
    for key in before:
        changed = not torch.equal(before[key], after[key])
        if key.startswith('backbone.'):
            assert not changed, key
    assert any(not torch.equal(before[k], after[k]) for k in before
               if k.startswith('neck.'))
    assert any(not torch.equal(before[k], after[k]) for k in before
               if 'lora_B' in k)


def test_checkpoint_has_no_frozen_llm_and_reloads_weights_only(tmp_path):
    model = build()
    state = model.state_dict()
    llm_keys = [k for k in state if k.startswith('cls_head.llm.')]
    assert llm_keys and all('lora_' in k for k in llm_keys)
    assert any(k.startswith('backbone.') for k in state)
    assert any(k.startswith('neck.') for k in state)
    path = tmp_path / 'stage3.pth'
    torch.save(dict(state_dict=state, meta=dict()), path)
    loaded = torch.load(path, weights_only=True)['state_dict']
    other = build()
    result = other.load_state_dict(loaded, strict=True)
    assert not result.missing_keys and not result.unexpected_keys


def test_predict_and_tensor_modes():
    model = build(generate=True).eval()
    data = model.data_preprocessor(batch(), False)
    with torch.no_grad():
        out = model(**data, mode='predict')
        soft = model(data['inputs'], mode='tensor')
    assert soft.shape == (2, 4, 32)
    assert out[0].pred_score.shape == (32, )
    assert isinstance(out[0].pred_text, str)
    # several clips per sample: scores averaged
    inputs = torch.randn(2, 3, 2, 16, 25, 3)
    with torch.no_grad():
        out = model(inputs, batch()['data_samples'], mode='predict')
    assert len(out) == 2 and out[1].pred_score.shape == (32, )


def test_encoder_checkpoint_errors(tmp_path):
    model = build(encoder_checkpoint=str(tmp_path / 'none.pth'))
    with pytest.raises(ValueError, match='does not exist'):
        model.init_weights()
    bad = tmp_path / 'bad.pth'
    torch.save(dict(state_dict={'cls_head.fc.weight': torch.zeros(1)}), bad)
    with pytest.raises(ValueError, match='no backbone'):
        build(encoder_checkpoint=str(bad)).init_weights()
    other = MODELS.build(
        dict(type='RecognizerGCN', backbone=dict(BACKBONE, base_channels=8)))
    wrong = tmp_path / 'wrong.pth'
    torch.save(dict(state_dict=other.state_dict()), wrong)
    with pytest.raises(ValueError, match='do not fit'):
        build(encoder_checkpoint=str(wrong)).init_weights()
