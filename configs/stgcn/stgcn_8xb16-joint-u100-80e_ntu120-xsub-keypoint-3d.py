# The toolbox's own stgcn NTU120 X-Sub 3D joint recipe, unchanged, run
# through the plugin: annotations are validated (SkeletonDataset) and
# DDP works on CPU and GPU. Data: data/skeleton/ntu120_3d.pkl as in the
# toolbox (see README, "Data preparation").
_base_ = [
    'mmaction::skeleton/stgcn/'
    'stgcn_8xb16-joint-u100-80e_ntu120-xsub-keypoint-3d.py',
    '../_base_/plugin.py'
]

dataset = dict(type='SkeletonDataset', num_joints=25, coord_dim=3)
train_dataloader = dict(dataset=dict(dataset=dataset))
val_dataloader = dict(dataset=dataset)
test_dataloader = dict(dataset=dataset)
