# Copyright (c) mmaction-sugar contributors. All rights reserved.
import mmaction_sugar  # noqa: F401  (compat fixes first)
from mmaction.utils import register_all_modules

register_all_modules(init_default_scope=True)
