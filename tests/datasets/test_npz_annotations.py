# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""The pickle-free annotation format: round trips, the dataset reads it like
the pickle, and broken or pickle-carrying files are refused."""
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest

from mmaction_sugar.datasets import (AnnotationError, SkeletonDataset,
                                     load_annotations_npz,
                                     save_annotations_npz)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def sample(name, label, persons, frames, score=True):
    rng = np.random.default_rng(label)
    anno = dict(frame_dir=name, label=label, total_frames=frames,
                img_shape=(1080, 1920), extra=np.int64(3),
                keypoint=rng.normal(size=(persons, frames, 25,
                                          3)).astype(np.float32))
    if score:
        anno['keypoint_score'] = rng.random((persons, frames, 25),
                                            dtype=np.float32)
    return anno


@pytest.mark.parametrize('score', [True, False])
def test_round_trip(tmp_path, score):
    annos = [sample('a', 0, 1, 5, score), sample('b', 2, 2, 7, score)]
    split = dict(train=['a'], val=['b'])
    path = save_annotations_npz(str(tmp_path / 'ann'), annos, split)
    assert path.endswith('ann.npz')
    data = load_annotations_npz(path)
    assert data['split'] == split
    for before, after in zip(annos, data['annotations']):
        np.testing.assert_array_equal(before['keypoint'], after['keypoint'])
        if score:
            np.testing.assert_array_equal(before['keypoint_score'],
                                          after['keypoint_score'])
        else:
            assert 'keypoint_score' not in after
        assert after['label'] == before['label']
        assert after['img_shape'] == [1080, 1920] and after['extra'] == 3
        assert 'num_person' not in after


def test_dataset_reads_npz_like_the_pickle(tmp_path, tiny_synth_ntu):
    pkl = osp.join(tiny_synth_ntu, 'synth_ntu_3d.pkl')
    npz = str(tmp_path / 'synth_ntu_3d.npz')
    result = subprocess.run(
        [sys.executable, 'tools/data/pkl_to_npz.py', pkl, npz],
        capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, result.stderr
    kwargs = dict(pipeline=[], split='xsub_train', num_joints=25,
                  coord_dim=3, lazy_init=True)
    from_pkl = SkeletonDataset(pkl, **kwargs).load_data_list()
    from_npz = SkeletonDataset(npz, **kwargs).load_data_list()
    assert [a['frame_dir'] for a in from_pkl] == [
        a['frame_dir'] for a in from_npz]
    for a, b in zip(from_pkl, from_npz):
        assert a['label'] == b['label']
        np.testing.assert_array_equal(a['keypoint'], b['keypoint'])


def test_synth_generator_writes_npz(tmp_path):
    from mmaction_sugar.datasets.synthetic import write_synth_ntu
    path = write_synth_ntu(str(tmp_path), size='tiny', seed=0,
                           file_format='npz')
    assert path.endswith('synth_ntu_3d.npz')
    data = SkeletonDataset(path, pipeline=[], split='xsub_val',
                           lazy_init=True).load_data_list()
    assert data and data[0]['keypoint'].shape[2:] == (25, 3)
    with pytest.raises(ValueError, match='file_format'):
        write_synth_ntu(str(tmp_path), size='tiny', file_format='json')


def test_npz_with_a_pickled_object_is_refused(tmp_path):
    path = str(tmp_path / 'evil.npz')
    np.savez(path, format=np.array('mmaction-sugar-annotations/1'),
             meta=np.array([{'samples': []}], dtype=object),
             keypoint=np.zeros((1, 25, 3), np.float32))
    with pytest.raises(AnnotationError, match='not a readable .npz'):
        load_annotations_npz(path)


def corrupt(tmp_path, **arrays):
    good = save_annotations_npz(str(tmp_path / 'good'), [sample('a', 0, 1,
                                                                4)])
    with np.load(good) as data:
        content = {k: data[k] for k in data.files}
    content.update(arrays)
    path = str(tmp_path / 'bad.npz')
    np.savez(path, **{k: v for k, v in content.items() if v is not None})
    return path


@pytest.mark.parametrize('arrays, message', [
    (dict(format=np.array('something else')), "field 'format'"),
    (dict(meta=None), "field 'meta' is missing"),
    (dict(meta=np.array('{not json')), "field 'meta'"),
    (dict(meta=np.array('{"samples": [{"label": 0}], "split": {}}')),
     'num_person and total_frames'),
    (dict(keypoint=np.zeros((3, 25, 3), np.float32)),
     "field 'keypoint': expected 4 rows"),
    (dict(keypoint_score=np.zeros((9, 25), np.float32)),
     "field 'keypoint_score': expected 4 rows"),
])
def test_broken_npz_names_the_field(tmp_path, arrays, message):
    path = corrupt(tmp_path, **arrays)
    with pytest.raises(AnnotationError, match=message):
        load_annotations_npz(path)


def test_not_an_npz(tmp_path):
    path = tmp_path / 'ann.npz'
    path.write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(AnnotationError, match='ann.npz: not a readable'):
        load_annotations_npz(str(path))


def test_save_refuses_what_the_format_cannot_hold(tmp_path):
    bad_shape = sample('a', 0, 1, 4)
    bad_shape['keypoint'] = np.zeros((4, 25, 3))
    with pytest.raises(AnnotationError, match="sample 0 \\('a'\\): field "
                       "'keypoint'"):
        save_annotations_npz(str(tmp_path / 'x'), [bad_shape])
    mixed = [sample('a', 0, 1, 4), sample('b', 1, 1, 4)]
    mixed[1]['keypoint'] = np.zeros((1, 4, 17, 2), np.float32)
    with pytest.raises(AnnotationError, match='like the first sample'):
        save_annotations_npz(str(tmp_path / 'x'), mixed)
    partial = [sample('a', 0, 1, 4), sample('b', 1, 1, 4, score=False)]
    with pytest.raises(AnnotationError, match='in every sample or in none'):
        save_annotations_npz(str(tmp_path / 'x'), partial)
    odd = sample('a', 0, 1, 4)
    odd['callback'] = print
    with pytest.raises(AnnotationError, match="field 'callback'"):
        save_annotations_npz(str(tmp_path / 'x'), [odd])


def test_truncated_npz(tmp_path):
    good = save_annotations_npz(str(tmp_path / 'good'), [sample('a', 0, 1,
                                                                4)])
    data = open(good, 'rb').read()
    cut = tmp_path / 'cut.npz'
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(AnnotationError, match='cut.npz: not a readable'):
        load_annotations_npz(str(cut))
