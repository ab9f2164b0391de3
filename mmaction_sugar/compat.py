# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Narrow fixes for the toolbox stack on current Python packages.

The pinned stack (torch 2.13, mmengine 0.10.7, mmcv-lite 2.1.0,
mmaction2 1.2.0, numpy 2.x) does not work out of the box. Each fix below is
applied once, when :mod:`mmaction_sugar` is imported, which mmengine does
through the configs' ``custom_imports`` *before* ``mmaction.models`` is
imported (so the toolbox's own ``tools/train.py`` benefits too). Every fix
names its upstream cause, changes only what that cause breaks, and is a
no-op where the installed packages already behave.

1. ``mmaction/models/localizers/drn`` is missing from the mmaction2 1.2.0
   wheel (open-mmlab/mmaction2#2714), so ``import mmaction.models`` raises
   ``ModuleNotFoundError``. A placeholder module that provides ``DRN`` (and
   raises a clear error if someone builds it) is put in ``sys.modules``.
2. With ``transformers`` installed, ``mmaction.utils.dependency.
   WITH_MULTIMODAL`` is True and ``mmaction.models`` imports VindLU, which
   needs ``timm`` and ``torchvision`` (no CPU wheels in this setup). The flag
   is cleared only when those two packages are not importable, so the
   toolbox registers its usual "please install" placeholders instead.
3. torch >= 2.6 loads with ``weights_only=True``, which rejects mmengine
   checkpoints (message hub ``HistoryBuffer`` and numpy scalars/arrays).
   The exact globals they need are added to torch's safe-globals
   allow-list; nothing else is allowed and ``weights_only=False`` is never
   used. Checkpoints written under numpy 1.x pickle ``numpy.core.*`` names,
   which are allowed under those names too. mmengine's local checkpoint
   loader (``load_from``, ``--resume``, ``tools/test.py``) relies on
   torch's default, which an environment variable can turn off; it is
   re-registered to load through
   :func:`mmaction_sugar.utils.safe_torch_load` (``weights_only=True``
   explicitly, and a clear refusal naming the file and the global).
4. numpy 2 removed ``np.Inf``, ``np.trapz`` and ``np.in1d``, still used by
   mmaction's ``PoseCompact``/``MMCompact`` and its evaluation helpers;
   they are restored as aliases of their numpy 2 spellings.
5. mmengine's ``_init_dist_pytorch`` calls ``torch.cuda.set_device``
   unconditionally, so ``--launcher pytorch`` fails on a CPU build. On a
   machine without CUDA the call is skipped and the CUDA-only ``nccl``
   backend falls back to ``gloo`` (with a warning). The Runner's
   ``device_ids=[LOCAL_RANK]`` is handled in the configs
   (``model_wrapper_cfg`` with ``device_ids=None``, which also suits GPUs).

6. mmaction's ``BaseHead.loss_by_feat`` passes the scores to numpy for its
   top-k accuracy; under bfloat16 autocast (``CPUAmpOptimWrapper``) they
   are bfloat16, which numpy cannot hold. The scores are cast to float32
   first, and only when they are bfloat16 or float16.

7. mmengine writes checkpoints in place (``LocalBackend.put`` opens the
   final path), deletes the oldest kept checkpoint *before* writing the
   new one, and ``--resume`` trusts the ``last_checkpoint`` pointer. A job
   killed at the wrong moment leaves a half-written ``epoch_N.pth`` that
   resume then fails to load, or (with ``max_keep_ckpts=1``) no
   checkpoint at all. Local checkpoints are now written to a temporary
   file in the same folder, flushed to disk and renamed into place; old
   checkpoints are deleted only after the new one is complete; and a
   ``last_checkpoint`` pointer that is missing, truncated or names a file
   that is not a complete checkpoint falls back to the newest complete
   ``epoch_*.pth``/``iter_*.pth`` in the work dir, with a warning.

8. FSDP through mmengine's ``FlexibleRunner`` and ``FSDPStrategy``
   (``configs/_base_/fsdp.py``): the strategy passes
   ``device_id=LOCAL_RANK``, which on a CPU build asks for a CUDA device;
   without CUDA the shards are placed on the CPU (``device_id='cpu'``)
   unless the config names a device, and the full state dict is not
   "offloaded to CPU" (``offload_to_cpu=True``, the GPU setting, crashes
   the process with SIGSEGV when saving on a CPU build). Its
   ``load_optim_state_dict`` calls ``FSDP.optim_state_dict_to_load``
   with the pre-2.1 argument order (state, model, optimizer), which
   current torch rejects on resume; it is called with keywords.
   ``FlexibleRunner.save_checkpoint`` overwrites the ``epoch``/``iter`` a
   caller passes in ``meta`` (the Runner keeps them), so a best
   checkpoint saved after validation records the next epoch and a run
   resumed from it skips one; the caller's values are kept, as in the
   Runner.

Not fixable here, because it runs before any plugin code: mmengine resolves
``mmaction::`` config paths with ``pkg_resources``, which setuptools >= 81
removed; ``setup.cfg`` pins ``setuptools==80.9.0``.
"""
import contextlib
import importlib.util
import os
import os.path as osp
import re
import sys
import tempfile
import types
import warnings
import zipfile
from typing import List

import numpy as np
import torch

#: Names of the fixes applied in this process, in order.
APPLIED: List[str] = []


# 1. The missing DRN localizer -----------------------------------------------
DRN_MODULES = ('mmaction.models.localizers.drn',
               'mmaction.models.localizers.drn.drn')


class DRNPlaceholder:
    """Stands in for the ``DRN`` localizer missing from the mmaction2 wheel.

    Raises:
        ImportError: Always, when built.
    """

    def __init__(self, *args, **kwargs) -> None:
        raise ImportError(
            'DRN is missing from the mmaction2 1.2.0 wheel '
            '(open-mmlab/mmaction2#2714); install mmaction2 from source to '
            'use it.')


def fix_missing_drn() -> bool:
    """Provide ``mmaction.models.localizers.drn`` if the wheel lacks it.

    Returns:
        bool: Whether a placeholder was installed.
    """
    if DRN_MODULES[0] in sys.modules or 'mmaction.models' in sys.modules:
        return False
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        return False
    root = spec.submodule_search_locations[0]
    if osp.isdir(osp.join(root, 'models', 'localizers', 'drn')):
        return False
    package = types.ModuleType(DRN_MODULES[0])
    package.__path__ = []  # a package, so that ``drn.drn`` resolves
    module = types.ModuleType(DRN_MODULES[1])
    module.DRN = DRNPlaceholder
    package.drn = module
    sys.modules[DRN_MODULES[0]] = package
    sys.modules[DRN_MODULES[1]] = module
    return True


# 2. The multimodal import chain ---------------------------------------------
def fix_multimodal_import() -> bool:
    """Skip mmaction's VindLU import when timm/torchvision are unavailable.

    Returns:
        bool: Whether ``WITH_MULTIMODAL`` was cleared.
    """
    if 'mmaction.models' in sys.modules:
        return False
    if all(_module_available(name) for name in ('timm', 'torchvision')):
        return False
    from mmaction.utils import dependency
    if not dependency.WITH_MULTIMODAL:
        return False
    dependency.WITH_MULTIMODAL = False
    return True


# 3. Safe checkpoint loading -------------------------------------------------
def checkpoint_safe_globals() -> list:
    """The exact globals mmengine checkpoints need under ``weights_only``.

    Returns:
        list: Objects and ``(object, 'dotted.name')`` pairs for
        :func:`torch.serialization.add_safe_globals`.
    """
    from mmengine.logging import HistoryBuffer
    from numpy._core import multiarray
    allowed = [
        HistoryBuffer,  # message hub state, pickled by value
        getattr,  # HistoryBuffer pickles bound methods (getattr(obj, name))
        bytes,  # pickle protocol 2 writes b'' as bytes() (empty arrays)
        np.ndarray,
        np.dtype,
        multiarray._reconstruct,
        multiarray.scalar,
        # numpy 1.x wrote these under ``numpy.core``
        (multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
        (multiarray.scalar, 'numpy.core.multiarray.scalar'),
    ]
    # dtype classes of the scalars and arrays a log or a metric can hold
    for name in ('Float16DType', 'Float32DType', 'Float64DType', 'Int8DType',
                 'Int16DType', 'Int32DType', 'Int64DType', 'UInt8DType',
                 'UInt16DType', 'UInt32DType', 'UInt64DType', 'BoolDType'):
        allowed.append(getattr(np.dtypes, name))
    return allowed


def load_from_local_safely(filename: str, map_location=None):
    """mmengine's local checkpoint loader, through ``safe_torch_load``.

    Args:
        filename (str): The checkpoint path (``~`` expanded).
        map_location (Any): Passed to :func:`torch.load`.

    Returns:
        dict: The checkpoint.
    """
    from mmaction_sugar.utils.safe_load import safe_torch_load
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_torch_load(filename, map_location=map_location)


def fix_safe_torch_load() -> bool:
    """Allow-list exactly the globals of mmengine checkpoints, and load
    local checkpoints with ``weights_only=True`` explicitly.

    Returns:
        bool: Always True (both steps are idempotent).
    """
    from mmengine.runner.checkpoint import CheckpointLoader
    torch.serialization.add_safe_globals(checkpoint_safe_globals())
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_safely, force=True)
    return True


# 4. numpy 2 aliases ---------------------------------------------------------
def _in1d(ar1, ar2, assume_unique=False, invert=False, **kwargs):
    """numpy 1's ``in1d``: ``isin`` on the flattened first argument."""
    return np.isin(np.ravel(ar1), ar2, assume_unique=assume_unique,
                   invert=invert, **kwargs)


NUMPY_ALIASES = {'Inf': np.inf, 'trapz': np.trapezoid, 'in1d': _in1d}


def fix_numpy2_aliases() -> bool:
    """Restore ``np.Inf``, ``np.trapz`` and ``np.in1d`` on numpy 2.

    Returns:
        bool: Whether any alias was added.
    """
    added = False
    for name, value in NUMPY_ALIASES.items():
        if name not in np.__dict__:
            setattr(np, name, value)
            added = True
    return added


# 5. CPU distributed ---------------------------------------------------------
def fix_cpu_dist_init() -> bool:
    """Let ``--launcher pytorch`` initialise on machines without CUDA.

    Returns:
        bool: Whether mmengine's ``_init_dist_pytorch`` was wrapped.
    """
    from mmengine.dist import utils as dist_utils
    original = dist_utils._init_dist_pytorch
    if getattr(original, '_sugar_patched', False):
        return False

    def init_dist_pytorch(backend, init_backend='torch', **kwargs):
        if torch.cuda.is_available():
            return original(backend, init_backend=init_backend, **kwargs)
        if backend == 'nccl':
            warnings.warn('CUDA is not available: distributed backend '
                          "'nccl' replaced by 'gloo'.")
            backend = 'gloo'
        if init_backend != 'torch':
            raise ValueError(f'init_backend={init_backend!r} needs CUDA; '
                             "use init_backend='torch' on CPU.")
        torch.distributed.init_process_group(backend=backend, **kwargs)

    init_dist_pytorch._sugar_patched = True
    init_dist_pytorch.__wrapped__ = original
    dist_utils._init_dist_pytorch = init_dist_pytorch
    return True


# 6. Half-precision scores reaching numpy -----------------------------------
def fix_half_scores_to_numpy() -> bool:
    """Cast half-precision scores to float32 in ``BaseHead.loss_by_feat``.

    Runs after fixes 1-2, which ``import mmaction.models`` needs.

    Returns:
        bool: Whether ``loss_by_feat`` was wrapped.
    """
    from mmaction.models.heads.base import BaseHead
    original = BaseHead.loss_by_feat
    if getattr(original, '_sugar_patched', False):
        return False

    def loss_by_feat(self, cls_scores, *args, **kwargs):
        if cls_scores.dtype in (torch.bfloat16, torch.float16):
            cls_scores = cls_scores.float()
        return original(self, cls_scores, *args, **kwargs)

    loss_by_feat._sugar_patched = True
    loss_by_feat.__wrapped__ = original
    BaseHead.loss_by_feat = loss_by_feat
    return True


# 7. Checkpoints that survive a kill ------------------------------------------
def is_complete_checkpoint(path: str) -> bool:
    """Whether ``path`` is a whole ``torch.save`` file.

    ``torch.save`` writes a zip archive whose central directory comes last,
    so a file cut short by a kill fails this check.

    Args:
        path (str): The file.

    Returns:
        bool: True for a readable, complete archive.
    """
    if not osp.isfile(path) or not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return bool(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def save_checkpoint_atomic(original):
    """Wrap mmengine's ``save_checkpoint``: local files are renamed into
    place only once completely written."""

    def save_checkpoint(checkpoint, filename, file_client_args=None,
                        backend_args=None):
        if '://' in str(filename) or backend_args or file_client_args:
            return original(checkpoint, filename, file_client_args,
                            backend_args)
        filename = str(filename)
        folder = osp.dirname(osp.abspath(filename))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f'.{osp.basename(filename)}.', suffix='.tmp', dir=folder)
        os.close(fd)
        try:
            with open(tmp, 'wb') as f:
                torch.save(checkpoint, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filename)
        except BaseException:
            if osp.exists(tmp):
                os.remove(tmp)
            raise

    save_checkpoint._sugar_patched = True
    save_checkpoint.__wrapped__ = original
    return save_checkpoint


def find_latest_complete_checkpoint(original):
    """Wrap mmengine's ``find_latest_checkpoint`` with a fallback to the
    newest complete checkpoint when ``last_checkpoint`` cannot be
    trusted."""

    def find_latest_checkpoint(path: str):
        candidates = []
        for name in os.listdir(path) if osp.isdir(path) else []:
            match = re.fullmatch(r'(epoch|iter)_(\d+)\.pth', name)
            if match:
                candidates.append((int(match.group(2)), name))
            elif re.fullmatch(r'\.(epoch|iter)_\d+\.pth\..*\.tmp', name):
                with contextlib.suppress(OSError):  # left by a killed save
                    os.remove(osp.join(path, name))
        pointed = None
        with contextlib.suppress(OSError, UnicodeDecodeError):
            pointed = original(path)
        if pointed and is_complete_checkpoint(pointed):
            return pointed
        pointer = osp.join(path, 'last_checkpoint')
        for _, name in sorted(candidates, reverse=True):
            full = osp.join(path, name)
            if is_complete_checkpoint(full):
                warnings.warn(
                    (f'{pointer} names {pointed}, which is missing or '
                     'incomplete' if pointed else f'{pointer} is missing') +
                    f'; resuming from {full} instead.')
                return full
        if pointed:
            warnings.warn(f'{pointer} names {pointed}, which is missing or '
                          'incomplete, and no other complete checkpoint '
                          'was found: training starts from scratch.')
        return None

    find_latest_checkpoint._sugar_patched = True
    find_latest_checkpoint.__wrapped__ = original
    return find_latest_checkpoint


def delete_old_checkpoints_after_saving(original):
    """Wrap ``CheckpointHook._save_checkpoint_with_step`` so that the
    checkpoints it drops are deleted after the new one is written."""

    def save_checkpoint_with_step(self, runner, step, meta):
        backend = self.file_backend
        deferred = []
        with _instance_override(backend, 'remove', deferred.append), \
                _instance_override(backend, 'rmtree', deferred.append):
            original(self, runner, step, meta)
        for path in deferred:
            if backend.isfile(path):
                backend.remove(path)
            elif backend.isdir(path):
                backend.rmtree(path)

    save_checkpoint_with_step._sugar_patched = True
    save_checkpoint_with_step.__wrapped__ = original
    return save_checkpoint_with_step


def fix_checkpoint_writes() -> bool:
    """Atomic checkpoint files, late deletion and a trustworthy resume.

    Returns:
        bool: Whether mmengine's functions were wrapped.
    """
    import mmengine.runner as runner_pkg
    from mmengine.hooks import CheckpointHook
    from mmengine.runner import _flexible_runner, checkpoint, runner
    if getattr(checkpoint.save_checkpoint, '_sugar_patched', False):
        return False
    save = save_checkpoint_atomic(checkpoint.save_checkpoint)
    for module in (checkpoint, runner, runner_pkg):
        module.save_checkpoint = save
    find = find_latest_complete_checkpoint(checkpoint.find_latest_checkpoint)
    for module in (checkpoint, runner, _flexible_runner):
        module.find_latest_checkpoint = find
    CheckpointHook._save_checkpoint_with_step = (
        delete_old_checkpoints_after_saving(
            CheckpointHook._save_checkpoint_with_step))
    return True


# 8. FSDP on current torch, and on CPU ------------------------------------
def fix_fsdp_strategy() -> bool:
    """CPU placement, keyword optimizer-state loading and the caller's
    checkpoint epoch for ``FSDPStrategy``/``FlexibleRunner``.

    Returns:
        bool: Whether the strategy and the runner were wrapped.
    """
    from mmengine._strategy import fsdp
    from mmengine.runner import FlexibleRunner
    strategy = fsdp.FSDPStrategy
    if getattr(strategy._wrap_model, '_sugar_patched', False):
        return False
    wrap_model = strategy._wrap_model

    def _wrap_model(self, model):
        if not torch.cuda.is_available():
            self.model_wrapper = dict(
                self.model_wrapper or dict(type='MMFullyShardedDataParallel'))
            self.model_wrapper.setdefault('device_id', 'cpu')
            for config in (self.state_dict_config,
                           self.optim_state_dict_config):
                if getattr(config, 'offload_to_cpu', False):
                    config.offload_to_cpu = False  # segfaults on CPU
        return wrap_model(self, model)

    def load_optim_state_dict(self, state_dict: dict) -> None:
        optim_state_dict = fsdp.FSDP.optim_state_dict_to_load(
            model=self.model, optim=self.optim_wrapper.optimizer,
            optim_state_dict=state_dict)
        self.optim_wrapper.load_state_dict(optim_state_dict)

    runner_save = FlexibleRunner.save_checkpoint

    def save_checkpoint(self, *args, meta=None, **kwargs):
        given = {k: meta[k] for k in ('epoch', 'iter') if k in (meta or {})}
        if not given:
            return runner_save(self, *args, meta=meta, **kwargs)
        strategy_save = self.strategy.save_checkpoint

        def save(*save_args, extra_ckpt=None, **save_kwargs):
            extra_ckpt['meta'].update(given)
            return strategy_save(*save_args, extra_ckpt=extra_ckpt,
                                 **save_kwargs)

        with _instance_override(self.strategy, 'save_checkpoint', save):
            return runner_save(self, *args, meta=meta, **kwargs)

    for name, new, old in (
            ('_wrap_model', _wrap_model, wrap_model),
            ('load_optim_state_dict', load_optim_state_dict,
             strategy.load_optim_state_dict)):
        new._sugar_patched, new.__wrapped__ = True, old
        setattr(strategy, name, new)
    save_checkpoint._sugar_patched = True
    save_checkpoint.__wrapped__ = runner_save
    FlexibleRunner.save_checkpoint = save_checkpoint
    return True


FIXES = (fix_missing_drn, fix_multimodal_import, fix_safe_torch_load,
         fix_numpy2_aliases, fix_cpu_dist_init, fix_half_scores_to_numpy,
         fix_checkpoint_writes, fix_fsdp_strategy)


def apply_all() -> List[str]:
    """Apply every fix once; safe to call repeatedly.

    Returns:
        list[str]: The names of the fixes that changed something in this
        process so far.
    """
    for fix in FIXES:
        if fix() and fix.__name__ not in APPLIED:
            APPLIED.append(fix.__name__)
    return list(APPLIED)


@contextlib.contextmanager
def _instance_override(obj, name: str, value):
    """Set ``obj.name = value`` for the duration of a ``with`` block, then
    restore what ``obj`` had (its own attribute, or the class's)."""
    missing = object()
    before = vars(obj).get(name, missing)
    setattr(obj, name, value)
    try:
        yield
    finally:
        if before is missing:
            delattr(obj, name)
        else:
            setattr(obj, name, before)


def _module_available(name: str) -> bool:
    """Whether ``name`` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
