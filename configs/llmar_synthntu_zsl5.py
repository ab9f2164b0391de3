# Zero-shot LLM-AR on SynthNTU (27 seen / 5 unseen classes), both stages:
#   python tools/train.py configs/llmar_synthntu_zsl5.py
#   python tools/test.py configs/llmar_synthntu_zsl5.py CHECKPOINT
stages = [
    dict(
        name='stage1',
        config='llmar/llmar-stage1_vqvae-poincare_1xb16-joint-u32-40e_'
        'synthntu-xsub-zsl5-keypoint-3d.py'),
    dict(
        name='stage2',
        config='llmar/llmar-stage2_vqvae-poincare-smollm2_1xb16-joint-u32-'
        '1e_synthntu-xsub-zsl5-keypoint-3d.py',
        encoder_from='stage1'),
]
