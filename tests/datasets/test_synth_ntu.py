# Copyright (c) mmaction-sugar contributors. All rights reserved.
import os
import os.path as osp
import pickle
import re
import subprocess
import sys

import numpy as np
import pytest

from mmaction_sugar.datasets.synthetic import (SYNTH_NTU_CLASSES,
                                               SYNTH_NTU_NTU120_INDEX,
                                               SYNTH_NTU_TWO_PERSON_LABELS,
                                               generate_clip,
                                               generate_performance,
                                               generate_synth_ntu,
                                               subject_profile,
                                               write_synth_ntu)
from mmaction_sugar.datasets.synthetic.skeleton_model import (BONES,
                                                              bone_lengths_of)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LABEL = {name: i for i, name in enumerate(SYNTH_NTU_CLASSES)}
FEET = [15, 19]


@pytest.fixture(scope='module')
def tiny():
    return generate_synth_ntu('tiny', seed=0)


@pytest.fixture(scope='module')
def tiny_clean():
    return generate_synth_ntu('tiny', seed=0, noise=False)


def by_name(data):
    return {anno['frame_dir']: anno for anno in data['annotations']}


def test_class_list():
    assert len(SYNTH_NTU_CLASSES) == 32
    assert len(set(SYNTH_NTU_CLASSES)) == 32
    assert SYNTH_NTU_CLASSES[0] == 'drink water'
    assert SYNTH_NTU_CLASSES[19] == 'punching/slapping other person'
    assert SYNTH_NTU_CLASSES[31] == 'side kick'
    assert SYNTH_NTU_NTU120_INDEX == [
        1, 6, 7, 8, 9, 10, 22, 23, 24, 26, 27, 31, 34, 35, 38, 40, 42, 43, 44,
        50, 52, 55, 58, 59, 60, 80, 95, 96, 97, 98, 99, 102
    ]
    assert SYNTH_NTU_TWO_PERSON_LABELS == (19, 20, 21, 22, 23, 24)


def test_annotation_format(tiny):
    annos = tiny['annotations']
    assert len(annos) == 4 * 2 * 1 * 32
    for anno in annos:
        kp = anno['keypoint']
        num_persons = 2 if anno['label'] in SYNTH_NTU_TWO_PERSON_LABELS else 1
        assert kp.dtype == np.float32
        assert kp.shape == (num_persons, anno['total_frames'], 25, 3)
        assert 40 <= anno['total_frames'] <= 100
        assert np.isfinite(kp).all()
        assert 'keypoint_score' not in anno
        assert isinstance(anno['label'], int)
        action = SYNTH_NTU_NTU120_INDEX[anno['label']]
        assert anno['frame_dir'] == (
            f"S001C{anno['camera']:03d}P{anno['subject']:03d}"
            f"R{anno['rep']:03d}A{action:03d}")
        assert re.fullmatch(r'S\d{3}C\d{3}P\d{3}R\d{3}A\d{3}',
                            anno['frame_dir'])
        # camera coordinates: the subject is 2-4.5 m in front of the camera
        depth = np.median(kp[0, :, 0, 2])
        assert 1.5 < depth < 5.0


def test_class_balance(tiny):
    counts = np.bincount([a['label'] for a in tiny['annotations']],
                         minlength=32)
    assert (counts == counts[0]).all()


def test_splits(tiny):
    names = by_name(tiny)
    split = tiny['split']
    assert set(split) == {'xsub_train', 'xsub_val', 'xview_train', 'xview_val'}
    for kind in ('xsub', 'xview'):
        train, val = split[kind + '_train'], split[kind + '_val']
        assert train and val
        assert not set(train) & set(val)
        assert sorted(train + val) == sorted(names)
    subjects = {
        k: {names[n]['subject']
            for n in split[f'xsub_{k}']}
        for k in ('train', 'val')
    }
    assert subjects == {'train': {1, 2}, 'val': {3, 4}}
    assert {names[n]['camera'] for n in split['xview_train']} == {2}
    assert {names[n]['camera'] for n in split['xview_val']} == {1}
    # every class is in every split
    for key, frame_dirs in split.items():
        labels = {names[n]['label'] for n in frame_dirs}
        assert len(labels) == 32, key


def test_determinism():
    clip = generate_clip(LABEL['throw'], 2, 1, 1, seed=3)
    again = generate_clip(LABEL['throw'], 2, 1, 1, seed=3)
    other = generate_clip(LABEL['throw'], 2, 1, 1, seed=4)
    assert np.array_equal(clip['keypoint'], again['keypoint'])
    assert not (clip['keypoint'].shape == other['keypoint'].shape
                and np.allclose(clip['keypoint'], other['keypoint']))
    pair = generate_clip(LABEL['handshaking'], 1, 3, 2, seed=3)
    assert np.array_equal(
        pair['keypoint'],
        generate_clip(LABEL['handshaking'], 1, 3, 2, seed=3)['keypoint'])


def test_clip_independent_of_dataset_size(tiny):
    bigger = by_name(
        generate_synth_ntu('tiny', seed=0, num_subjects=5, num_cameras=3))
    small = by_name(tiny)
    assert set(small) < set(bigger)
    for name, anno in small.items():
        assert np.array_equal(anno['keypoint'], bigger[name]['keypoint'])


def test_same_performance_for_all_cameras(tiny_clean):
    names = by_name(tiny_clean)
    cam1 = names['S001C001P001R001A010']['keypoint']
    cam2 = names['S001C002P001R001A010']['keypoint']
    assert cam1.shape == cam2.shape
    assert not np.allclose(cam1, cam2)
    # rigid views of one motion: the bone lengths agree
    assert np.allclose(bone_lengths_of(cam1), bone_lengths_of(cam2), atol=1e-4)


def test_bone_lengths_constant_without_noise(tiny_clean):
    for subject in (1, 3):
        body, _ = subject_profile(subject, seed=0)
        expected = body.bone_lengths()[[c for c, _ in BONES]]
        for anno in tiny_clean['annotations']:
            if anno['subject'] != subject:
                continue
            actor = anno['keypoint'][0].astype(np.float64)
            if anno['label'] in SYNTH_NTU_TWO_PERSON_LABELS:
                # the actor is either body; pick the one with these bones
                lengths = [
                    bone_lengths_of(k.astype(np.float64))
                    for k in anno['keypoint']
                ]
                actor_lengths = min(
                    lengths, key=lambda x: np.abs(x - expected).max())
            else:
                actor_lengths = bone_lengths_of(actor)
            np.testing.assert_allclose(
                actor_lengths,
                np.broadcast_to(expected, actor_lengths.shape),
                atol=2e-4)


def test_bone_lengths_roughly_constant_with_noise(tiny):
    long_bones = [
        i for i, (c, _) in enumerate(BONES)
        if c in (5, 6, 9, 10, 13, 14, 17, 18, 1, 20)
    ]
    errors = []
    for anno in tiny['annotations'][:64]:
        lengths = bone_lengths_of(anno['keypoint'][0])[:, long_bones]
        median = np.median(lengths, axis=0)
        rel = np.abs(lengths - median) / median
        assert np.median(rel) < 0.06
        errors.append(rel.ravel())
    errors = np.concatenate(errors)
    assert np.percentile(errors, 90) < 0.15
    assert np.percentile(errors, 10) > 1e-4  # there is noise


def test_bodies_differ_between_subjects():
    lengths = [subject_profile(s)[0].bone_lengths() for s in (1, 2, 3)]
    assert not np.allclose(lengths[0], lengths[1])
    heights = [subject_profile(s)[0].root_height for s in range(1, 9)]
    assert max(heights) - min(heights) > 0.03


def feet_above_floor(joints):
    """Height of the lowest foot above the lowest joint, (T, )."""
    return joints[:, FEET, 1].min(axis=1) - joints[..., 1].min(axis=1)


@pytest.mark.parametrize('name', [
    'clapping', 'hand waving', 'salute', 'cross arms', 'drink water',
    'arm circles'
])
def test_feet_on_floor_while_standing(name):
    for subject in (1, 2):
        actor = generate_performance(LABEL[name], subject, 1)[0].world()
        # world frame: the floor is y = 0 and the feet stay on it
        assert np.abs(actor[:, FEET, 1].min(axis=1)).max() < 0.02
        assert actor[..., 1].min() > -0.03
        assert feet_above_floor(actor).max() < 0.02
        # and the person is upright
        assert (actor[:, 3, 1] > 1.3).all()


def test_feet_leave_the_floor_when_jumping():
    for name in ('jump up', 'hopping (one foot jumping)'):
        for subject in (1, 2):
            actor = generate_performance(LABEL[name], subject, 1)[0].world()
            lowest_foot = actor[:, FEET, 1].min(axis=1)
            assert lowest_foot[:3].max() < 0.02  # standing before
            assert lowest_foot.max() > 0.03  # then in the air
    clip = generate_clip(LABEL['jump up'], 1, 2, 1, noise=False)
    feet_y = clip['keypoint'][0][:, FEET, 1].min(axis=1)
    assert feet_y.max() - feet_y[:3].mean() > 0.03


def test_sitting_and_falling_lower_the_body():
    for name, below in (('sitting down', 0.75), ('squat down', 0.75),
                        ('falling', 0.7)):
        actor = generate_performance(LABEL[name], 1, 1)[0].world()
        assert actor[0, 0, 1] > 0.8  # pelvis height when standing
        assert actor[-1, 0, 1] < below


def test_two_person_coupling():

    def pelvis_distance(perf):
        a, b = perf[0].world(), perf[1].world()
        return np.linalg.norm(a[:, 0, [0, 2]] - b[:, 0, [0, 2]], axis=1)

    for subject in (1, 2, 3):
        towards = pelvis_distance(
            generate_performance(LABEL['walking towards each other'], subject,
                                 1))
        apart = pelvis_distance(
            generate_performance(LABEL['walking apart from each other'],
                                 subject, 1))
        assert towards[-1] < towards[0] - 0.5
        assert apart[-1] > apart[0] + 0.5
        assert 0.6 < towards[-1] < 1.6 and 0.6 < apart[0] < 1.4
        shake = generate_performance(LABEL['handshaking'], subject, 1)
        hands = np.linalg.norm(
            shake[0].world()[:, 11] - shake[1].world()[:, 11], axis=1)
        assert hands.min() < 0.06  # the right hands meet


def test_write_files(tmp_path):
    path = write_synth_ntu(
        str(tmp_path), size='tiny', num_subjects=2, num_cameras=1)
    assert path == osp.join(str(tmp_path), 'synth_ntu_3d.pkl')
    with open(path, 'rb') as f:
        data = pickle.load(f)
    assert len(data['annotations']) == 2 * 32
    assert data['split']['xview_train'] == []  # camera 1 only
    with open(osp.join(str(tmp_path), 'synth_ntu_classes.txt')) as f:
        assert f.read().splitlines() == SYNTH_NTU_CLASSES


def test_cli(tmp_path):
    out_dir = str(tmp_path / 'synth')
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)
    result = subprocess.run([
        sys.executable, 'tools/data/generate_synth_ntu.py', '--out-dir',
        out_dir, '--size', 'tiny', '--num-subjects', '2'
    ],
                            cwd=REPO_ROOT,
                            env=env,
                            capture_output=True,
                            text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert 'performances' in result.stdout
    with open(osp.join(out_dir, 'synth_ntu_3d.pkl'), 'rb') as f:
        data = pickle.load(f)
    assert len(data['annotations']) == 2 * 2 * 32
    assert osp.isfile(osp.join(out_dir, 'synth_ntu_classes.txt'))


def test_unknown_size():
    with pytest.raises(ValueError):
        generate_synth_ntu('huge')


def test_synthetic_package_is_pure_numpy():
    folder = osp.join(REPO_ROOT, 'mmaction_sugar', 'datasets', 'synthetic')
    for name in os.listdir(folder):
        if name.endswith('.py'):
            with open(osp.join(folder, name)) as f:
                source = f.read()
            assert not re.search(
                r'^\s*(import|from)\s+(torch|mmengine|mmcv|'
                r'mmaction)\b', source, re.M), name
