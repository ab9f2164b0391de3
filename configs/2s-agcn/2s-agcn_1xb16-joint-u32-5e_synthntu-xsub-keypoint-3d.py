# 2s-AGCN (AAGCN without attention, joint stream) on SynthNTU x-sub: the
# ST-GCN SynthNTU recipe with the backbone of the toolbox's 2s-AGCN configs
# (mmaction::skeleton/2s-agcn/2s-agcn_8xb16-joint-u100-80e_ntu60-xsub-...).
_base_ = '../stgcn/stgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='AAGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        gcn_attention=False))  # degenerate AAGCN to AGCN, as the toolbox
