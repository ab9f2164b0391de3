# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Each compat fix: the upstream failure it addresses, and that it works."""
import io
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import mmaction_sugar
from mmaction_sugar import compat


def run_python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (the fixes act at import)."""
    return subprocess.run([sys.executable, '-c', code],
                          capture_output=True, text=True, timeout=300)


def test_all_fixes_applied_on_import():
    assert mmaction_sugar.compat.APPLIED == compat.apply_all()
    for name in ('fix_safe_torch_load', 'fix_cpu_dist_init'):
        assert name in compat.APPLIED


def test_toolbox_models_import_fails_without_the_plugin():
    # Upstream cause of fix 1 (open-mmlab/mmaction2#2714). If a future
    # wheel ships drn again this documents that the fix became a no-op.
    result = run_python('import mmaction.models')
    if result.returncode == 0:
        pytest.skip('this mmaction2 wheel imports cleanly')
    assert 'drn' in result.stderr or 'timm' in result.stderr


def test_toolbox_models_import_with_the_plugin():
    result = run_python(
        'import mmaction_sugar, mmaction.models, sys\n'
        'from mmaction.registry import MODELS\n'
        'from mmaction.utils import dependency\n'
        'print(MODELS.get("STGCN").__name__, dependency.WITH_MULTIMODAL,'
        ' "timm" in sys.modules)')
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['STGCN', 'False', 'False']


def test_drn_placeholder_raises_a_clear_error():
    import mmaction.models.localizers as localizers
    if localizers.DRN is not compat.DRNPlaceholder:
        pytest.skip('the real DRN is installed')
    with pytest.raises(ImportError, match='2714'):
        localizers.DRN()


def _checkpoint_like() -> dict:
    """What an mmengine checkpoint pickles besides tensors."""
    from mmengine.logging import HistoryBuffer
    buffer = HistoryBuffer()
    buffer.update(0.5)
    return dict(
        meta=dict(epoch=3, seed=np.int64(7), acc=np.float64(0.25),
                  hist=np.arange(3, dtype=np.int32)),
        message_hub=dict(log_scalars={'train/loss': buffer}),
        state_dict={'w': torch.ones(2)})


def test_safe_load_accepts_mmengine_checkpoints():
    blob = io.BytesIO()
    torch.save(_checkpoint_like(), blob)
    blob.seek(0)
    loaded = torch.load(blob, weights_only=True)
    assert loaded['meta']['seed'] == 7
    assert loaded['message_hub']['log_scalars']['train/loss'].mean() == 0.5
    np.testing.assert_array_equal(loaded['meta']['hist'], [0, 1, 2])


def test_safe_load_accepts_numpy1_names():
    blob = io.BytesIO()
    torch.save(dict(a=np.arange(4.0), s=np.float64(2.0)), blob,
               _use_new_zipfile_serialization=False)
    old = blob.getvalue().replace(b'numpy._core.multiarray',
                                  b'numpy.core.multiarray')
    assert old != blob.getvalue()
    loaded = torch.load(io.BytesIO(old), weights_only=True)
    np.testing.assert_array_equal(loaded['a'], np.arange(4.0))
    assert loaded['s'] == 2.0


class _Exploit:
    """Pickles to a call of ``os.system`` (what a hostile file carries)."""

    def __reduce__(self):
        return os.system, ('echo pwned',)


def test_safe_load_refuses_code_execution(tmp_path):
    path = tmp_path / 'evil.pth'
    with open(path, 'wb') as f:
        torch.save(dict(state_dict={}, payload=_Exploit()), f)
    with pytest.raises(pickle.UnpicklingError, match='system'):
        torch.load(path, weights_only=True)
    # and mmengine's own loader (which relies on torch's default) refuses it
    from mmengine.runner import load_checkpoint
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(torch.nn.Linear(1, 1), str(path))


def test_numpy2_aliases():
    assert np.Inf == np.inf
    assert np.trapz([0.0, 1.0], [0.0, 1.0]) == pytest.approx(0.5)
    np.testing.assert_array_equal(np.in1d([[1, 2], [3, 4]], [2, 3]),
                                  [False, True, True, False])


def test_pose_compact_runs_on_numpy2():
    # PoseCompact uses np.Inf: the toolbox transform fails without fix 4
    from mmaction.datasets.transforms import PoseCompact
    kp = np.random.default_rng(0).uniform(10, 50, (1, 4, 17, 2))
    results = PoseCompact(hw_ratio=1.0)(
        dict(keypoint=kp.astype(np.float32), img_shape=(64, 64)))
    assert results['keypoint'].shape == (1, 4, 17, 2)


def test_cpu_distributed_init_falls_back_to_gloo():
    if torch.cuda.is_available():
        pytest.skip('this test is about machines without CUDA')
    code = (
        'import os, warnings\n'
        'os.environ.update(RANK="0", LOCAL_RANK="0", WORLD_SIZE="1",\n'
        '                  MASTER_ADDR="127.0.0.1", MASTER_PORT="29531")\n'
        'import mmaction_sugar, torch.distributed as dist\n'
        'from mmengine.dist import init_dist\n'
        'with warnings.catch_warnings(record=True) as w:\n'
        '    warnings.simplefilter("always")\n'
        '    init_dist("pytorch", backend="nccl")\n'
        'print(dist.get_backend(), any("gloo" in str(x.message) for x in w))\n'
        'dist.destroy_process_group()\n')
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['gloo', 'True']


# 7. Checkpoints that survive a kill ----------------------------------------
def test_checkpoint_save_is_atomic(tmp_path, monkeypatch):
    from mmengine.runner import checkpoint as ckpt_module
    path = str(tmp_path / 'epoch_1.pth')
    ckpt_module.save_checkpoint({'w': torch.ones(2)}, path)
    assert compat.is_complete_checkpoint(path)

    def broken_save(obj, f, *args, **kwargs):
        f.write(b'PK\x03\x04 partial')
        raise KeyboardInterrupt  # interrupted mid-write

    monkeypatch.setattr(torch, 'save', broken_save)
    with pytest.raises(KeyboardInterrupt):
        ckpt_module.save_checkpoint({'w': torch.zeros(2)}, path)
    # the complete file is untouched and no temporary file is left
    assert os.listdir(tmp_path) == ['epoch_1.pth']
    monkeypatch.undo()
    loaded = torch.load(path, weights_only=True)
    assert torch.equal(loaded['w'], torch.ones(2))


def test_truncated_checkpoint_is_not_complete(tmp_path):
    path = tmp_path / 'epoch_1.pth'
    torch.save({'w': torch.ones(1000)}, str(path))
    data = path.read_bytes()
    assert compat.is_complete_checkpoint(str(path))
    path.write_bytes(data[:len(data) // 2])
    assert not compat.is_complete_checkpoint(str(path))
    assert not compat.is_complete_checkpoint(str(tmp_path / 'missing.pth'))


@pytest.mark.parametrize('pointer', ['epoch_3.pth', 'epoch_9.pth', None,
                                     'truncated'])
def test_resume_falls_back_to_the_newest_complete_checkpoint(
        tmp_path, pointer):
    from mmengine.runner.runner import find_latest_checkpoint
    for epoch in (1, 2):
        torch.save({'epoch': epoch}, str(tmp_path / f'epoch_{epoch}.pth'))
    (tmp_path / 'epoch_3.pth').write_bytes(b'PK\x03\x04 cut short')
    (tmp_path / '.epoch_3.pth.abc.tmp').write_bytes(b'left by a kill')
    pointer_file = tmp_path / 'last_checkpoint'
    if pointer == 'truncated':
        pointer_file.write_text(str(tmp_path)[:5])
    elif pointer is not None:
        pointer_file.write_text(str(tmp_path / pointer))
    with pytest.warns(UserWarning, match='resuming from .*epoch_2.pth'):
        found = find_latest_checkpoint(str(tmp_path))
    assert found == str(tmp_path / 'epoch_2.pth')
    assert not (tmp_path / '.epoch_3.pth.abc.tmp').exists()


def test_resume_trusts_a_complete_pointer_and_reports_none(tmp_path):
    from mmengine.runner.runner import find_latest_checkpoint
    assert find_latest_checkpoint(str(tmp_path)) is None
    torch.save({}, str(tmp_path / 'epoch_1.pth'))
    torch.save({}, str(tmp_path / 'epoch_2.pth'))
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_1.pth'))
    assert find_latest_checkpoint(str(tmp_path)) == str(tmp_path /
                                                        'epoch_1.pth')
    os.remove(tmp_path / 'epoch_1.pth')
    os.remove(tmp_path / 'epoch_2.pth')
    with pytest.warns(UserWarning, match='starts from scratch'):
        assert find_latest_checkpoint(str(tmp_path)) is None


def test_old_checkpoint_deleted_only_after_the_new_one_is_written(tmp_path):
    from collections import deque

    from mmengine.fileio import get_file_backend
    from mmengine.hooks import CheckpointHook

    old = tmp_path / 'epoch_1.pth'
    torch.save({}, str(old))
    seen = []

    class Runner:
        work_dir = str(tmp_path)

        class message_hub:
            update_info = staticmethod(lambda *args: None)

        def save_checkpoint(self, out_dir, filename, *args, **kwargs):
            seen.append(old.exists())  # the old one is still there
            torch.save({}, str(tmp_path / filename))

    hook = CheckpointHook(interval=1, max_keep_ckpts=1)
    hook.out_dir = str(tmp_path)
    hook.file_backend = get_file_backend(str(tmp_path))
    hook.keep_ckpt_ids = deque([1], maxlen=1)
    hook._save_checkpoint_with_step(Runner(), 2, meta={})
    assert seen == [True]
    assert sorted(os.listdir(tmp_path)) == ['epoch_2.pth', 'last_checkpoint']
    # the backend's own methods are back
    assert 'remove' not in vars(hook.file_backend)


# 8. FSDP ---------------------------------------------------------------------
def test_flexible_runner_keeps_the_callers_checkpoint_epoch():
    from types import SimpleNamespace

    # compat fix 8: a best checkpoint saved after validation of epoch 3
    # records epoch 3 (the Runner's behaviour), not epoch 4
    from mmengine.runner import FlexibleRunner
    saved = {}

    def save_checkpoint(filename, extra_ckpt=None, **kwargs):
        saved.update(extra_ckpt['meta'])

    runner = SimpleNamespace(
        epoch=3, iter=30, cfg=SimpleNamespace(pretty_text=''),
        experiment_name='x', train_dataloader=SimpleNamespace(dataset=None),
        message_hub=SimpleNamespace(state_dict=dict),
        strategy=SimpleNamespace(save_checkpoint=save_checkpoint),
        call_hook=lambda *args, **kwargs: None)
    FlexibleRunner.save_checkpoint(runner, '/tmp', 'best.pth',
                                   meta=dict(epoch=3, iter=30))
    assert (saved['epoch'], saved['iter']) == (3, 30)
    FlexibleRunner.save_checkpoint(runner, '/tmp', 'epoch_4.pth')
    assert (saved['epoch'], saved['iter']) == (4, 30)
