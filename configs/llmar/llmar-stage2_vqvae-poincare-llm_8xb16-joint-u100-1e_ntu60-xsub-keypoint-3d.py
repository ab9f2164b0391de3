# LLM-AR stage 2 on NTU RGB+D 60 X-Sub: the frozen stage-1 tokenizer writes
# each clip as 25 action words <a0>..<a511>; an LLM, frozen and tuned with
# LoRA r=64, alpha=16 (with the action-word embeddings), answers the class
# name and its description. One epoch at batch 128 (8 GPUs x 16).
#
# The LLM defaults to the bundled SmolLM2-135M-Instruct so that the config
# runs anywhere; for the paper's LLaMA family point `path` at a local folder:
#   --cfg-options model.cls_head.llm.path=/models/Llama-2-7b-hf \
#     model.cls_head.llm.dtype=bfloat16 \
#     model.cls_head.llm.gradient_checkpointing=True
_base_ = './llmar-stage1_vqvae-poincare_8xb16-joint-u100-30e_ntu60-xsub-' \
    'keypoint-3d.py'

model = dict(
    _delete_=True,
    type='LLMARRecognizer',
    # set by configs/llmar_ntu60.py, or with --cfg-options
    encoder_checkpoint=None,
    backbone={{_base_.model}},
    cls_head=dict(
        type='ActionSentenceHead',
        num_codes={{_base_.model.codebook.num_codes}},
        sentence='new_tokens',
        knowledge='ntu60',
        llm=dict(
            type='LoRACausalLM',
            path='smollm2-135m-instruct',
            dtype='float32',
            gradient_checkpointing=False,
            lora=dict(
                r=64,
                lora_alpha=16,
                lora_dropout=0.05,
                target_modules=['q_proj', 'k_proj', 'v_proj', 'o_proj'])),
        generate=False))

val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1, val_begin=1, val_interval=1)
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.01),
    paramwise_cfg=dict(custom_keys={'code_embed': dict(lr_mult=3.0)}),
    clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(
        type='CosineAnnealingLR',
        eta_min=0,
        T_max=1,
        by_epoch=True,
        convert_to_iter_based=True)
]
custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='KnowledgeCheckHook'),
    dict(type='LoRAExportHook')
]
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=1, save_best=None))
