# SUGAR stage 2 on SynthNTU x-sub with the paper's skeleton encoder,
# CTR-GCN (registered by this plugin as 'SugarCTRGCN').
_base_ = './sugar-stage2_stgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='SugarCTRGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial')))
