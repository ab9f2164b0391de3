# LLM-AR stage 2 on NTU RGB+D 120 X-Sub: the NTU60 recipe on the toolbox's
# data/skeleton/ntu120_3d.pkl, answering among the 120 classes of the
# bundled NTU-120 knowledge. Run both stages: configs/llmar_ntu120.py.
_base_ = ('./llmar-stage2_vqvae-poincare-llm_8xb16-joint-u100-1e_ntu60-xsub-'
          'keypoint-3d.py')

ann_file = 'data/skeleton/ntu120_3d.pkl'
model = dict(cls_head=dict(knowledge='ntu120'))
train_dataloader = dict(dataset=dict(dataset=dict(ann_file=ann_file)))
val_dataloader = dict(dataset=dict(ann_file=ann_file))
test_dataloader = dict(dataset=dict(ann_file=ann_file))
