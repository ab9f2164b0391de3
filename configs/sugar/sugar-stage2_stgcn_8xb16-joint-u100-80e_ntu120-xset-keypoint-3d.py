# SUGAR stage 2 on NTU RGB+D 120 X-Set (even setup ids train, odd test).
_base_ = './sugar-stage2_stgcn_8xb16-joint-u100-80e_ntu120-xsub-keypoint-3d.py'

train_dataloader = dict(dataset=dict(dataset=dict(split='xset_train')))
val_dataloader = dict(dataset=dict(split='xset_val'))
test_dataloader = dict(dataset=dict(split='xset_val'))
