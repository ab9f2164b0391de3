# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""The model-zoo metafiles index every config, and their numbers are the
ones docs/RESULTS.md records (so neither can drift silently)."""
import glob
import os.path as osp
import re

import pytest
import yaml
from mmengine.config import Config

from mmaction_sugar.apis import is_multi_stage, stage_list

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG_DIR = osp.join(REPO, 'configs')
PY_FILES = (
    glob.glob(osp.join(CONFIG_DIR, '*.py')) +
    glob.glob(osp.join(CONFIG_DIR, '*', '*.py')))
CONFIGS = sorted(
    osp.relpath(p, REPO) for p in PY_FILES
    if osp.basename(osp.dirname(p)) != '_base_')
METAFILES = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(CONFIG_DIR, '*', 'metafile.yml')))
with open(osp.join(REPO, 'docs', 'RESULTS.md'), encoding='utf-8') as f:
    RESULTS_MD = f.read()

TASK = 'Skeleton-based Action Recognition'
MODEL_KEYS = {'Name', 'Config', 'In Collection', 'Metadata'}
METADATA_KEYS = {
    'Architecture', 'Batch Size', 'Training Data', 'Training Resources'
}


def load(path, loader=yaml.SafeLoader):
    with open(osp.join(REPO, path), encoding='utf-8') as f:
        return yaml.load(f, Loader=loader)


def models():
    """(metafile, model entry) for every model of every metafile."""
    return [(path, model) for path in METAFILES
            for model in load(path)['Models']]


MODELS = models()


def test_every_config_is_in_exactly_one_metafile():
    listed = [model['Config'] for _, model in MODELS]
    assert METAFILES and CONFIGS
    missing = sorted(set(CONFIGS) - set(listed))
    assert not missing, f'configs without a metafile entry: {missing}'
    twice = sorted({c for c in listed if listed.count(c) > 1})
    assert not twice, f'configs listed more than once: {twice}'
    names = [model['Name'] for _, model in MODELS]
    assert len(names) == len(set(names))


def test_model_index_imports_every_metafile():
    assert sorted(load('model-index.yml')['Import']) == METAFILES


@pytest.mark.parametrize('path', METAFILES)
def test_metafile_has_the_model_zoo_keys(path):
    meta = load(path)
    assert set(meta) == {'Collections', 'Models'}
    collections = {c['Name']: c for c in meta['Collections']}
    for collection in collections.values():
        assert osp.isfile(osp.join(REPO, collection['README']))
        paper = collection['Paper']
        assert paper['Title'] and paper['URL'].startswith('https://')
    for model in meta['Models']:
        name = model.get('Name')
        assert MODEL_KEYS <= set(model), name
        assert model['In Collection'] in collections, name
        assert 'Weights' not in model, f'{name}: no public weights yet'
        metadata = model['Metadata']
        assert METADATA_KEYS <= set(metadata), name
        arch = metadata['Architecture']
        assert isinstance(arch, str) or all(isinstance(a, str) for a in arch)
        # a multi-stage config lists its stages instead of an epoch count
        assert ('Epochs' in metadata) != ('Stages' in metadata), name


@pytest.mark.parametrize(
    'path,model', MODELS, ids=[m['Name'] for _, m in MODELS])
def test_model_entry_matches_its_config(path, model):
    config = model['Config']
    assert osp.isfile(osp.join(REPO, config)), config
    assert model['Name'] == osp.splitext(osp.basename(config))[0]
    # a folder's metafile lists its configs; configs/sugar_*.py go in
    # configs/sugar/metafile.yml, configs/llmar_*.py in configs/llmar/
    folder = osp.dirname(config)
    if folder == 'configs':
        folder = osp.join('configs', model['Name'].split('_')[0])
    assert osp.dirname(path) == folder
    cfg = Config.fromfile(osp.join(REPO, config), import_custom_modules=False)
    metadata = model['Metadata']
    if is_multi_stage(cfg):
        stages = [
            osp.splitext(osp.basename(s['config']))[0] for s in stage_list(cfg)
        ]
        assert metadata['Stages'] == stages
        return
    assert metadata['Batch Size'] == cfg.train_dataloader.batch_size
    # passes over the data: epochs times the toolbox's RepeatDataset factor
    epochs = cfg.train_cfg.max_epochs * cfg.train_dataloader.dataset.get(
        'times', 1)
    assert metadata['Epochs'] == epochs


def _number_in_results(text):
    """``text`` as a whole number in docs/RESULTS.md (not inside another:
    '92.1' matches '92.1' and '92.1%', not '192.1' or '92.15')."""
    pattern = r'(?<![\d.])' + re.escape(text) + r'(?![\d]|\.\d)'
    return re.search(pattern, RESULTS_MD) is not None


@pytest.mark.parametrize('path', METAFILES)
def test_results_are_the_numbers_in_results_md(path):
    typed = load(path)['Models']
    # the same file read without conversion: numbers as written ('16.80')
    raw = load(path, yaml.BaseLoader)['Models']
    for model, model_raw in zip(typed, raw):
        if 'Results' not in model:
            continue
        results = model['Results']
        assert results['Dataset'] and results['Task'] == TASK
        assert results['Metrics'], model['Name']
        for metric, value in results['Metrics'].items():
            text = model_raw['Results']['Metrics'][metric]
            assert isinstance(value, (int, float)), (model['Name'], metric)
            assert _number_in_results(text), (
                f'{path}: {model["Name"]} {metric} = {text} is not in '
                'docs/RESULTS.md; record the run there first')


def test_the_number_match_is_strict():
    assert _number_in_results('53.78')
    assert not _number_in_results('53.7')
    assert not _number_in_results('3.78')
    assert not _number_in_results('12345.678')
