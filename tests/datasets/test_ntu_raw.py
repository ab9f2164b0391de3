# Copyright (c) mmaction-sugar contributors. All rights reserved.
import importlib.util
import os.path as osp
import pickle
import subprocess
import sys

import numpy as np
import pytest

from mmaction_sugar.datasets.ntu_raw import (NTU60_XSUB_TRAIN_SUBJECTS,
                                             NTU120_XSET_TRAIN_SETUPS,
                                             NTU120_XSUB_TRAIN_SUBJECTS,
                                             NTUSkeletonError, convert_ntu_raw,
                                             parse_ntu_name, read_ntu_skeleton)

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLI = osp.join(REPO_ROOT, 'tools', 'data', 'ntu_raw_to_pkl.py')
NAME = 'S001C001P001R001A001'

# Lines per body: body info, joint count, 25 joints.
BODY_LINES = 27


def format_skeleton(frames):
    """Format bodies into the raw NTU ``.skeleton`` text layout.

    Args:
        frames (list[list[np.ndarray]]): Per frame, the ``x, y, z`` of each
            body, shape (25, 3).

    Returns:
        str: The file content.
    """
    lines = [str(len(frames))]
    for bodies in frames:
        lines.append(str(len(bodies)))
        for b, xyz in enumerate(bodies):
            lines.append(f'7205759403793{b:04d} 0 1 1 1 1 0 0.1 -0.2 2')
            lines.append(str(len(xyz)))
            for x, y, z in xyz:
                lines.append(f'{x:.6f} {y:.6f} {z:.6f} 0.5 0.4 960.5 540.2 '
                             '0.1 0.2 0.3 0.9 2')
    return '\n'.join(lines) + '\n'


def write_skeleton(folder, name, frames):
    path = osp.join(folder, f'{name}.skeleton')
    with open(path, 'w') as f:
        f.write(format_skeleton(frames))
    return path


def random_body(rng, num_frames, scale=1.0):
    """Random rounded coordinates of one body, shape (T, 25, 3)."""
    return np.round(rng.normal(0, scale, (num_frames, 25, 3)), 6)


def test_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    a = random_body(rng, 4)
    b = random_body(rng, 4, scale=0.5)
    path = write_skeleton(tmp_path, NAME, [[a[t], b[t]] for t in range(4)])
    keypoint = read_ntu_skeleton(path)
    assert keypoint.dtype == np.float32
    assert keypoint.shape == (2, 4, 25, 3)
    # The more active body comes first.
    np.testing.assert_array_equal(keypoint[0], a.astype(np.float32))
    np.testing.assert_array_equal(keypoint[1], b.astype(np.float32))


def test_single_body(tmp_path):
    a = random_body(np.random.default_rng(1), 3)
    path = write_skeleton(tmp_path, NAME, [[a[t]] for t in range(3)])
    keypoint = read_ntu_skeleton(path)
    assert keypoint.shape == (1, 3, 25, 3)
    np.testing.assert_array_equal(keypoint[0], a.astype(np.float32))


def test_keeps_most_active_bodies(tmp_path):
    rng = np.random.default_rng(2)
    pose = rng.normal(0, 0.3, (1, 25, 3))
    # Same pose, moved around by different amounts over 5 frames.
    still = np.round(np.repeat(pose, 5, axis=0), 6)
    calm = np.round(pose + rng.normal(0, 0.05, (5, 1, 3)), 6)
    active = np.round(pose + rng.normal(0, 1.0, (5, 1, 3)), 6)
    frames = [[calm[t], still[t], active[t]] for t in range(5)]
    path = write_skeleton(tmp_path, NAME, frames)
    keypoint = read_ntu_skeleton(path)
    assert keypoint.shape == (2, 5, 25, 3)
    np.testing.assert_array_equal(keypoint[0], active.astype(np.float32))
    np.testing.assert_array_equal(keypoint[1], calm.astype(np.float32))
    keypoint = read_ntu_skeleton(path, max_persons=3)
    assert keypoint.shape == (3, 5, 25, 3)
    keypoint = read_ntu_skeleton(path, max_persons=1)
    np.testing.assert_array_equal(keypoint[0], active.astype(np.float32))


def test_absent_frames_are_zeros(tmp_path):
    rng = np.random.default_rng(3)
    a = random_body(rng, 4)
    b = random_body(rng, 4)
    # Frame 1 has no body, frame 3 only one.
    frames = [[], [a[1], b[1]], [a[2]], [a[3], b[3]]]
    path = write_skeleton(tmp_path, NAME, frames)
    keypoint = read_ntu_skeleton(path)
    assert keypoint.shape == (2, 4, 25, 3)
    assert not keypoint[:, 0].any()
    by_first_value = {float(k[1, 0, 0]): k for k in keypoint}
    ka = by_first_value[np.float32(a[1, 0, 0])]
    kb = by_first_value[np.float32(b[1, 0, 0])]
    np.testing.assert_array_equal(ka[1:], a[1:].astype(np.float32))
    assert not kb[2].any()
    np.testing.assert_array_equal(kb[[1, 3]], b[[1, 3]].astype(np.float32))


def test_parse_ntu_name():
    expected = dict(
        setup=17, camera=2, performer=38, replication=1, action=120)
    assert parse_ntu_name('S017C002P038R001A120') == expected
    assert parse_ntu_name('/x/S017C002P038R001A120.skeleton') == expected
    for bad in [
            'S17C002P038R001A120', 'S017C002P038R001A120x',
            'C002S017P038R001A120', 'foo.skeleton', ''
    ]:
        with pytest.raises(ValueError, match='SsssCcccPpppRrrrAaaa'):
            parse_ntu_name(bad)


def valid_lines():
    """Lines of a valid file: 2 frames with one body, frame 3 with two."""
    rng = np.random.default_rng(4)
    frames = [[random_body(rng, 1)[0]] for _ in range(2)]
    frames.append([random_body(rng, 1)[0], random_body(rng, 1)[0]])
    return format_skeleton(frames).splitlines()


# Line numbers (1-based) in valid_lines(): frame t (1-based) starts at
# 2 + (t - 1) * 28 with its body count; body 1's info follows, then the
# joint count, then joint j at frame_start + 2 + j.
FRAME2 = 2 + 28
JOINT3_OF_FRAME2 = FRAME2 + 2 + 3


def truncate(n):
    return lambda lines: lines[:n]


def replace_line(lineno, text):

    def mutate(lines):
        lines[lineno - 1] = text
        return lines

    return mutate


def replace_value(lineno, index, text):

    def mutate(lines):
        tokens = lines[lineno - 1].split()
        tokens[index] = text
        lines[lineno - 1] = ' '.join(tokens)
        return lines

    return mutate


# yapf: disable
MALFORMED = {
    'truncated mid-joint': (
        truncate(JOINT3_OF_FRAME2 - 1), JOINT3_OF_FRAME2,
        'expected 12 joint values for joint 3 of body 1 in frame 2, '
        'got end of file'),
    'truncated mid-frame': (
        truncate(FRAME2), FRAME2 + 1,
        'expected 10 body-info values for body 1 in frame 2, '
        'got end of file'),
    'missing frames': (
        truncate(FRAME2 - 1), FRAME2,
        'expected the number of bodies in frame 2, got end of file'),
    'extra frame': (
        lambda lines: lines + ['0'], 2 + 3 * 28 + 27,
        'expected end of file after the 3 frames declared on line 1'),
    'wrong joint count': (
        replace_line(FRAME2 + 2, '24'), FRAME2 + 2,
        'expected 25 joints for body 1 in frame 2, got 24'),
    'short joint line': (
        replace_line(JOINT3_OF_FRAME2, '0.1 0.2 0.3'), JOINT3_OF_FRAME2,
        'expected 12 joint values for joint 3 of body 1 in frame 2, '
        'got 3 values'),
    'non-numeric joint value': (
        replace_value(JOINT3_OF_FRAME2, 1, 'abc'), JOINT3_OF_FRAME2,
        "joint 3 of body 1 in frame 2, got 'abc'"),
    'non-numeric body count': (
        replace_line(FRAME2, 'two'), FRAME2,
        "expected the number of bodies in frame 2 (an integer), "
        "got 'two'"),
    'non-numeric body info': (
        replace_value(FRAME2 + 1, 7, 'x'), FRAME2 + 1,
        "body-info values for body 1 in frame 2, got non-numeric"),
    'nan coordinate': (
        replace_value(JOINT3_OF_FRAME2, 2, 'nan'), JOINT3_OF_FRAME2,
        'expected finite coordinates for joint 3 of body 1 in frame 2, '
        'got z=nan'),
    'inf coordinate': (
        replace_value(JOINT3_OF_FRAME2, 0, '-inf'), JOINT3_OF_FRAME2,
        'got x=-inf'),
    'blank line': (
        replace_line(FRAME2, ''), FRAME2,
        'the number of bodies in frame 2 (one integer), got an empty line'),
    'zero frames': (
        lambda lines: ['0'], 1, 'expected at least one frame, got 0'),
    'empty file': (
        lambda lines: [], 1,
        'expected the number of frames, got end of file'),
    'binary junk': (
        lambda lines: ['\x00' * 10], 1,
        "expected the number of frames (an integer), got '\\x00\\x00"),
}
# yapf: enable


@pytest.mark.parametrize('case', sorted(MALFORMED))
def test_malformed(tmp_path, case):
    mutate, lineno, message = MALFORMED[case]
    path = tmp_path / f'{NAME}.skeleton'
    lines = mutate(valid_lines())
    path.write_text(''.join(line + '\n' for line in lines))
    with pytest.raises(NTUSkeletonError) as info:
        read_ntu_skeleton(str(path))
    text = str(info.value)
    assert f'{NAME}.skeleton: line {lineno}: ' in text
    assert message in text
    assert info.value.lineno == lineno


def test_no_body_in_any_frame(tmp_path):
    path = tmp_path / f'{NAME}.skeleton'
    path.write_text('3\n0\n0\n0\n')
    with pytest.raises(NTUSkeletonError, match='no body in any of the 3'):
        read_ntu_skeleton(str(path))


def test_trailing_blank_lines_and_crlf(tmp_path):
    path = tmp_path / f'{NAME}.skeleton'
    path.write_text('\r\n'.join(valid_lines()) + '\r\n\r\n\n', newline='')
    assert read_ntu_skeleton(str(path)).shape == (2, 3, 25, 3)


def test_error_is_picklable():
    err = NTUSkeletonError('a.skeleton', 'expected x, got y', 3)
    copy = pickle.loads(pickle.dumps(err))
    assert str(copy) == str(err) == 'a.skeleton: line 3: expected x, got y'
    assert isinstance(copy, ValueError)


# name -> number of frames
SAMPLES = {
    'S001C001P001R001A001': 3,  # xsub train, xview val, xset val
    'S001C002P003R002A010': 4,  # xsub val, xview train
    'S002C003P002R001A060': 2,  # xsub train, xview train, xset train
    'S017C001P038R001A005': 5,  # xsub train (NTU60 only)
    'S005C003P007R001A061': 2,  # NTU120 only (action 61)
    'S018C002P045R001A100': 3,  # NTU120 only (setup 18)
    'S020C001P070R001A120': 2,  # NTU120 only, xsub train, xset train
}
MISSING = 'S003C002P010R001A007'


@pytest.fixture
def raw_dir(tmp_path):
    folder = tmp_path / 'raw'
    folder.mkdir()
    rng = np.random.default_rng(5)
    for name, num_frames in SAMPLES.items():
        body = random_body(rng, num_frames)
        write_skeleton(folder, name, [[body[t]] for t in range(num_frames)])
    # The listed sample has no skeleton at all, as in NTU's list.
    write_skeleton(folder, MISSING, [[], []])
    (folder / 'README.txt').write_text('not a skeleton')
    missing = tmp_path / 'missing.txt'
    missing.write_text('Samples with missing skeletons:\n\n'
                       f'{MISSING}\nS009C009P009R009A009.skeleton\n')
    return folder, missing


def expected_split(names, field, train_ids):
    train = [n for n in names if parse_ntu_name(n)[field] in train_ids]
    val = [n for n in names if n not in train]
    return train, val


def check_result(result, names, protocols):
    annos = result['annotations']
    assert [a['frame_dir'] for a in annos] == names
    for anno in annos:
        fields = parse_ntu_name(anno['frame_dir'])
        assert anno['label'] == fields['action'] - 1
        assert anno['total_frames'] == SAMPLES[anno['frame_dir']]
        assert anno['keypoint'].shape == (1, anno['total_frames'], 25, 3)
        assert anno['keypoint'].dtype == np.float32
    keys = []
    for protocol, field, train_ids in protocols:
        train, val = expected_split(names, field, train_ids)
        assert result['split'][f'{protocol}_train'] == train
        assert result['split'][f'{protocol}_val'] == val
        keys += [f'{protocol}_train', f'{protocol}_val']
    assert list(result['split']) == keys


def test_convert_ntu60(raw_dir):
    folder, missing = raw_dir
    result = convert_ntu_raw(
        str(folder), 'ntu60', missing_list=str(missing), progress=False)
    names = [
        'S001C001P001R001A001', 'S001C002P003R002A010', 'S002C003P002R001A060',
        'S017C001P038R001A005'
    ]
    check_result(result, names, [
        ('xsub', 'performer', NTU60_XSUB_TRAIN_SUBJECTS),
        ('xview', 'camera', (2, 3)),
    ])
    assert result['split']['xsub_train'] == [
        'S001C001P001R001A001', 'S002C003P002R001A060', 'S017C001P038R001A005'
    ]
    assert result['split']['xview_train'] == [
        'S001C002P003R002A010', 'S002C003P002R001A060'
    ]


def test_convert_ntu120(raw_dir):
    folder, missing = raw_dir
    result = convert_ntu_raw(
        folder, 'ntu120', missing_list=[MISSING], progress=False)
    names = sorted(SAMPLES)
    check_result(result, names, [
        ('xsub', 'performer', NTU120_XSUB_TRAIN_SUBJECTS),
        ('xset', 'setup', NTU120_XSET_TRAIN_SETUPS),
    ])
    assert 'S018C002P045R001A100' in result['split']['xsub_train']
    assert result['split']['xset_train'] == [
        'S002C003P002R001A060', 'S018C002P045R001A100', 'S020C001P070R001A120'
    ]
    labels = {a['frame_dir']: a['label'] for a in result['annotations']}
    assert labels['S020C001P070R001A120'] == 119


def test_convert_errors(raw_dir, tmp_path):
    folder, missing = raw_dir
    with pytest.raises(ValueError, match='benchmark'):
        convert_ntu_raw(str(folder), 'ntu90')
    with pytest.raises(FileNotFoundError):
        convert_ntu_raw(str(tmp_path / 'nope'))
    # Without the missing list, the empty sample is an error.
    with pytest.raises(NTUSkeletonError, match=MISSING):
        convert_ntu_raw(str(folder), progress=False)
    (folder / 'S001C001P001R001A999.skeleton').write_text('1\n0\n')
    with pytest.raises(ValueError, match='action 1-120'):
        convert_ntu_raw(str(folder), 'ntu120', missing_list=str(missing))
    (folder / 'bad_name.skeleton').write_text('1\n0\n')
    with pytest.raises(ValueError, match='bad_name.skeleton'):
        convert_ntu_raw(str(folder), progress=False)
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(ValueError, match='no ntu60 .skeleton files'):
        convert_ntu_raw(str(empty))


def test_cli(raw_dir, tmp_path):
    folder, missing = raw_dir
    out = tmp_path / 'out' / 'ntu120_3d.pkl'
    cmd = [
        sys.executable, CLI,
        str(folder),
        str(out), '--benchmark', 'ntu120', '--missing-list',
        str(missing)
    ]
    # Run from elsewhere: the script must find the package by itself.
    proc = subprocess.run(
        cmd, cwd=str(tmp_path), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert 'wrote 7 samples' in proc.stdout
    with open(out, 'rb') as f:
        data = pickle.load(f)
    expected = convert_ntu_raw(
        str(folder), 'ntu120', missing_list=str(missing), progress=False)
    assert data['split'] == expected['split']
    for got, want in zip(data['annotations'], expected['annotations']):
        np.testing.assert_array_equal(
            got.pop('keypoint'), want.pop('keypoint'))
        assert got == want


def load_cli():
    """Import the CLI script as a module (faster than a subprocess)."""
    spec = importlib.util.spec_from_file_location('ntu_raw_to_pkl', CLI)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_error(raw_dir, tmp_path, capsys):
    folder, _ = raw_dir
    out = tmp_path / 'out.pkl'
    with pytest.raises(SystemExit) as info:
        load_cli().main([str(folder), str(out), '--no-progress'])
    assert str(info.value).startswith('error: ')
    assert f'{MISSING}.skeleton: no body in any' in str(info.value)
    assert not out.exists()
    with pytest.raises(SystemExit):
        load_cli().main([str(folder), str(out), '--max-persons', '0'])
    assert '--max-persons must be >= 1' in capsys.readouterr().err


def test_truncation_anywhere_is_reported(tmp_path):
    """Cut a valid file at the start, the middle and the end of every line:
    each cut that loses data fails with the file and a line number; none
    crashes or loads silently."""
    rng = np.random.default_rng(5)
    text = format_skeleton([[random_body(rng, 1)[0]]]).encode()
    path = tmp_path / f'{NAME}.skeleton'
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == ord('\n')]
    cuts = {
        cut
        for start, end in zip(starts, starts[1:])
        for cut in (start, (start + end) // 2, end - 2)
    }
    for cut in sorted(cuts):  # each loses at least the last value
        path.write_bytes(text[:cut])
        with pytest.raises(NTUSkeletonError) as info:
            read_ntu_skeleton(str(path))
        assert str(info.value).startswith(f'{path}: line ')
    path.write_bytes(text[:-1])  # only the final newline lost: intact
    assert read_ntu_skeleton(str(path)).shape == (1, 1, 25, 3)


def test_truncated_mid_line(tmp_path):
    lines = valid_lines()
    cut = lines[:JOINT3_OF_FRAME2]
    cut[-1] = cut[-1][:20]  # the file ends inside joint 3's line
    path = tmp_path / f'{NAME}.skeleton'
    path.write_text('\n'.join(cut))
    with pytest.raises(NTUSkeletonError) as info:
        read_ntu_skeleton(str(path))
    assert str(info.value).startswith(
        f'{path}: line {JOINT3_OF_FRAME2}: expected 12 joint values for '
        'joint 3 of body 1 in frame 2, got 3 values')


def test_cli_writes_the_pickle_free_format(raw_dir, tmp_path):
    from mmaction_sugar.datasets import load_annotations_npz
    folder, missing = raw_dir
    out = tmp_path / 'ntu120_3d.npz'
    load_cli().main([str(folder), str(out), '--benchmark', 'ntu120',
                     '--missing-list', str(missing), '--no-progress'])
    data = load_annotations_npz(str(out))
    expected = convert_ntu_raw(
        str(folder), 'ntu120', missing_list=str(missing), progress=False)
    assert data['split'] == expected['split']
    for got, want in zip(data['annotations'], expected['annotations']):
        np.testing.assert_array_equal(got['keypoint'], want['keypoint'])
        assert got['label'] == want['label']
        assert got['frame_dir'] == want['frame_dir']
