# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Loading checkpoints a user hands us, without running code from them.

Every ``torch.load`` of a user's file goes through :func:`safe_torch_load`:
``weights_only=True`` with the exact allow-list of
:func:`mmaction_sugar.compat.checkpoint_safe_globals` (what mmengine
checkpoints hold). A file that needs anything else (a pickled function or
class, which is how a crafted checkpoint runs code on load) is refused with
an :class:`UnsafeCheckpointError` that names the file and the global.
"""
import pickle
import re
from typing import Any, Union

import torch

_GLOBAL = re.compile(r'GLOBAL ([\w.]+)')


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint that needs a type outside the allow-list to load."""


def safe_torch_load(path: Union[str, Any], map_location: Any = 'cpu') -> Any:
    """``torch.load(path, weights_only=True)`` with a clear refusal.

    Args:
        path (str | file-like): The checkpoint.
        map_location (Any): Passed to :func:`torch.load`. Defaults to
            ``'cpu'``.

    Returns:
        Any: The loaded object (tensors, containers, numbers, strings and
        the allow-listed mmengine/numpy types).

    Raises:
        UnsafeCheckpointError: If the file pickles a global outside the
            allow-list.

    Example:
        >>> import io, os, torch
        >>> from mmaction_sugar.utils import safe_torch_load
        >>> class Payload:
        ...     def __reduce__(self):
        ...         return (os.system, ('echo pwned',))
        >>> buffer = io.BytesIO()
        >>> torch.save({'state_dict': {}, 'meta': Payload()}, buffer)
        >>> _ = buffer.seek(0)
        >>> try:
        ...     safe_torch_load(buffer)
        ... except UnsafeCheckpointError as error:
        ...     print(str(error)[:62])
        <checkpoint>: refused to load: it needs posix.system, which is
    """
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        name = path if isinstance(path, str) else '<checkpoint>'
        found = _GLOBAL.search(str(err))
        what = found.group(1) if found else 'a type'
        raise UnsafeCheckpointError(
            f'{name}: refused to load: it needs {what}, which is not on the '
            'allow-list of types a checkpoint may hold (torch.load with '
            'weights_only=True and the plugin\'s allow-list, see '
            'mmaction_sugar/compat.py). Loading it could run code from the '
            'file. If you trust its source, re-save its tensors '
            '(state_dict) from the program that wrote it.') from None
