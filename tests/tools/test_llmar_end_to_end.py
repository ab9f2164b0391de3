# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""LLM-AR stages 1 and 2 with one tools/train.py call, on tiny data, a tiny
tokenizer and a tiny LLM, then tools/test.py on each stage."""
import json
import os.path as osp

import torch
from test_train_test import (REPO, TINY_OVERRIDES, last_metrics, run_tool,
                             tiny_config)

STAGE1 = osp.join(
    REPO, 'configs/llmar/llmar-stage1_vqvae-poincare_1xb16-joint-u32-40e_'
    'synthntu-xsub-keypoint-3d.py')
STAGE2 = osp.join(
    REPO, 'configs/llmar/llmar-stage2_vqvae-poincare-smollm2_1xb16-joint-'
    'u32-1e_synthntu-xsub-keypoint-3d.py')
TOKENIZER = "dict(width=16, latent_dim=8, codebook=dict(num_codes=16))"
TINY_STAGE1 = """
_base_ = {base!r}
model = """ + TOKENIZER + """
"""
TINY_STAGE2 = """
_base_ = {base!r}
model = dict(
    backbone=""" + TOKENIZER + """,
    cls_head=dict(
        num_codes=16, matcher_encoder=None, generate=True, max_new_tokens=4,
        llm=dict(_delete_=True, type='LoRACausalLM',
                 config=dict(model_type='llama', vocab_size=49152,
                             hidden_size=32, intermediate_size=64,
                             num_hidden_layers=2, num_attention_heads=4,
                             num_key_value_heads=2),
                 tokenizer_path='smollm2-135m-instruct',
                 lora=dict(r=4, lora_alpha=8,
                           target_modules=['q_proj', 'v_proj']))))
"""


def test_tokenizer_then_llm_one_command_then_test(tmp_path, tiny_synth_ntu):
    data1 = tiny_config(tmp_path, STAGE1, tiny_synth_ntu, 2, 'data1.py')
    stage1 = tmp_path / 'stage1.py'
    stage1.write_text(TINY_STAGE1.format(base=data1))
    # stage 2 does not validate during training (val_dataloader = None)
    data2 = tmp_path / 'data2.py'
    data2.write_text(
        TINY_OVERRIDES.format(base=STAGE2, data=tiny_synth_ntu,
                              epochs=1).replace(
                                  'val_dataloader = dict(**loader, '
                                  'dataset=data)\n', ''))
    stage2 = tmp_path / 'stage2.py'
    stage2.write_text(TINY_STAGE2.format(base=str(data2)))
    multi = tmp_path / 'llmar_tiny.py'
    multi.write_text(f'stages = [dict(name="stage1", config={str(stage1)!r}),'
                     f'\n          dict(name="stage2", config={str(stage2)!r},'
                     f' encoder_from="stage1")]\n')
    work = tmp_path / 'work'
    out = run_tool('tools/train.py', str(multi), '--work-dir', str(work))
    assert '[stages] stage2' in out.stdout
    done1 = json.loads((work / 'stage1' / 'stage_done.json').read_text())
    done2 = json.loads((work / 'stage2' / 'stage_done.json').read_text())
    # stage 1 validated by reconstruction and code use; best by mpjpe
    assert 'best_tokenizer_mpjpe' in osp.basename(done1['checkpoint'])
    # stage 2 started from the stage-1 tokenizer and kept it frozen
    tok = torch.load(done1['checkpoint'], weights_only=True)['state_dict']
    state2 = torch.load(done2['checkpoint'], weights_only=True)['state_dict']
    for key, value in tok.items():
        torch.testing.assert_close(state2['backbone.' + key], value)
    llm_keys = [k for k in state2 if k.startswith('cls_head.llm.')]
    assert llm_keys and all('lora_' in k for k in llm_keys)
    assert 'cls_head.code_embed.weight' in state2
    # the tokenizer's test: reconstruction error and codebook use
    run_tool('tools/test.py', str(stage1), done1['checkpoint'], '--work-dir',
             str(tmp_path / 'test1'))
    tokenizer = last_metrics(str(tmp_path / 'test1'))
    assert tokenizer['tokenizer/mpjpe'] > 0
    assert 1 <= tokenizer['tokenizer/perplexity'] <= 16
    assert 0 < tokenizer['tokenizer/code_usage'] <= 1
    # the multi-stage config tests its last stage, the LLM
    run_tool('tools/test.py', str(multi), done2['checkpoint'], '--work-dir',
             str(tmp_path / 'test2'), '--dump', str(tmp_path / 'pred.pkl'))
    metrics = last_metrics(str(tmp_path / 'test2'))
    assert 0.0 <= metrics['acc/top1'] <= 1.0
    from mmengine.fileio import load
    preds = load(str(tmp_path / 'pred.pkl'))
    assert isinstance(preds[0]['pred_text'], str)
    assert preds[0]['action_sentence'].startswith('<a')
