# Copyright (c) mmaction-sugar contributors. All rights reserved.
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmaction_sugar.datasets import AnnotationError, SkeletonDataset
from mmaction_sugar.datasets.skeleton_dataset import REQUIRED_KEYS

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
    (dict(annotations={}),
     "field 'annotations': expected a non-empty list, got dict"),
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


# Hostile inputs beyond single broken fields (docs/RELIABILITY.md)

HOSTILE = {
    'empty frame_dir': (corrupt('frame_dir', ''),
                        "field 'frame_dir': expected a non-empty string"),
    'frame_dir not a string': (
        corrupt('frame_dir', ['S001']),
        r"field 'frame_dir': expected a non-empty string, got \['S001'\]"),
    'total_frames float': (corrupt('total_frames', 12.0),
                           "field 'total_frames': expected an integer, "
                           'got float'),
    'huge coordinate': (
        corrupt('keypoint', lambda a: a['keypoint'] * 1e30),
        r"field 'keypoint': expected coordinates within \+-1e\+06"),
    'no person': (corrupt('keypoint', lambda a: a['keypoint'][:0]),
                  r'with M, V, C >= 1, got \(0, 12, 25, 3\)'),
    'nan keypoint_score': (
        corrupt('keypoint_score',
                lambda a: np.full(a['keypoint'].shape[:3], np.nan)),
        r"field 'keypoint_score': expected finite scores, got NaN/inf at "
        r'\(person, frame, joint\)=\(0, 0, 0\)'),
    'keypoint_score not an array': (
        corrupt('keypoint_score', [[0.5]]),
        r"field 'keypoint_score': expected an array of shape "
        r'\(2, 12, 25\), got list'),
    'keypoint_score of integers': (
        corrupt('keypoint_score',
                lambda a: np.ones(a['keypoint'].shape[:3], np.int64)),
        "field 'keypoint_score': expected a float array, got int64"),
}


@pytest.mark.parametrize('case', sorted(HOSTILE))
def test_hostile_sample_names_file_sample_and_field(tmp_path, case):
    change, message = HOSTILE[case]
    path = dump(tmp_path, change(make_annotations()))
    with pytest.raises(AnnotationError, match=message) as info:
        build(path)
    assert str(info.value).startswith(f'{path}: sample 1 (')


@pytest.mark.parametrize('names,message', [
    ('S001C001P000R001A001', 'expected a list of sample names, got str'),
    (None, 'expected a list of sample names, got NoneType'),
    (['S001C001P000R001A001', None], 'name 1: expected a non-empty string'),
    ([['S001']], r"name 0: expected a non-empty string, got \['S001'\]"),
])
def test_split_that_is_not_a_list_of_names(tmp_path, names, message):
    data = make_annotations()
    data['split']['train'] = names
    with pytest.raises(AnnotationError, match=message) as info:
        build(dump(tmp_path, data))
    assert str(info.value).startswith(
        f"{tmp_path / 'ann.pkl'}: split 'train': ")


@pytest.mark.parametrize('data,message', [
    ([], 'no annotations'),
    (dict(split=dict(train=['a']), annotations=[]),
     "field 'annotations': expected a non-empty list, got an empty list"),
])
def test_no_annotations(tmp_path, data, message):
    with pytest.raises(AnnotationError, match=message):
        build(dump(tmp_path, data), split=None)


@pytest.mark.parametrize('cut', ['half', 'empty', 'text'])
def test_unreadable_pickle(tmp_path, cut):
    blob = pickle.dumps(make_annotations())
    blob = dict(half=blob[:len(blob) // 2], empty=b'',
                text=b'frame_dir,label\n')[cut]
    path = tmp_path / 'ann.pkl'
    path.write_bytes(blob)
    with pytest.raises(AnnotationError) as info:
        build(str(path))
    assert str(info.value).startswith(
        f'{path}: cannot read the annotation pickle (')


def three_persons(data):
    data['annotations'][1]['keypoint'] = np.random.default_rng(0).normal(
        size=(3, 12, 25, 3)).astype(np.float32)
    return data


def test_more_persons_than_the_pipeline_takes(tmp_path):
    path = dump(tmp_path, three_persons(make_annotations()))
    # the 3D pipeline: PreNormalize3D takes 1 or 2 persons
    with pytest.raises(AnnotationError) as info:
        build(path)
    assert str(info.value) == (
        f"{path}: sample 1 ('S001C001P001R001A001'): field 'keypoint': "
        "expected at most 2 persons (M) because the pipeline's "
        'PreNormalize3D handles 1 or 2 (keep the most active persons when '
        'converting, or pass max_persons to accept the truncation), got '
        'M=3 in shape (3, 12, 25, 3)')
    # PreNormalize3D's limit holds even when max_persons allows more
    with pytest.raises(AnnotationError, match='PreNormalize3D'):
        build(path, max_persons=3)
    # a 2D-style pipeline: FormatGCNInput would drop the third person
    pipeline = [dict(type='FormatGCNInput', num_person=2)]
    with pytest.raises(AnnotationError,
                       match=r'FormatGCNInput\(num_person=2\) would '
                       'silently keep only the first 2'):
        SkeletonDataset(path, pipeline=pipeline, split='train')
    with pytest.raises(AnnotationError, match='because max_persons=1'):
        SkeletonDataset(path, pipeline=pipeline, split='train',
                        max_persons=1)
    # max_persons above num_person: the truncation is asked for
    ds = SkeletonDataset(path, pipeline=pipeline, split='train',
                         max_persons=3)
    assert ds[1]['keypoint'].shape == (1, 2, 12, 25, 3)  # (nc, M, T, V, C)
    assert len(SkeletonDataset(path, pipeline=[], split='train')) == 3
    with pytest.raises(ValueError, match='max_persons must be a positive'):
        SkeletonDataset(path, pipeline=[], max_persons=0)


def test_shapes_must_agree_without_num_joints_and_coord_dim(tmp_path):
    data = make_annotations()
    data['annotations'][2]['keypoint'] = data['annotations'][2][
        'keypoint'][..., :2]
    path = dump(tmp_path, data)
    with pytest.raises(AnnotationError) as info:
        build(path, num_joints=None, coord_dim=None)
    assert str(info.value) == (
        f"{path}: sample 2 ('S001C001P002R001A001'): field 'keypoint': "
        "expected shape (M, T, 25, 3) as in sample 0 "
        "('S001C001P000R001A001'), got (1, 12, 25, 2)")


def test_numpy_integers_become_ints(tmp_path):
    data = make_annotations()
    data['annotations'][1].update(label=np.int64(1),
                                  total_frames=np.int32(12))
    ds = build(dump(tmp_path, data))
    info = ds.get_data_info(1)
    assert type(info['label']) is int and type(info['total_frames']) is int
    # the toolbox's ActionDataSample refuses numpy integers
    assert ds[1]['data_samples'].gt_label.item() == 1


# Property-based: random valid files load; any single corruption is refused
# with an AnnotationError that names the file, the sample and the field.

PROPERTY = settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def valid_files(draw):
    """A valid annotation file (all samples in split 'train') and its
    (V, C)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    joints, coords = draw(st.integers(1, 5)), draw(st.integers(2, 3))
    annos = []
    for i in range(draw(st.integers(1, 4))):
        persons, frames = draw(st.integers(1, 2)), draw(st.integers(1, 5))
        anno = dict(
            frame_dir=f'clip{i}',
            label=draw(st.integers(0, 2)),
            total_frames=frames,
            keypoint=rng.normal(
                size=(persons, frames, joints, coords)).astype(np.float32))
        if draw(st.booleans()):
            anno['keypoint_score'] = rng.random(
                (persons, frames, joints)).astype(np.float32)
        annos.append(anno)
    split = dict(train=[a['frame_dir'] for a in annos])
    return dict(split=split, annotations=annos), (joints, coords)


def load_valid(path, shape, explicit):
    """The validated data list (lazy: no dataset serialisation)."""
    return SkeletonDataset(
        path,
        pipeline=[],
        split='train',
        num_classes=3,
        max_persons=2,
        num_joints=shape[0] if explicit else None,
        coord_dim=shape[1] if explicit else None,
        lazy_init=True).load_data_list()


@PROPERTY
@given(valid_files(), st.booleans())
def test_property_valid_files_load(tmp_path, file, explicit):
    data, shape = file
    labels = [a['label'] for a in data['annotations']]
    loaded = load_valid(dump(tmp_path, data), shape, explicit)
    assert [a['label'] for a in loaded] == labels


def _nan(value):

    def apply(anno, draw):
        kp = anno['keypoint'].copy()
        kp[tuple(draw(st.integers(0, n - 1)) for n in kp.shape)] = value
        return kp

    return apply


def _score(make):

    def apply(anno, draw):
        return make(anno['keypoint'].shape[:3])

    return apply


def _const(value):
    return lambda anno, draw: value


def _of_keypoint(change):
    return lambda anno, draw: change(anno['keypoint'])


# name: (field named in the message, key to change, new value from
# (anno, draw), or None to delete the key)
CORRUPTIONS = {
    **{f'missing {k}': (k, k, None)
       for k in REQUIRED_KEYS},
    'label = num_classes': ('label', 'label', _const(3)),
    'negative label': ('label', 'label', _const(-1)),
    'float label': ('label', 'label', _const(1.0)),
    'bool label': ('label', 'label', _const(True)),
    'string label': ('label', 'label', _const('1')),
    'total_frames off by one':
    ('total_frames', 'total_frames',
     lambda anno, draw: anno['total_frames'] + 1),
    'float total_frames': ('total_frames', 'total_frames',
                           lambda anno, draw: float(anno['total_frames'])),
    'total_frames None': ('total_frames', 'total_frames', _const(None)),
    'zero frames': ('total_frames', 'keypoint',
                    _of_keypoint(lambda kp: kp[:, :0])),
    'nan coordinate': ('keypoint', 'keypoint', _nan(np.nan)),
    'inf coordinate': ('keypoint', 'keypoint', _nan(-np.inf)),
    'huge coordinate': ('keypoint', 'keypoint', _nan(2e6)),
    'one joint more': ('keypoint', 'keypoint',
                       _of_keypoint(lambda kp: np.concatenate(
                           [kp, kp[:, :, :1]], 2))),
    'one coordinate more': ('keypoint', 'keypoint',
                            _of_keypoint(lambda kp: np.concatenate(
                                [kp, kp[..., :1]], 3))),
    'three persons': ('keypoint', 'keypoint',
                      _of_keypoint(lambda kp: np.concatenate([kp[:1]] * 3))),
    'no person': ('keypoint', 'keypoint', _of_keypoint(lambda kp: kp[:0])),
    'keypoint 3d': ('keypoint', 'keypoint', _of_keypoint(lambda kp: kp[0])),
    'integer keypoint': ('keypoint', 'keypoint',
                         _of_keypoint(lambda kp: kp.astype(np.int32))),
    'keypoint list': ('keypoint', 'keypoint',
                      _of_keypoint(lambda kp: kp.tolist())),
    'empty frame_dir': ('frame_dir', 'frame_dir', _const('')),
    'integer frame_dir': ('frame_dir', 'frame_dir', _const(7)),
    'score of wrong shape': ('keypoint_score', 'keypoint_score',
                             _score(lambda s: np.ones(s[:2], np.float32))),
    'nan score': ('keypoint_score', 'keypoint_score',
                  _score(lambda s: np.full(s, np.nan, np.float32))),
    'integer score': ('keypoint_score', 'keypoint_score',
                      _score(lambda s: np.ones(s, np.int64))),
    'score None': ('keypoint_score', 'keypoint_score', _const(None)),
}
# corruptions that a lone first sample without num_joints / coord_dim
# defines as the reference instead
RELATIVE = {'one joint more', 'one coordinate more'}


@PROPERTY
@given(valid_files(), st.sampled_from(sorted(CORRUPTIONS)), st.booleans(),
       st.data())
def test_property_any_single_corruption_names_the_field(
        tmp_path, file, case, explicit, data):
    files, shape = file
    annos = files['annotations']
    index = data.draw(st.integers(0, len(annos) - 1), label='index')
    field, key, value = CORRUPTIONS[case]
    anno = annos[index]
    name = anno['frame_dir']
    if value is None:
        del anno[key]
    else:
        anno[key] = value(anno, data.draw)
    path = dump(tmp_path, files)
    if case in RELATIVE and not explicit and index == 0:
        # sample 0 sets the reference shape: its score (if any) then
        # disagrees with its own keypoint, or else sample 1 disagrees
        if 'keypoint_score' in anno and case == 'one joint more':
            field = 'keypoint_score'
        elif len(annos) == 1:
            assert len(load_valid(path, shape, explicit)) == 1
            return
        else:
            index, name = 1, annos[1]['frame_dir']
    with pytest.raises(AnnotationError) as info:
        load_valid(path, shape, explicit)
    if key == 'frame_dir':  # the name is the broken field
        name = anno.get('frame_dir')
        name = name if isinstance(name, str) else '?'
    assert str(info.value).startswith(
        f"{path}: sample {index} ('{name}'): field '{field}': expected "), (
            str(info.value))


SPLIT_CORRUPTIONS = {
    'duplicated name': lambda split, draw: split + split[:1],
    'unknown name': lambda split, draw: split + ['clip99'],
    'empty split': lambda split, draw: [],
    'name not a string': lambda split, draw: split[:-1] + [None],
    'split not a list': lambda split, draw: ' '.join(split),
}


@PROPERTY
@given(valid_files(), st.sampled_from(sorted(SPLIT_CORRUPTIONS)))
def test_property_any_split_corruption_names_the_split(
        tmp_path, file, case):
    files, shape = file
    files['split']['train'] = SPLIT_CORRUPTIONS[case](
        files['split']['train'], None)
    path = dump(tmp_path, files)
    with pytest.raises(AnnotationError) as info:
        load_valid(path, shape, True)
    assert str(info.value).startswith(f"{path}: split 'train': ")
