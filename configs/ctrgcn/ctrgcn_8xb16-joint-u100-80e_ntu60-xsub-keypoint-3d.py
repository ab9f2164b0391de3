# CTR-GCN (joint) on NTU RGB+D 60 X-Sub with the toolbox's ST-GCN recipe
# (SGD 0.1, cosine, 100-frame clips; the toolbox's projects/ctrgcn uses
# the same data pipeline).
_base_ = '../stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='SugarCTRGCN',
        graph_cfg=dict(layout='nturgb+d', mode='spatial')))
