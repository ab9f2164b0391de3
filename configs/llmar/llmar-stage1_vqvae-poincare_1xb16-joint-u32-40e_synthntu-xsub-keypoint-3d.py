# LLM-AR stage 1 on SynthNTU x-sub: the action tokenizer. A VQ-VAE turns a
# 32-frame clip (2 persons x 25 joints x xyz) into an "action sentence" of
# 8 codes from a 128-code hyperbolic (Poincare-ball) codebook, trained with
# reconstruction, codebook and commitment losses and the two human
# inductive-bias losses (Zipf prior, context sensitivity). Validation
# reports the per-joint reconstruction error in metres and the codebook
# perplexity (ActionTokenizerMetric). Stage 2 (the LLM) reads the sentences:
# llmar-stage2_... ; configs/llmar_synthntu.py runs both.
#
# Ablations from the command line, e.g.:
#   --cfg-options model.codebook.manifold=euclidean
#   --cfg-options model.loss_weights.zipf=0 model.loss_weights.context=0
_base_ = ['../stgcn/stgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py']

model = dict(
    _delete_=True,
    type='ActionVQVAE',
    in_channels=3,
    num_joints=25,
    num_person=2,
    width=256,
    latent_dim=64,
    down_t=2,  # 32 frames -> 8 codes
    codebook=dict(
        type='HyperbolicCodebook',
        num_codes=128,
        manifold='poincare',
        curvature=1.0,
        max_norm=2.0,
        restart_decay=0.9,
        restart_ratio=0.1),
    loss_weights=dict(
        recon=1.0, embed=1.0, commit=0.25, zipf=0.1, context=0.1),
    data_preprocessor=dict(type='ActionDataPreprocessor'))

val_evaluator = [dict(type='ActionTokenizerMetric')]
test_evaluator = val_evaluator
# the same clips as the recognizer is tested on, one per sample
test_dataloader = dict(
    batch_size=32, dataset=dict(pipeline={{_base_.val_pipeline}}))

train_cfg = dict(max_epochs=40, val_begin=1, val_interval=40)
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.0),
    clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-5,
        T_max=40,
        by_epoch=True,
        convert_to_iter_based=True)
]
default_hooks = dict(
    checkpoint=dict(
        interval=5,
        max_keep_ckpts=1,
        save_best='tokenizer/mpjpe',
        rule='less'),
    logger=dict(interval=20))
