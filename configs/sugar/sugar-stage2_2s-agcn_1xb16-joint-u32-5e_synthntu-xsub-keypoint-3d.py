# SUGAR stage 2 on SynthNTU x-sub with the toolbox's 2s-AGCN backbone
# (AAGCN without attention) instead of ST-GCN: the only change is this
# one backbone statement; any MMAction2 skeleton backbone whose output has
# 256 channels drops in the same way (otherwise set cls_head.in_channels).
_base_ = './sugar-stage2_stgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='AAGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        gcn_attention=False))
