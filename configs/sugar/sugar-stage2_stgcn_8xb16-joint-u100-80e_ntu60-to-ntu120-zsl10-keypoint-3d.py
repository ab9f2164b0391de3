# The SUGAR / LLM-AR cross-dataset zero-shot protocol: train on all of
# NTU RGB+D 60 (X-Sub training subjects), test on 10 classes that only
# NTU RGB+D 120 has (X-Sub test subjects of ntu120_3d.pkl), recognised by
# their texts alone. The papers do not list their 10 classes; these are
# ours: every sixth NTU-120-only class, from A61 on.
_base_ = './sugar-stage2_stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py'

# put on headphone, hush, staple book, sniff, apply cream on face, open a
# box, arm circles, yawn, grab other person's stuff, take a photo of other
# person (A61, A67, ..., A115; 0-based labels)
unseen = [60, 66, 72, 78, 84, 90, 96, 102, 108, 114]

# the label space is NTU-120's; NTU-60's labels 0-59 are its first classes
model = dict(
    cls_head=dict(
        knowledge='ntu120',
        train_classes=list(range(60)),
        test_classes=unseen))
train_dataloader = dict(
    dataset=dict(dataset=dict(keep_classes=list(range(60)))))
ntu120 = 'data/skeleton/ntu120_3d.pkl'
val_dataloader = dict(
    dataset=dict(ann_file=ntu120, split='xsub_val', keep_classes=unseen))
test_dataloader = dict(
    dataset=dict(ann_file=ntu120, split='xsub_val', keep_classes=unseen))
default_hooks = dict(checkpoint=dict(save_best=None))
