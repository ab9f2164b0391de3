# LLM-AR stage 1 on NTU RGB+D 120 X-Sub: the NTU60 tokenizer recipe on the
# toolbox's data/skeleton/ntu120_3d.pkl (same split names, same clips).
_base_ = ('./llmar-stage1_vqvae-poincare_8xb16-joint-u100-30e_ntu60-xsub-'
          'keypoint-3d.py')

ann_file = 'data/skeleton/ntu120_3d.pkl'
train_dataloader = dict(dataset=dict(dataset=dict(ann_file=ann_file)))
val_dataloader = dict(dataset=dict(ann_file=ann_file))
test_dataloader = dict(dataset=dict(ann_file=ann_file))
