# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Tests of FrozenTextEncoder and encoder_fingerprint.

The bundled all-MiniLM-L6-v2 is loaded once per session. The CLIP path uses
a tiny randomly initialised CLIP text model (hidden size 32, 2 layers,
projection 16) saved with ``save_pretrained``, and a tiny character-level
``CLIPTokenizer`` built in memory from a vocabulary of the 256 byte-level
characters (each alone and with the ``</w>`` end-of-word suffix) and no BPE
merges, saved next to it.
"""
import json
import os
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS

from mmaction_sugar.models.text_encoders import (FrozenTextEncoder,
                                                 detect_kind,
                                                 encoder_fingerprint,
                                                 resolve_model_path)
from mmaction_sugar.models.text_encoders.frozen_text_encoder import \
    default_model_path

TEXTS = ['a person waves a hand', 'someone waving', 'a person sits down']


@pytest.fixture(scope='session')
def minilm():
    return FrozenTextEncoder()


def _tiny_clip_tokenizer():
    from tokenizers import pre_tokenizers
    from transformers import CLIPTokenizer
    vocab = {'<|startoftext|>': 0, '<|endoftext|>': 1}
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    for suffix in ('', '</w>'):
        for char in alphabet:
            vocab[char + suffix] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[])


def _tiny_clip_text_config(vocab_size):
    from transformers import CLIPTextConfig
    return CLIPTextConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        projection_dim=16,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1)


@pytest.fixture(scope='session')
def tiny_clip_dir(tmp_path_factory):
    """A CLIPTextModelWithProjection folder (model_type clip_text_model)."""
    from transformers import CLIPTextModelWithProjection
    folder = tmp_path_factory.mktemp('tiny_clip_text')
    tokenizer = _tiny_clip_tokenizer()
    torch.manual_seed(0)
    model = CLIPTextModelWithProjection(_tiny_clip_text_config(len(tokenizer)))
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return str(folder)


@pytest.fixture(scope='session')
def tiny_clip(tiny_clip_dir):
    return FrozenTextEncoder(tiny_clip_dir)


def test_minilm_shapes_and_norms(minilm):
    assert minilm.kind == 'sentence_transformers'
    assert minilm.embed_dim == 384
    assert minilm.model_path == osp.realpath(default_model_path())
    emb = minilm.encode(TEXTS)
    assert emb.shape == (3, 384)
    assert emb.dtype == torch.float32
    assert not emb.requires_grad
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(3))
    assert minilm(TEXTS[:1]).shape == (1, 384)
    empty = minilm.encode([])
    assert empty.shape == (0, 384) and empty.dtype == torch.float32


def test_minilm_batching_matches(minilm, monkeypatch):
    whole = minilm.encode(TEXTS)
    monkeypatch.setattr(minilm, 'batch_size', 2)
    calls = []
    original = minilm._encode_batch

    def spy(batch):
        calls.append(len(batch))
        return original(batch)

    monkeypatch.setattr(minilm, '_encode_batch', spy)
    batched = minilm.encode(TEXTS)
    assert calls == [2, 1]
    torch.testing.assert_close(batched, whole, atol=1e-5, rtol=0)


def test_minilm_semantics(minilm):
    wave, waving, sit = minilm.encode(TEXTS)
    assert float(wave @ waving) > float(wave @ sit)


def test_encode_rejects_bad_input(minilm):
    with pytest.raises(TypeError, match='pass \\[text\\]'):
        minilm.encode('a person waves a hand')
    with pytest.raises(TypeError, match='text 1'):
        minilm.encode(['ok', 3])


def test_frozen_and_eval(minilm):
    assert all(not p.requires_grad for p in minilm.parameters())
    assert sum(p.numel() for p in minilm.parameters()) > 0
    assert minilm.train() is minilm
    assert not minilm.training
    assert not any(m.training for m in minilm.modules())
    wrapper = torch.nn.Sequential(minilm)
    wrapper.train()
    assert not any(m.training for m in minilm.modules())


def test_max_length_capped_and_truncates(minilm):
    assert minilm.max_length == 77 and minilm.max_length_arg == 77
    assert minilm.model.max_seq_length == 77
    assert 'L77' in minilm.fingerprint()


def test_auto_detection(tmp_path, tiny_clip_dir):
    assert detect_kind(resolve_model_path()) == 'sentence_transformers'
    assert detect_kind(tiny_clip_dir) == 'clip'
    marker = tmp_path / 'st'
    marker.mkdir()
    (marker / 'config_sentence_transformers.json').write_text('{}')
    assert detect_kind(str(marker)) == 'sentence_transformers'


def test_missing_folder(tmp_path):
    missing = tmp_path / 'no_such_model'
    with pytest.raises(FileNotFoundError, match='no_such_model') as info:
        FrozenTextEncoder(str(missing))
    assert 'sentence-transformers' in str(info.value)
    with pytest.raises(FileNotFoundError, match='no_such_model'):
        encoder_fingerprint(str(missing))
    # A hub name is not a local folder: never downloaded.
    with pytest.raises(FileNotFoundError, match='never downloaded'):
        FrozenTextEncoder('sentence-transformers/all-MiniLM-L6-v2')


def test_path_is_a_file(tmp_path):
    path = tmp_path / 'model.bin'
    path.write_bytes(b'junk')
    with pytest.raises(NotADirectoryError, match='model.bin'):
        FrozenTextEncoder(str(path))


def test_unrecognised_folder(tmp_path):
    junk = tmp_path / 'junk_model'
    junk.mkdir()
    (junk / 'weights.bin').write_bytes(b'\x00' * 10)
    with pytest.raises(ValueError, match='junk_model') as info:
        FrozenTextEncoder(str(junk))
    message = str(info.value)
    assert 'no config.json' in message and 'weights.bin' in message
    assert 'clip_text_model' in message and 'modules.json' in message
    (junk / 'config.json').write_text(json.dumps(dict(model_type='bert')))
    with pytest.raises(ValueError, match="model_type 'bert'"):
        encoder_fingerprint(str(junk))
    (junk / 'config.json').write_text('{not json')
    with pytest.raises(ValueError, match='unreadable config.json'):
        detect_kind(str(junk))


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='kind must be one of'):
        FrozenTextEncoder(kind='bert')
    with pytest.raises(ValueError, match='kind must be one of'):
        encoder_fingerprint(kind='bert')
    with pytest.raises(ValueError, match='batch_size'):
        FrozenTextEncoder(batch_size=0)


def test_fingerprint(minilm, tmp_path):
    fingerprint = minilm.fingerprint()
    assert fingerprint == encoder_fingerprint()
    assert fingerprint == encoder_fingerprint(
        default_model_path(), 'sentence_transformers', 77)
    kind, path, digest, length = fingerprint.rsplit(':', 3)
    assert kind == 'sentence_transformers'
    assert path == osp.realpath(default_model_path())
    assert len(digest) == 16 and length == 'L77'
    assert encoder_fingerprint(max_length=32) != fingerprint

    folder = tmp_path / 'model'
    folder.mkdir()
    (folder / 'modules.json').write_text('[]')
    first = encoder_fingerprint(str(folder))
    assert first == encoder_fingerprint(str(folder))
    (folder / '.hidden').write_text('ignored')
    assert encoder_fingerprint(str(folder)) == first
    (folder / 'model.safetensors').write_bytes(b'1234')
    second = encoder_fingerprint(str(folder))
    assert second != first
    (folder / 'model.safetensors').write_bytes(b'12345')
    assert encoder_fingerprint(str(folder)) != second
    # The path is resolved: a symlink to the folder has the same print.
    link = tmp_path / 'link'
    os.symlink(folder, link)
    assert encoder_fingerprint(str(link)) == encoder_fingerprint(
        str(folder))


def test_tiny_clip(tiny_clip, tiny_clip_dir):
    assert tiny_clip.kind == 'clip'
    assert tiny_clip.embed_dim == 16
    emb = tiny_clip.encode(TEXTS + [TEXTS[0]])
    assert emb.shape == (4, 16) and emb.dtype == torch.float32
    torch.testing.assert_close(emb.norm(dim=1), torch.ones(4))
    torch.testing.assert_close(emb[3], emb[0])
    assert not torch.allclose(emb[0], emb[1])
    assert tiny_clip.encode([]).shape == (0, 16)
    # Padding in a batch does not change an embedding.
    torch.testing.assert_close(
        tiny_clip.encode(TEXTS[1:2])[0], emb[1], atol=1e-5, rtol=0)
    # Truncated at the model's 77 positions; long texts still work.
    long = tiny_clip.encode(['word ' * 200])
    assert long.shape == (1, 16)
    assert all(not p.requires_grad for p in tiny_clip.parameters())
    tiny_clip.train()
    assert not any(m.training for m in tiny_clip.modules())
    assert tiny_clip.fingerprint().startswith(
        f'clip:{osp.realpath(tiny_clip_dir)}:')


def test_tiny_clip_max_length_capped(tiny_clip_dir):
    encoder = FrozenTextEncoder(tiny_clip_dir, kind='clip', max_length=500)
    assert encoder.max_length == 77 and encoder.max_length_arg == 500
    assert encoder.fingerprint().endswith(':L500')


def test_full_clip_folder(tmp_path):
    """A full CLIPModel folder (model_type clip) loads its text tower."""
    from transformers import CLIPConfig, CLIPModel
    tokenizer = _tiny_clip_tokenizer()
    text = _tiny_clip_text_config(len(tokenizer)).to_dict()
    vision = dict(
        hidden_size=8,
        intermediate_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=8,
        patch_size=4,
        projection_dim=16)
    torch.manual_seed(0)
    full = CLIPModel(
        CLIPConfig(
            text_config=text, vision_config=vision, projection_dim=16))
    full.save_pretrained(str(tmp_path))
    tokenizer.save_pretrained(str(tmp_path))
    assert detect_kind(str(tmp_path)) == 'clip'
    encoder = FrozenTextEncoder(str(tmp_path))
    tokens = tokenizer(TEXTS[:2], padding=True, return_tensors='pt')
    with torch.no_grad():
        expected = full.get_text_features(**tokens)
    expected = getattr(expected, 'pooler_output', expected)
    expected = torch.nn.functional.normalize(expected, dim=-1)
    torch.testing.assert_close(
        encoder.encode(TEXTS[:2]), expected, atol=1e-5, rtol=0)


def test_registered(tiny_clip_dir):
    encoder = MODELS.build(
        dict(type='FrozenTextEncoder', model_path=tiny_clip_dir,
             batch_size=2))
    assert isinstance(encoder, FrozenTextEncoder)
    assert encoder.batch_size == 2
    assert encoder.encode(TEXTS).shape == (3, 16)
