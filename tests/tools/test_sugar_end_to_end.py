# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""SUGAR stages 2 and 3 with one tools/train.py call, on tiny data and a
tiny LLM, then tools/test.py on the multi-stage config."""
import json
import os.path as osp

import torch
from test_train_test import (REPO, TINY_OVERRIDES, last_metrics, run_tool,
                             tiny_config)

STAGE2 = osp.join(
    REPO, 'configs/sugar/sugar-stage2_stgcn_1xb16-joint-u32-'
    '5e_synthntu-xsub-keypoint-3d.py')
STAGE3 = osp.join(
    REPO, 'configs/sugar/sugar-stage3_stgcn-tqp-smollm2_1xb16-'
    'joint-u32-1e_synthntu-xsub-keypoint-3d.py')
TINY_STAGE3 = """
_base_ = {base!r}
model = dict(
    neck=dict(out_channels=32, num_queries=4, num_segments=2,
              qformer=dict(hidden_size=32, num_hidden_layers=1,
                           num_attention_heads=2, intermediate_size=64)),
    cls_head=dict(
        in_channels=32, matcher_encoder=None, generate=True,
        max_new_tokens=4,
        llm=dict(_delete_=True, type='LoRACausalLM',
                 config=dict(model_type='llama', vocab_size=49152,
                             hidden_size=32, intermediate_size=64,
                             num_hidden_layers=2, num_attention_heads=4,
                             num_key_value_heads=2),
                 tokenizer_path='smollm2-135m-instruct',
                 lora=dict(r=4, lora_alpha=8,
                           target_modules=['q_proj', 'v_proj']))))
train_cfg = dict(max_epochs=1, val_interval=1)
"""


def test_two_stages_one_command_then_test_and_rerun(tmp_path, tiny_synth_ntu):
    stage2 = tiny_config(tmp_path, STAGE2, tiny_synth_ntu, 1, 'stage2.py')
    # stage 3 does not validate during training (val_dataloader = None)
    data3 = tmp_path / 'data3.py'
    data3.write_text(
        TINY_OVERRIDES.format(base=STAGE3, data=tiny_synth_ntu,
                              epochs=1).replace(
                                  'val_dataloader = dict(**loader, '
                                  'dataset=data)\n', ''))
    stage3 = tmp_path / 'stage3.py'
    stage3.write_text(TINY_STAGE3.format(base=str(data3)))
    multi = tmp_path / 'sugar_tiny.py'
    multi.write_text(f'stages = [dict(name="stage2", config={stage2!r}),\n'
                     f'          dict(name="stage3", config={str(stage3)!r},'
                     f' encoder_from="stage2")]\n')
    work = tmp_path / 'work'
    out = run_tool('tools/train.py', str(multi), '--work-dir', str(work))
    assert '[stages] stage3' in out.stdout
    done2 = json.loads((work / 'stage2' / 'stage_done.json').read_text())
    done3 = json.loads((work / 'stage3' / 'stage_done.json').read_text())
    assert osp.isfile(done2['checkpoint']) and osp.isfile(done3['checkpoint'])
    # stage 3 started from stage 2's encoder and kept it frozen
    enc2 = torch.load(done2['checkpoint'], weights_only=True)['state_dict']
    ckpt3 = torch.load(done3['checkpoint'], weights_only=True)
    state3 = ckpt3['state_dict']
    for key, value in enc2.items():
        if key.startswith('backbone.') and 'num_batches' not in key:
            torch.testing.assert_close(state3[key], value)
    # no frozen LLM weights in the checkpoint; the adapter in peft format
    llm_keys = [k for k in state3 if k.startswith('cls_head.llm.')]
    assert llm_keys and all('lora_' in k for k in llm_keys)
    assert (work / 'stage3' / 'lora_adapter' / 'adapter_config.json').is_file()
    # the multi-stage config tests its last stage
    run_tool('tools/test.py', str(multi), done3['checkpoint'], '--work-dir',
             str(tmp_path / 'test'), '--dump', str(tmp_path / 'pred.pkl'))
    test_metrics = last_metrics(str(tmp_path / 'test'))
    assert 0.0 <= test_metrics['acc/top1'] <= 1.0
    assert 'acc/top5' in test_metrics
    from mmengine.fileio import load
    preds = load(str(tmp_path / 'pred.pkl'))
    assert isinstance(preds[0]['pred_text'], str)
    # a rerun skips finished stages
    again = run_tool('tools/train.py', str(multi), '--work-dir', str(work))
    assert again.stdout.count('already done') == 2
    # an unfinished stage resumes from its last checkpoint (weights_only)
    (work / 'stage3' / 'stage_done.json').unlink()
    resumed = run_tool('tools/train.py', str(multi), '--work-dir', str(work))
    assert resumed.stdout.count('already done') == 1
    assert 'resumed epoch: 1' in resumed.stdout + resumed.stderr
