# Zero-shot SUGAR stage 2 on SynthNTU x-sub: 27 seen classes for training,
# 5 unseen classes recognised by their texts alone (chance: 20%). The
# unseen classes each have a look-alike among the seen ones (rub two hands
# together, hand waving, hopping, sitting down, kicking something).
_base_ = './sugar-stage2_stgcn_1xb16-joint-u32-5e_synthntu-xsub-keypoint-3d.py'

# clapping, jump up, salute, squat down, side kick (SynthNTU labels)
unseen = [5, 10, 14, 25, 31]
seen = [label for label in range(32) if label not in unseen]

model = dict(cls_head=dict(train_classes=seen, test_classes=unseen))
train_dataloader = dict(dataset=dict(dataset=dict(keep_classes=seen)))
val_dataloader = dict(dataset=dict(keep_classes=unseen))
test_dataloader = dict(dataset=dict(keep_classes=unseen))
