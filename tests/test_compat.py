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
