# Zero-shot SUGAR stage 2 on SynthNTU x-sub: train on 27 seen classes, test
# on the x-sub test subjects of all 32 classes. ZeroShotAccMetric reports
# zero-shot accuracy among the 5 unseen classes (chance 20% top-1) and
# generalised zero-shot accuracy (seen / unseen / harmonic mean). The
# unseen classes each have a look-alike among the seen ones (rub two hands
# together, hand waving, hopping, sitting down, kicking something).
_base_ = './sugar-stage2_stgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py'

# clapping, jump up, salute, squat down, side kick (SynthNTU labels)
unseen = [5, 10, 14, 25, 31]
seen = [label for label in range(32) if label not in unseen]

model = dict(cls_head=dict(train_classes=seen))
train_dataloader = dict(dataset=dict(dataset=dict(keep_classes=seen)))
val_evaluator = [dict(type='ZeroShotAccMetric', unseen_classes=unseen)]
test_evaluator = val_evaluator
# choosing the checkpoint by unseen-class accuracy would leak the unseen
# labels into training: keep the last one
default_hooks = dict(checkpoint=dict(save_best=None))
