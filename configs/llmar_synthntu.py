# LLM-AR end to end on the embedded SynthNTU dataset:
#   python tools/train.py configs/llmar_synthntu.py
# Stage 1: the hyperbolic action VQ-VAE tokenizer (40 epochs, ~7 minutes
# on a 2-core CPU); stage 2: the bundled SmolLM2-135M-Instruct with LoRA
# reading the tokenizer's action sentences (1 epoch). Each stage runs with
# the stock runner in <work_dir>/<stage name>; tools/test.py tests stage 2.
stages = [
    dict(
        name='stage1',
        config='llmar/llmar-stage1_vqvae-poincare_1xb16-joint-u32-40e_'
        'synthntu-xsub-keypoint-3d.py'),
    dict(
        name='stage2',
        config='llmar/llmar-stage2_vqvae-poincare-smollm2_1xb16-joint-u32-'
        '1e_synthntu-xsub-keypoint-3d.py',
        encoder_from='stage1'),
]
