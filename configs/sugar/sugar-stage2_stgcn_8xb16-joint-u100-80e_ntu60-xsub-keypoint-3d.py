# SUGAR stage 2 on NTU RGB+D 60 X-Sub: the toolbox's ST-GCN recipe
# (configs/stgcn/..._ntu60-xsub-keypoint-3d.py, 8 GPUs x 16) with its
# GCNHead replaced by the text-supervised head over the bundled NTU-60
# knowledge. The backbone is one line to swap (see the README).
_base_ = '../stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'

model = dict(
    cls_head=dict(
        _delete_=True,
        type='TextSupervisedHead',
        in_channels=256,
        knowledge='ntu60',
        temperature=0.07,
        learnable_temperature=False))

custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='KnowledgeCheckHook')
]
