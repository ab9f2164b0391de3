# ST-GCN++ (joint) on SynthNTU x-sub: the ST-GCN SynthNTU recipe with the
# backbone options of the toolbox's ST-GCN++ configs
# (mmaction::skeleton/stgcnpp/stgcnpp_8xb16-joint-u100-80e_ntu60-xsub-...).
_base_ = '../stgcn/stgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py'

model = dict(
    backbone=dict(
        gcn_adaptive='init',
        gcn_with_res=True,
        tcn_type='mstcn',
        graph_cfg=dict(layout='nturgb+d', mode='spatial')))
