# Zero-shot SUGAR stage 2, the standard NTU-120 110/10 split: train on 110
# classes of X-Sub, test on the X-Sub test subjects of all 120 classes.
_base_ = './sugar-stage2_stgcn_8xb16-joint-u100-80e_ntu120-xsub-keypoint-3d.py'

unseen = [4, 13, 37, 43, 49, 65, 88, 95, 99, 106]
seen = [label for label in range(120) if label not in unseen]

model = dict(cls_head=dict(train_classes=seen))
train_dataloader = dict(dataset=dict(dataset=dict(keep_classes=seen)))
val_evaluator = [dict(type='ZeroShotAccMetric', unseen_classes=unseen)]
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best=None))
