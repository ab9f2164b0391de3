# ST-GCN (joint) on the embedded SynthNTU dataset, x-sub split.
# Inherits the toolbox's NTU60 recipe and changes only the data (SynthNTU,
# 32 classes, 32-frame clips) and the schedule (sized for a 2-core CPU).
# Generate the data first: python tools/data/generate_synth_ntu.py
_base_ = [
    'mmaction::skeleton/stgcn/'
    'stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py',
    '../_base_/plugin.py'
]

data_root = 'data/synth_ntu'
ann_file = f'{data_root}/synth_ntu_3d.pkl'
classes = f'{data_root}/synth_ntu_classes.txt'
clip_len = 32
split = 'xsub'  # or 'xview'

model = dict(cls_head=dict(num_classes=32))

dataset_type = 'SkeletonDataset'
dataset_args = dict(
    type=dataset_type,
    ann_file=ann_file,
    metainfo=dict(classes=classes),
    num_joints=25,
    coord_dim=3)
train_pipeline = [
    dict(type='PreNormalize3D'),
    dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
    dict(type='UniformSampleFrames', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='PreNormalize3D'),
    dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
    dict(
        type='UniformSampleFrames',
        clip_len=clip_len,
        num_clips=1,
        test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='PreNormalize3D'),
    dict(type='GenSkeFeat', dataset='nturgb+d', feats=['j']),
    dict(
        type='UniformSampleFrames',
        clip_len=clip_len,
        num_clips=2,
        test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackActionInputs')
]

# Data loading runs in the main process: on a 2-core machine a worker
# process competes with the model's threads and slows training ~3x.
train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        times=1,
        dataset=dict(
            **dataset_args, pipeline=train_pipeline,
            split=f'{split}_train')))
val_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        **dataset_args, pipeline=val_pipeline, split=f'{split}_val'))
test_dataloader = dict(
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        **dataset_args, pipeline=test_pipeline, split=f'{split}_val'))

val_evaluator = [dict(type='AccMetric')]
test_evaluator = val_evaluator

# 5 epochs of 72 iterations, validated once at the end: about 5.5 minutes
# on a 2-core CPU (README main job budget: 10 minutes in all).
train_cfg = dict(max_epochs=5, val_begin=1, val_interval=5)
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        eta_min=0,
        T_max=5,
        by_epoch=True,
        convert_to_iter_based=True)
]
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=2),
    logger=dict(interval=20))
auto_scale_lr = dict(enable=False, base_batch_size=16)
