# SUGAR end to end on SynthNTU with the paper's encoder, CTR-GCN (stage 2
# then stage 3, one command; about 20 minutes on a 2-core CPU):
#   python tools/train.py configs/sugar_synthntu_ctrgcn.py
stages = [
    dict(
        name='stage2',
        config='sugar/sugar-stage2_ctrgcn_1xb16-joint-u32-5e_'
        'synthntu-xsub-keypoint-3d.py'),
    dict(
        name='stage3',
        config='sugar/sugar-stage3_ctrgcn-tqp-smollm2_1xb16-joint-u32-1e_'
        'synthntu-xsub-keypoint-3d.py',
        encoder_from='stage2'),
]
