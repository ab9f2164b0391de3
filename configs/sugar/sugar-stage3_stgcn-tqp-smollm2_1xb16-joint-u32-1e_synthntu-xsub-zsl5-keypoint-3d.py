# Zero-shot SUGAR stage 3 on SynthNTU x-sub: the LLM is tuned on the 27
# seen classes (only their names in the training prompt) over the
# zero-shot stage-2 encoder; at test time all 32 names are candidates, so
# the 5 unseen classes are recognised by being named. ZeroShotAccMetric
# reports accuracy among the unseen classes and the GZSL seen / unseen /
# harmonic mean, from the candidate scores.
_base_ = './sugar-stage3_stgcn-tqp-smollm2_1xb16-joint-u32-1e_synthntu-xsub-keypoint-3d.py'  # noqa: E501

# clapping, jump up, salute, squat down, side kick (SynthNTU labels): the
# split of sugar-stage2_..._synthntu-xsub-zsl5-keypoint-3d.py
unseen = [5, 10, 14, 25, 31]
seen = [label for label in range(32) if label not in unseen]

# ZeroShotAccMetric re-ranks within the unseen names: every name's score
# must be exact, not just the top 5
model = dict(
    cls_head=dict(
        train_classes=seen, test_classes=None, score_search='exact'))
train_dataloader = dict(dataset=dict(dataset=dict(keep_classes=seen)))
test_evaluator = [dict(type='ZeroShotAccMetric', unseen_classes=unseen)]
