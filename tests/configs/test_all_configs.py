# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Every config parses, and every stage of a multi-stage config builds."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from mmaction_sugar.apis import is_multi_stage, stage_config, stage_list

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    glob.glob(osp.join(REPO, 'configs', '*.py')) +
    glob.glob(osp.join(REPO, 'configs', '*', '*.py')))
MULTI = [p for p in CONFIGS if osp.dirname(p) == osp.join(REPO, 'configs')]
SUGAR = [p for p in MULTI if osp.basename(p).startswith('sugar_')]
LLMAR = [p for p in MULTI if osp.basename(p).startswith('llmar_')]


def test_every_multi_stage_config_is_checked():
    assert sorted(SUGAR + LLMAR) == MULTI and LLMAR


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_parses(path):
    cfg = Config.fromfile(path)
    if '_base_' not in osp.basename(osp.dirname(path)):
        assert is_multi_stage(cfg) or 'model' in cfg


@pytest.mark.parametrize('path', SUGAR, ids=osp.basename)
def test_multi_stage_configs_chain_an_encoder_into_a_sugar_recognizer(path):
    cfg = Config.fromfile(path)
    stages = stage_list(cfg)
    assert [s['name'] for s in stages] == ['stage2', 'stage3']
    stage2, stage3 = (stage_config(cfg, s) for s in stages)
    assert stage2.model.cls_head.type == 'TextSupervisedHead'
    assert stage3.model.type == 'SugarRecognizer'
    assert stages[1]['encoder_from'] == 'stage2'
    # stage 3 freezes exactly the encoder that stage 2 trains
    assert stage3.model.backbone.to_dict() == stage2.model.backbone.to_dict()
    assert stage3.model.cls_head.knowledge == \
        stage2.model.cls_head.knowledge


@pytest.mark.parametrize('path', LLMAR, ids=osp.basename)
def test_llmar_configs_chain_the_tokenizer_into_the_recognizer(path):
    cfg = Config.fromfile(path)
    stages = stage_list(cfg)
    assert [s['name'] for s in stages] == ['stage1', 'stage2']
    assert stages[1]['encoder_from'] == 'stage1'
    stage1, stage2 = (stage_config(cfg, s) for s in stages)
    assert stage1.model.type == 'ActionVQVAE'
    assert stage2.model.type == 'LLMARRecognizer'
    # stage 2 freezes exactly the tokenizer that stage 1 trains
    assert stage2.model.backbone.to_dict() == stage1.model.to_dict()
    assert stage2.model.cls_head.num_codes == \
        stage1.model.codebook.num_codes
    assert stage1.test_evaluator[0].type == 'ActionTokenizerMetric'
