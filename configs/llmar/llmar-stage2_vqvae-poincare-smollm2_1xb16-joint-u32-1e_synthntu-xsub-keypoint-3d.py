# LLM-AR stage 2 on SynthNTU x-sub: the stage-1 tokenizer, frozen, writes
# each clip as an action sentence of 8 codes; the bundled
# SmolLM2-135M-Instruct, frozen and tuned with LoRA (r=64, alpha=16), reads
# it as 8 new tokens <a0>..<a127> (embeddings trained with LoRA) and answers
# "<class name>. <description>". Testing scores every candidate name exactly
# (pred_score -> AccMetric top-1/top-5), the same protocol as SUGAR stage 3.
#
# Run after stage 1 (or use configs/llmar_synthntu.py, which runs both):
#   python tools/train.py THIS_CONFIG \
#     --cfg-options model.encoder_checkpoint=STAGE1_CHECKPOINT
# Action sentences in the LLM's own vocabulary instead of new tokens:
#   --cfg-options model.cls_head.sentence=vocab
_base_ = './llmar-stage1_vqvae-poincare_1xb16-joint-u32-40e_synthntu-xsub-' \
    'keypoint-3d.py'

model = dict(
    _delete_=True,
    type='LLMARRecognizer',
    # set by configs/llmar_synthntu.py, or with --cfg-options
    encoder_checkpoint=None,
    backbone={{_base_.model}},
    cls_head=dict(
        type='ActionSentenceHead',
        num_codes={{_base_.model.codebook.num_codes}},
        sentence='new_tokens',
        knowledge='synth_ntu',
        llm=dict(
            type='LoRACausalLM',
            path='smollm2-135m-instruct',
            dtype='float32',
            lora=dict(
                r=64,
                lora_alpha=16,
                lora_dropout=0.0,  # dropout masks cost ~20% of a CPU step
                target_modules=['q_proj', 'k_proj', 'v_proj', 'o_proj'])),
        generate=False))

val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator
test_dataloader = dict(batch_size=16)

# one epoch (72 steps), as SUGAR stage 3; testing is a separate command
train_cfg = dict(max_epochs=1)
val_dataloader = None
val_cfg = None
val_evaluator = None
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.01),
    # the action-word embeddings start from scratch: faster than the LoRA
    paramwise_cfg=dict(custom_keys={'code_embed': dict(lr_mult=3.0)}),
    clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
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
    checkpoint=dict(interval=1, max_keep_ckpts=1, save_best=None),
    logger=dict(interval=10))
