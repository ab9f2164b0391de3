# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""mmaction-sugar: LLM-based skeleton action recognition for MMAction2.

Importing the package first applies the toolbox compatibility fixes
(:mod:`mmaction_sugar.compat`), then registers the plugin's components into
MMAction2's own registries. Configs load it with::

    custom_imports = dict(imports=['mmaction_sugar'],
                          allow_failed_imports=False)
"""
from . import compat

compat.apply_all()

from . import apis, datasets, engine, evaluation, models  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = [
    '__version__', 'apis', 'compat', 'datasets', 'engine', 'evaluation',
    'models'
]
