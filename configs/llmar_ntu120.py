# LLM-AR end to end on NTU RGB+D 120 X-Sub (toolbox data layout):
#   python tools/train.py configs/llmar_ntu120.py
# Stage 1 trains the hyperbolic action VQ-VAE tokenizer, stage 2 the
# LoRA-tuned LLM reading its action sentences; each stage runs with the
# stock runner in <work_dir>/<stage name>, and tools/test.py tests stage 2.
stages = [
    dict(
        name='stage1',
        config='llmar/llmar-stage1_vqvae-poincare_8xb16-joint-u100-30e_'
        'ntu120-xsub-keypoint-3d.py'),
    dict(
        name='stage2',
        config='llmar/llmar-stage2_vqvae-poincare-llm_8xb16-joint-u100-1e_'
        'ntu120-xsub-keypoint-3d.py',
        encoder_from='stage1'),
]
