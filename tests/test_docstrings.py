# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Every registered component of the plugin shows a runnable example.

pytest runs the examples themselves (``--doctest-modules`` in setup.cfg);
this test makes a new component without one fail.
"""
import inspect

import mmaction.registry
import mmengine.registry
import pytest
from mmengine.registry import Registry

import mmaction_sugar  # noqa: F401  (registers the components)

# the registries the plugin registers into; any other registry of the two
# toolboxes is walked too, so a component in a new one is not missed
NAMED = ('MODELS', 'METRICS', 'HOOKS', 'OPTIM_WRAPPERS', 'DATASETS',
         'TRANSFORMS')


def _registries():
    roots = [getattr(mmaction.registry, name) for name in NAMED]
    roots.append(mmengine.registry.STRATEGIES)
    for module in (mmaction.registry, mmengine.registry):
        roots += [v for v in vars(module).values() if isinstance(v, Registry)]
    found, todo = {}, roots
    while todo:
        registry = todo.pop()
        if id(registry) not in found:
            found[id(registry)] = registry
            todo += list(registry.children.values())
    return list(found.values())


def _plugin_classes():
    classes = {}
    for registry in _registries():
        for obj in registry.module_dict.values():
            if inspect.isclass(obj) and obj.__module__.startswith(
                    'mmaction_sugar'):
                classes[f'{obj.__module__}.{obj.__qualname__}'] = obj
    return [classes[name] for name in sorted(classes)]


PLUGIN_CLASSES = _plugin_classes()


def test_the_walk_finds_every_kind_of_component():
    names = {cls.__name__ for cls in PLUGIN_CLASSES}
    # one per registry the plugin uses: the walk cannot pass vacuously
    assert {
        'SugarRecognizer', 'ZeroShotAccMetric', 'KnowledgeCheckHook',
        'CPUAmpOptimWrapper', 'SkeletonDataset', 'LoRAFSDPStrategy'
    } <= names


@pytest.mark.parametrize('cls', PLUGIN_CLASSES, ids=lambda c: c.__name__)
def test_registered_class_has_a_doctest_example(cls):
    doc = cls.__dict__.get('__doc__') or ''  # its own, not a base class's
    assert 'Example:' in doc and '>>>' in doc, (
        f'{cls.__module__}.{cls.__name__} is registered but its docstring '
        'has no "Example:" section with a >>> doctest (see e.g. '
        'mmaction_sugar/engine/hooks/epoch_seed_hook.py)')
