# Loads mmaction-sugar into the toolbox (compat fixes + registered modules)
# and sets what the plugin needs from every run. Inherit it next to a
# toolbox config: it defines no key that the toolbox's configs define.
custom_imports = dict(imports=['mmaction_sugar'], allow_failed_imports=False)

# DDP without pinning a device: works on CPU (gloo) and on GPUs (nccl), where
# the model is already on its rank's device. The toolbox's default passes
# device_ids=[LOCAL_RANK], which a CPU build rejects.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False)

# Re-seed the random generators at every training epoch, so that a run
# killed and resumed with --resume ends bitwise identical to an
# uninterrupted one (docs/RELIABILITY.md). Configs that set their own
# custom_hooks list it first.
custom_hooks = [dict(type='EpochSeedHook')]
