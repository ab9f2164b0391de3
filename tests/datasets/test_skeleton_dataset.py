# Copyright (c) mmaction-sugar contributors. All rights reserved.
import pickle

import numpy as np
import pytest

from mmaction_sugar.datasets import AnnotationError, SkeletonDataset

PIPELINE = [
    dict(type='PreNormalize3D'),
    dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=8, num_clips=1,
         test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs'),
]


def make_annotations(num=4, frames=12):
    rng = np.random.default_rng(0)
    annos = [
        dict(frame_dir=f'S001C001P00{i}R001A001', label=i % 2,
             total_frames=frames,
             keypoint=rng.normal(size=(1 + i % 2, frames, 25, 3)).astype(
                 np.float32)) for i in range(num)
    ]
    split = dict(train=[a['frame_dir'] for a in annos[:3]],
                 val=[annos[3]['frame_dir']])
    return dict(split=split, annotations=annos)


def dump(tmp_path, data, name='ann.pkl'):
    path = tmp_path / name
    with open(path, 'wb') as f:
        pickle.dump(data, f)
    return str(path)


def build(path, split='train', **kwargs):
    kwargs.setdefault('num_joints', 25)
    kwargs.setdefault('coord_dim', 3)
    kwargs.setdefault('num_classes', 2)
    return SkeletonDataset(path, pipeline=PIPELINE, split=split, **kwargs)


def test_loads_split_and_runs_toolbox_pipeline(tmp_path):
    ds = build(dump(tmp_path, make_annotations()))
    assert len(ds) == 3
    sample = ds[1]
    assert tuple(sample['inputs'].shape) == (1, 2, 8, 25, 3)
    assert sample['data_samples'].gt_label.item() == 1


def test_plain_list_without_split(tmp_path):
    data = make_annotations()['annotations']
    assert len(build(dump(tmp_path, data), split=None)) == 4


def test_classes_file_bounds_labels(tmp_path):
    classes = tmp_path / 'classes.txt'
    classes.write_text('a\nb\n')
    data = make_annotations()
    data['annotations'][0]['label'] = 2
    with pytest.raises(AnnotationError, match="field 'label'.*got 2"):
        build(dump(tmp_path, data), num_classes=None,
              metainfo=dict(classes=str(classes)))


def corrupt(field, value=None, delete=False):
    """A case: change sample 1 of the train split."""

    def apply(data):
        anno = data['annotations'][1]
        if delete:
            del anno[field]
        else:
            anno[field] = value(anno) if callable(value) else value
        return data

    return apply


def with_nan(anno):
    kp = anno['keypoint'].copy()
    kp[0, 3, 7, 1] = np.nan
    return kp


CASES = {
    'missing keypoint': (corrupt('keypoint', delete=True),
                         "field 'keypoint': expected present"),
    'missing label': (corrupt('label', delete=True),
                      "field 'label': expected present"),
    'missing total_frames': (corrupt('total_frames', delete=True),
                             "field 'total_frames'"),
    'wrong joint count': (
        corrupt('keypoint', lambda a: a['keypoint'][:, :, :24]),
        r"field 'keypoint': expected shape \(M, T, 25, 3\).*24"),
    'wrong coord dim': (
        corrupt('keypoint', lambda a: a['keypoint'][..., :2]),
        r"field 'keypoint': expected shape \(M, T, 25, 3\)"),
    'keypoint not 4d': (
        corrupt('keypoint', lambda a: a['keypoint'][0]),
        r"field 'keypoint': expected an array of shape \(M, T, V, C\)"),
    'nan coordinate': (corrupt('keypoint', with_nan),
                       r"finite coordinates.*\(0, 3, 7, 1\)"),
    'inf coordinate': (
        corrupt('keypoint', lambda a: a['keypoint'] * np.inf),
        'finite coordinates'),
    'label out of range': (corrupt('label', 5),
                           r"field 'label': expected in \[0, 2\), got 5"),
    'negative label': (corrupt('label', -1), "field 'label'"),
    'label not int': (corrupt('label', 'drink'),
                      "field 'label': expected an integer"),
    'zero frames': (
        corrupt('keypoint', lambda a: a['keypoint'][:, :0]),
        "field 'total_frames'"),
    'frame count mismatch': (corrupt('total_frames', 99),
                             "field 'total_frames'.*got 99"),
    'bad keypoint_score': (
        corrupt('keypoint_score', np.ones((1, 3, 25))),
        "field 'keypoint_score'"),
    'integer coordinates': (
        corrupt('keypoint', lambda a: a['keypoint'].astype(np.int64)),
        'a float array'),
}


@pytest.mark.parametrize('case', sorted(CASES))
def test_corrupted_sample_names_file_sample_and_field(tmp_path, case):
    change, message = CASES[case]
    path = dump(tmp_path, change(make_annotations()))
    with pytest.raises(AnnotationError) as info:
        build(path)
    text = str(info.value)
    assert text.startswith(path)
    assert "sample 1 ('S001C001P001R001A001')" in text
    assert pytest.importorskip('re').search(message, text), text


def split_case(update):

    def apply(data):
        update(data)
        return data

    return apply


SPLIT_CASES = {
    'empty split': (split_case(lambda d: d['split'].update(train=[])),
                    "split 'train': the split is empty"),
    'unknown split': (split_case(lambda d: d['split'].pop('train')),
                      r"split 'train': not found; available splits: "
                      r"\['val'\]"),
    'no split dict': (split_case(lambda d: d.pop('split')),
                      "split 'train': the file has no 'split' dict"),
    'duplicated names': (
        split_case(lambda d: d['split']['train'].append(
            d['split']['train'][0])), 'duplicated names'),
    'name without annotation': (
        split_case(lambda d: d['split']['train'].append('S009C001')),
        r"1 name\(s\) have no annotation.*S009C001"),
    'duplicated annotation': (
        split_case(lambda d: d['annotations'].append(
            dict(d['annotations'][0]))), 'duplicate'),
}


@pytest.mark.parametrize('case', sorted(SPLIT_CASES))
def test_broken_split_is_reported(tmp_path, case):
    change, message = SPLIT_CASES[case]
    path = dump(tmp_path, change(make_annotations()))
    with pytest.raises(AnnotationError, match=message) as info:
        build(path)
    assert str(info.value).startswith(path)


@pytest.mark.parametrize('data,message', [
    ({'foo': 1}, "expected a dict with 'annotations'.*keys \\['foo'\\]"),
    ('text', 'got str'),
    (dict(annotations={}), "field 'annotations': expected a list"),
    (dict(annotations=[1]), 'sample 0: expected a dict, got int'),
])
def test_wrong_file_structure(tmp_path, data, message):
    with pytest.raises(AnnotationError, match=message):
        build(dump(tmp_path, data), split=None)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pkl'):
        build(str(tmp_path / 'nope.pkl'))


def test_only_the_selected_split_is_validated(tmp_path):
    data = make_annotations()
    data['annotations'][3]['label'] = 7  # in 'val' only
    assert len(build(dump(tmp_path, data), split='train')) == 3


def test_keep_classes_by_label_and_name(tmp_path):
    path = dump(tmp_path, make_annotations())

    def labels(ds):
        return [ds.get_data_info(i)['label'] for i in range(len(ds))]

    assert labels(build(path, keep_classes=[1])) == [1]
    classes = tmp_path / 'classes.txt'
    classes.write_text('a\nb\n')
    ds = build(path, num_classes=None, keep_classes=['a'],
               metainfo=dict(classes=str(classes)))
    assert labels(ds) == [0, 0]
    with pytest.raises(AnnotationError, match="keep_classes names 'z'"):
        build(path, num_classes=None, keep_classes=['z'],
              metainfo=dict(classes=str(classes)))
    with pytest.raises(AnnotationError, match='no sample of keep_classes'):
        build(path, split='val', keep_classes=[0])
