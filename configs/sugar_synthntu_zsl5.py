# Zero-shot SUGAR end to end on SynthNTU x-sub (27 seen / 5 unseen classes):
# stage 2 and stage 3 train on the seen classes only; the test names all 32
# classes as candidates and reports accuracy among the unseen ones.
#   python tools/train.py configs/sugar_synthntu_zsl5.py
stages = [
    dict(
        name='stage2',
        config='sugar/sugar-stage2_stgcn_1xb16-joint-u32-5e_'
        'synthntu-xsub-zsl5-keypoint-3d.py'),
    dict(
        name='stage3',
        config='sugar/sugar-stage3_stgcn-tqp-smollm2_1xb16-joint-u32-1e_'
        'synthntu-xsub-zsl5-keypoint-3d.py',
        encoder_from='stage2'),
]
