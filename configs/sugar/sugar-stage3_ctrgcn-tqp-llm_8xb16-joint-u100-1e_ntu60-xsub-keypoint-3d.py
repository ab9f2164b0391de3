# SUGAR stage 3 on NTU RGB+D 60 X-Sub, the paper's setting: the frozen
# stage-2 CTR-GCN encoder, TQP with 128 soft tokens (4 chained Q-Former
# segments), an LLM frozen and tuned with LoRA r=64, alpha=16, batch 128
# (8 GPUs x 16), one epoch, lr 2e-5.
#
# The LLM defaults to the bundled SmolLM2-135M-Instruct so that the config
# runs anywhere; for the paper's LLaMA-2-7B point `path` at a local folder:
#   --cfg-options model.cls_head.llm.path=/models/Llama-2-7b-hf \
#     model.cls_head.llm.dtype=bfloat16 \
#     model.cls_head.llm.gradient_checkpointing=True \
#     model.neck.out_channels=4096 model.cls_head.in_channels=4096
_base_ = './sugar-stage2_ctrgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'

llm_width = 576  # SmolLM2-135M; 4096 for LLaMA-2-7B
model = dict(
    _delete_=True,
    type='SugarRecognizer',
    # set by configs/sugar_ntu60.py, or with --cfg-options
    encoder_checkpoint=None,
    backbone=dict(
        type='SugarCTRGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial')),
    neck=dict(
        type='TemporalQueryProjection',
        in_channels=256,
        out_channels=llm_width,
        num_queries=128,
        num_segments=4,
        mode='tqp',
        qformer=dict(
            hidden_size=768,
            num_hidden_layers=6,
            num_attention_heads=12,
            intermediate_size=3072,
            cross_attention_frequency=2)),
    cls_head=dict(
        type='LLMHead',
        in_channels=llm_width,
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
        # best-first search over the name trie: top-5 exact
        score_search='topk',
        generate=False))

# one pass over the training set, as the paper (the stage-2 recipe it
# inherits repeats the data 5 times per epoch)
train_dataloader = dict(dataset=dict(times=1))
test_dataloader = dict(dataset=dict(pipeline={{_base_.val_pipeline}}))
train_cfg = dict(max_epochs=1, val_begin=1, val_interval=1)
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='AdamW', lr=2e-5, weight_decay=0.01),
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
# the LoRA adapter is also exported in peft's format (<work_dir>/lora_adapter)
custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='KnowledgeCheckHook'),
    dict(type='LoRAExportHook')
]
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=1, save_best='acc/top1'))
auto_scale_lr = dict(enable=False, base_batch_size=128)
