# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Tests of ClassTextBank and build_class_text_bank (the on-disk cache).

The bundled all-MiniLM-L6-v2 is loaded once per session and the whole
SynthNTU knowledge (32 classes) is embedded once; the cache tests use 2-3
class subsets.
"""
import dataclasses
import os
import os.path as osp
import warnings

import pytest
import torch

from mmaction_sugar.datasets import ActionKnowledge
from mmaction_sugar.models.text_encoders import (ClassTextBank,
                                                 FrozenTextEncoder,
                                                 TextBankCacheWarning,
                                                 build_class_text_bank,
                                                 class_text_bank_key,
                                                 encoder_fingerprint)
from mmaction_sugar.models.text_encoders import \
    frozen_text_encoder as fte_module
from mmaction_sugar.models.text_encoders.frozen_text_encoder import \
    default_model_path

CFG = dict(type='FrozenTextEncoder')


@pytest.fixture(scope='session')
def knowledge():
    return ActionKnowledge.load('synth_ntu')


@pytest.fixture(scope='session')
def encoder():
    return FrozenTextEncoder()


@pytest.fixture(scope='session')
def full_bank(knowledge, encoder, tmp_path_factory):
    cache_dir = tmp_path_factory.mktemp('bank_full')
    return build_class_text_bank(knowledge, encoder, str(cache_dir))


@pytest.fixture
def pair(knowledge):
    return knowledge.subset(['side kick', 'drink water'])


def _forbid_encoder(monkeypatch):
    """Make any construction of a FrozenTextEncoder fail."""

    def boom(self, *args, **kwargs):
        raise AssertionError('the text encoder was constructed')

    monkeypatch.setattr(FrozenTextEncoder, '__init__', boom)


def _files(folder):
    return sorted(os.listdir(folder))


def test_full_bank(full_bank, knowledge, encoder):
    counts = [len(c.texts()) for c in knowledge]
    assert full_bank.embeddings.shape == (32, max(counts), 384)
    assert full_bank.embeddings.dtype == torch.float32
    assert full_bank.mask.shape == (32, max(counts))
    assert full_bank.counts().tolist() == counts
    assert full_bank.class_names == knowledge.class_names
    assert full_bank.texts[5] == knowledge[5].texts()
    norms = full_bank.embeddings.norm(dim=-1)
    torch.testing.assert_close(norms[full_bank.mask],
                               torch.ones(sum(counts)))
    assert (norms[~full_bank.mask] == 0).all()
    # Row b of class i is the embedding of text b of class i.
    torch.testing.assert_close(
        full_bank.embeddings[3, 1],
        encoder.encode([knowledge[3].texts()[1]])[0],
        atol=1e-5,
        rtol=0)
    assert len(full_bank.key) == 64
    assert full_bank.key == class_text_bank_key(encoder.fingerprint(),
                                                knowledge.content_hash())


def test_class_means(full_bank):
    means = full_bank.class_means()
    assert means.shape == (32, 384)
    torch.testing.assert_close(means.norm(dim=1), torch.ones(32))
    i = 7
    count = int(full_bank.counts()[i])
    expected = full_bank.embeddings[i, :count].mean(0)
    torch.testing.assert_close(means[i], expected / expected.norm())
    # Each class mean is closest to its own texts.
    sims = torch.einsum('cd,kbd->ckb', means, full_bank.embeddings)
    own = sims[torch.arange(32), torch.arange(32)]
    assert (own[full_bank.mask] > 0.3).all()


def test_sample(full_bank):
    generator = torch.Generator().manual_seed(0)
    seen = set()
    for _ in range(20):
        emb, index = full_bank.sample(generator, return_index=True)
        assert emb.shape == (32, 384) and index.shape == (32, )
        assert full_bank.mask[torch.arange(32), index].all()
        torch.testing.assert_close(
            emb, full_bank.embeddings[torch.arange(32), index])
        seen.update(index.tolist())
    assert seen == set(range(full_bank.bag_size))
    again = full_bank.sample(torch.Generator().manual_seed(0))
    first = full_bank.sample(torch.Generator().manual_seed(0))
    torch.testing.assert_close(again, first)
    assert full_bank.sample().shape == (32, 384)


def test_sample_non_prefix_mask():
    emb = torch.nn.functional.normalize(torch.randn(2, 4, 3), dim=-1)
    mask = torch.tensor([[False, True, False, True],
                         [False, False, True, False]])
    bank = ClassTextBank(emb * mask.unsqueeze(-1), mask, ['a', 'b'])
    generator = torch.Generator().manual_seed(1)
    picked = set()
    for _ in range(30):
        _, index = bank.sample(generator, return_index=True)
        assert mask[torch.arange(2), index].all()
        picked.add(int(index[0]))
    assert picked == {1, 3}


def test_subset(full_bank, knowledge):
    sub = full_bank.subset([31, 0])
    assert sub.class_names == ['side kick', 'drink water']
    assert sub.num_classes == 2 and len(sub) == 2
    width = int(full_bank.counts()[[31, 0]].max())
    assert sub.bag_size == width
    torch.testing.assert_close(sub.embeddings[1],
                               full_bank.embeddings[0, :width])
    assert sub.texts == [knowledge[31].texts(), knowledge[0].texts()]
    assert sub.key.startswith(full_bank.key + '/subset-')
    by_name = full_bank.subset(['side kick', 'drink water'])
    torch.testing.assert_close(by_name.embeddings, sub.embeddings)
    assert by_name.key == sub.key
    by_tensor = full_bank.subset(torch.tensor([31, 0]))
    torch.testing.assert_close(by_tensor.mask, sub.mask)
    assert full_bank.subset([-1]).class_names == ['side kick']
    with pytest.raises(IndexError):
        full_bank.subset([32])
    with pytest.raises(KeyError, match='no class named'):
        full_bank.subset(['fly'])
    with pytest.raises(ValueError):
        full_bank.subset([])


def test_bank_validation():
    emb = torch.zeros(2, 3, 4)
    good = torch.tensor([[True, False, False], [True, True, True]])
    with pytest.raises(ValueError, match='mask shape'):
        ClassTextBank(emb, good[:, :2], ['a', 'b'])
    with pytest.raises(ValueError, match='bool'):
        ClassTextBank(emb, good.long(), ['a', 'b'])
    with pytest.raises(ValueError, match='class names'):
        ClassTextBank(emb, good, ['a'])
    with pytest.raises(ValueError, match='without texts'):
        ClassTextBank(emb, torch.zeros(2, 3, dtype=torch.bool), ['a', 'b'])
    with pytest.raises(ValueError, match='has 2 texts'):
        ClassTextBank(emb, good, ['a', 'b'], texts=[['x', 'y'], ['z'] * 3])
    with pytest.raises(dataclasses.FrozenInstanceError):
        ClassTextBank(emb, good, ['a', 'b']).key = 'x'
    bank = ClassTextBank(emb, good, ['a', 'b'])
    assert bank.to('cpu') is bank
    assert 'num_classes=2' in repr(bank)


def test_cache_hit_skips_encoder(pair, encoder, tmp_path, monkeypatch):
    cache_dir = str(tmp_path / 'cache')
    # A built encoder and the config of the same encoder share the key.
    first = build_class_text_bank(pair, encoder, cache_dir)
    assert _files(cache_dir) == [first.key + '.safetensors']
    _forbid_encoder(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        second = build_class_text_bank(pair, CFG, cache_dir)
    assert second.key == first.key
    torch.testing.assert_close(second.embeddings, first.embeddings)
    assert torch.equal(second.mask, first.mask)
    assert second.class_names == ['side kick', 'drink water']
    assert second.texts == first.texts
    assert _files(cache_dir) == [first.key + '.safetensors']
    # The knowledge may also be given by name (the full set is not
    # cached here, so this must try to build the encoder).
    with pytest.raises(AssertionError, match='constructed'):
        build_class_text_bank('synth_ntu', CFG, cache_dir)


def test_key_changes(pair, knowledge, encoder, tmp_path):
    cache_dir = str(tmp_path)
    bank = build_class_text_bank(pair, encoder, cache_dir)
    content = pair.content_hash()
    fingerprint = encoder.fingerprint()
    assert bank.key == class_text_bank_key(fingerprint, content)

    # A changed knowledge text.
    cls = pair[1]
    edited = dataclasses.replace(
        cls, visual=(cls.visual[0] + ' slowly', ) + cls.visual[1:])
    changed = ActionKnowledge('edited', [pair[0], edited])
    assert changed.content_hash() != content
    rebuilt = build_class_text_bank(changed, encoder, cache_dir)
    assert rebuilt.key != bank.key
    assert len(_files(cache_dir)) == 2
    assert not torch.allclose(rebuilt.embeddings[1, 1],
                              bank.embeddings[1, 1])
    torch.testing.assert_close(rebuilt.embeddings[0], bank.embeddings[0])

    # include_summary.
    summary = build_class_text_bank(pair, encoder, cache_dir, True)
    assert summary.key != bank.key
    assert summary.texts[0][-1] == pair[0].summary

    # Another folder with the same files (symlinks) is another encoder.
    other = tmp_path / 'minilm_copy'
    source = default_model_path()
    for root, _, files in os.walk(source):
        target = other / osp.relpath(root, source)
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            os.symlink(osp.join(root, name), target / name)
    other_fp = encoder_fingerprint(str(other))
    assert other_fp != fingerprint
    assert other_fp.split(':')[2] == fingerprint.split(':')[2]
    assert class_text_bank_key(other_fp, content) != bank.key
    # And max_length is part of the key (it truncates texts).
    assert class_text_bank_key(encoder_fingerprint(max_length=16),
                               content) != bank.key


def _write_junk(path, bank):
    with open(path, 'wb') as f:
        f.write(b'not a safetensors file')


def _write_wrong_shape(path, bank):
    from safetensors.torch import save_file
    save_file(
        dict(embeddings=torch.zeros(3, 2, 4), mask=torch.ones(3, 2).bool()),
        path,
        metadata=dict(format='mmaction_sugar.ClassTextBank', version='1'))


def _write_renamed(path, bank):
    from safetensors import safe_open
    from safetensors.torch import save_file
    with safe_open(path, framework='pt') as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    meta['bank'] = meta['bank'].replace('side kick', 'side kick 2')
    save_file(tensors, path, metadata=meta)


def _write_truncated(path, bank):
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])


def _write_not_normalised(path, bank):
    from safetensors import safe_open
    from safetensors.torch import save_file
    with safe_open(path, framework='pt') as f:
        meta = f.metadata()
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    tensors['embeddings'] = tensors['embeddings'] * 2
    save_file(tensors, path, metadata=meta)


@pytest.mark.parametrize('corrupt', [
    _write_junk, _write_wrong_shape, _write_renamed, _write_truncated,
    _write_not_normalised
])
def test_corrupt_cache_is_rebuilt(corrupt, pair, encoder, tmp_path):
    bank = build_class_text_bank(pair, encoder, str(tmp_path))
    path = str(tmp_path / (bank.key + '.safetensors'))
    corrupt(path, bank)
    with pytest.warns(TextBankCacheWarning, match='rebuilding') as record:
        rebuilt = build_class_text_bank(pair, encoder, str(tmp_path))
    assert path in str(record[0].message)
    torch.testing.assert_close(rebuilt.embeddings, bank.embeddings)
    assert _files(str(tmp_path)) == [bank.key + '.safetensors']
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        again = build_class_text_bank(pair, encoder, str(tmp_path))
    torch.testing.assert_close(again.embeddings, bank.embeddings)


def test_atomic_write_failure(pair, encoder, tmp_path, monkeypatch):
    import safetensors.torch
    written = []

    def failing_save(tensors, filename, metadata=None):
        with open(filename, 'wb') as f:
            f.write(b'partial')
        written.append(filename)
        raise OSError('disk full')

    monkeypatch.setattr(safetensors.torch, 'save_file', failing_save)
    with pytest.warns(TextBankCacheWarning, match='disk full'):
        bank = build_class_text_bank(pair, encoder, str(tmp_path))
    assert bank.embeddings.shape[0] == 2
    assert len(written) == 1
    # The temporary file was in the cache folder, and is gone.
    assert osp.dirname(written[0]) == str(tmp_path)
    assert written[0] != str(tmp_path / (bank.key + '.safetensors'))
    assert _files(str(tmp_path)) == []


def test_atomic_write_interrupted(pair, encoder, tmp_path, monkeypatch):
    import safetensors.torch

    def interrupted(tensors, filename, metadata=None):
        with open(filename, 'wb') as f:
            f.write(b'partial')
        raise KeyboardInterrupt

    monkeypatch.setattr(safetensors.torch, 'save_file', interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_class_text_bank(pair, encoder, str(tmp_path))
    assert _files(str(tmp_path)) == []


def test_no_cache_and_default_encoder(knowledge, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    triple = knowledge.subset(['drink water', 'sitting down', 'hand waving'])
    bank = build_class_text_bank(triple, cache_dir=None)
    assert bank.embeddings.shape[:2] == (3, bank.bag_size)
    assert _files(str(tmp_path)) == []
    # The default cache folder is relative to the working directory.
    cached = build_class_text_bank(triple)
    folder = tmp_path / '.cache' / 'mmaction_sugar' / 'text_bank'
    assert _files(str(folder)) == [cached.key + '.safetensors']
    torch.testing.assert_close(cached.embeddings, bank.embeddings)


def test_config_errors(pair, tmp_path):
    with pytest.raises(TypeError, match='unknown FrozenTextEncoder'):
        build_class_text_bank(
            pair, dict(type='FrozenTextEncoder', model_pth='x'),
            str(tmp_path))
    with pytest.raises(FileNotFoundError, match='nowhere'):
        build_class_text_bank(
            pair,
            dict(type='FrozenTextEncoder',
                 model_path=str(tmp_path / 'nowhere')), str(tmp_path))


def test_fingerprint_shared_with_config(encoder):
    # Same function for the module and the cache key (no model load).
    assert fte_module.encoder_fingerprint(
        None, 'auto', 77) == encoder.fingerprint()
