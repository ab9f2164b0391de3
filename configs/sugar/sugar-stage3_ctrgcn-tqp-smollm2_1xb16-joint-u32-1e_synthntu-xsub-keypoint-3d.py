# SUGAR stage 3 on SynthNTU x-sub over the paper's encoder, CTR-GCN: the
# ST-GCN stage-3 recipe with the backbone swapped (one statement). Its
# stage-2 checkpoint comes from
# sugar-stage2_ctrgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py.
_base_ = './sugar-stage3_stgcn-tqp-smollm2_1xb16-joint-u32-1e_synthntu-xsub-keypoint-3d.py'  # noqa: E501

model = dict(
    backbone=dict(
        _delete_=True,
        type='SugarCTRGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial')))
