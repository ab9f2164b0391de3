# Copyright (c) mmaction-sugar contributors. All rights reserved.
import pytest
from mmaction.utils import register_all_modules

import mmaction_sugar  # noqa: F401  (compat fixes before mmaction.models)

register_all_modules(init_default_scope=True)


@pytest.fixture(scope='session')
def tiny_synth_ntu(tmp_path_factory):
    """Directory with the tiny SynthNTU set (pkl + class list)."""
    from mmaction_sugar.datasets.synthetic import write_synth_ntu
    out_dir = tmp_path_factory.mktemp('synth_ntu')
    write_synth_ntu(str(out_dir), size='tiny', seed=0)
    return str(out_dir)
