# SUGAR stage 2 on NTU RGB+D 120 X-Sub: the toolbox's ST-GCN NTU120 recipe
# with the text-supervised head over the bundled NTU-120 knowledge.
_base_ = '../stgcn/stgcn_8xb16-joint-u100-80e_ntu120-xsub-keypoint-3d.py'

model = dict(
    cls_head=dict(
        _delete_=True,
        type='TextSupervisedHead',
        in_channels=256,
        knowledge='ntu120',
        temperature=0.07,
        learnable_temperature=False))

custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='KnowledgeCheckHook')
]
