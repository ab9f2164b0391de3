# LLM-AR stage 1 on NTU RGB+D 60 X-Sub (toolbox data: data/skeleton/
# ntu60_3d.pkl): a hyperbolic action VQ-VAE turning a 100-frame clip into an
# action sentence of 25 codes from a 512-code Poincare-ball codebook. The
# paper does not publish its codebook size, dimension, curvature or loss
# weights: these are this project's choices, all set here.
_base_ = ['../stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py']

model = dict(
    _delete_=True,
    type='ActionVQVAE',
    in_channels=3,
    num_joints=25,
    num_person=2,
    width=512,
    latent_dim=128,
    down_t=2,  # 100 frames -> 25 codes
    codebook=dict(
        type='HyperbolicCodebook',
        num_codes=512,
        manifold='poincare',
        curvature=1.0,
        max_norm=2.0,
        restart_decay=0.99,
        restart_ratio=0.1),
    loss_weights=dict(
        recon=1.0, embed=1.0, commit=0.25, zipf=0.1, context=0.1),
    data_preprocessor=dict(type='ActionDataPreprocessor'))

train_dataloader = dict(dataset=dict(times=1))
test_dataloader = dict(dataset=dict(pipeline={{_base_.val_pipeline}}))
val_evaluator = [dict(type='ActionTokenizerMetric')]
test_evaluator = val_evaluator

train_cfg = dict(max_epochs=30, val_begin=1, val_interval=5)
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='AdamW', lr=2e-4, weight_decay=0.0),
    clip_grad=dict(max_norm=1.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=500),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-6,
        T_max=30,
        by_epoch=True,
        convert_to_iter_based=True)
]
default_hooks = dict(
    checkpoint=dict(
        interval=1, max_keep_ckpts=2, save_best='tokenizer/mpjpe',
        rule='less'))
auto_scale_lr = dict(enable=False, base_batch_size=128)
