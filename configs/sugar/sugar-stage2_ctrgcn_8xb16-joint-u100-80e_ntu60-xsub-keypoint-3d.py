# SUGAR stage 2 on NTU RGB+D 60 X-Sub with the paper's skeleton encoder,
# CTR-GCN (registered by this plugin as 'SugarCTRGCN').
_base_ = './sugar-stage2_stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='SugarCTRGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial')))
