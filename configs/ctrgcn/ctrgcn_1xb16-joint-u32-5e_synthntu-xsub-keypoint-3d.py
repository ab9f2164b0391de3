# CTR-GCN (joint) on SynthNTU x-sub: the ST-GCN SynthNTU recipe with the
# CTR-GCN backbone (Chen et al., ICCV 2021; SUGAR's skeleton encoder),
# registered by this plugin as 'SugarCTRGCN'.
_base_ = '../stgcn/stgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='SugarCTRGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial')))
