# SUGAR stage 2 on NTU RGB+D 60 X-View (cameras 2, 3 train; camera 1 test).
_base_ = './sugar-stage2_stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'

train_dataloader = dict(dataset=dict(dataset=dict(split='xview_train')))
val_dataloader = dict(dataset=dict(split='xview_val'))
test_dataloader = dict(dataset=dict(split='xview_val'))
