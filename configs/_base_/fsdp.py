# Fully sharded data parallel training (FSDP) through mmengine's
# FlexibleRunner: parameters, gradients and optimizer states are sharded
# across processes, so an LLM too large for one device (LLaMA-2-7B in bf16
# with LoRA) trains on several. Inherit it after a stage-3 / LLM-AR
# stage-2 config, and launch with torchrun (tools/dist_train.sh):
#
#   _base_ = ['./sugar-stage3_....py', '../_base_/fsdp.py']
#
# Each transformer block is its own FSDP unit (size-based policy: modules
# above 1e7 parameters), LoRA and frozen parameters sit in the same units
# (use_orig_params=True), and checkpoints hold the full state dict,
# gathered on rank 0 and offloaded to CPU, in the same .pth layout as a
# single-process run (so load_from, --resume and tools/test.py work
# unchanged). On CPU (gloo) mmaction_sugar.compat places the shards on the
# CPU; on GPUs each process uses its LOCAL_RANK device.
runner_type = 'FlexibleRunner'
strategy = dict(
    type='LoRAFSDPStrategy',  # FSDPStrategy, frozen LLM kept out of .pth
    model_wrapper=dict(
        use_orig_params=True,
        auto_wrap_policy=dict(
            type='torch.distributed.fsdp.wrap.size_based_auto_wrap_policy',
            min_num_params=int(1e7))),
    state_dict_cfg=dict(
        state_dict_type='FULL_STATE_DICT',
        state_dict_config=dict(
            type='FullStateDictConfig', offload_to_cpu=True,
            rank0_only=True),
        optim_state_dict_config=dict(
            type='FullOptimStateDictConfig', offload_to_cpu=True,
            rank0_only=True)))
