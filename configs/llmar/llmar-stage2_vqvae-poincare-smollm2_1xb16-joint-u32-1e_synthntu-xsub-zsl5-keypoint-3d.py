# Zero-shot LLM-AR stage 2 on SynthNTU x-sub: LoRA training on the 27 seen
# classes (only they are in the training prompt); the test prompt lists all
# 32 names, and ZeroShotAccMetric reports accuracy among the 5 unseen
# classes (chance 20% top-1) and the generalised zero-shot accuracies.
_base_ = ('./llmar-stage2_vqvae-poincare-smollm2_1xb16-joint-u32-1e_'
          'synthntu-xsub-keypoint-3d.py')

unseen = [5, 10, 14, 25, 31]
seen = [label for label in range(32) if label not in unseen]
model = dict(cls_head=dict(train_classes=seen))
train_dataloader = dict(dataset=dict(dataset=dict(keep_classes=seen)))
test_evaluator = [dict(type='ZeroShotAccMetric', unseen_classes=unseen)]
