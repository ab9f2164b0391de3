# Zero-shot LLM-AR stage 1 on SynthNTU x-sub: the tokenizer trains on the 27
# seen classes only (the 5 unseen ones of the SUGAR zero-shot split, each
# with a look-alike among the seen classes), so their clips are written in
# action words learnt from other actions.
_base_ = ('./llmar-stage1_vqvae-poincare_1xb16-joint-u32-40e_synthntu-xsub-'
          'keypoint-3d.py')

# clapping, jump up, salute, squat down, side kick (SynthNTU labels)
unseen = [5, 10, 14, 25, 31]
seen = [label for label in range(32) if label not in unseen]
train_dataloader = dict(dataset=dict(dataset=dict(keep_classes=seen)))
