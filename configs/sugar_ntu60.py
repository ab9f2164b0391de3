# SUGAR end to end on NTU RGB+D 60 X-Sub with one command:
#   python tools/train.py configs/sugar_ntu60.py
# Stage 2 trains the paper's skeleton encoder, CTR-GCN, against the frozen
# text encoder (MIL-NCE over the LLM/VLM descriptions); stage 3 freezes it
# and tunes the TQP neck and the LLM's LoRA weights. Each stage runs with
# the stock mmengine runner in <work_dir>/<stage name>; a finished stage is
# skipped and an interrupted one resumes when the command is run again.
# Test (the last stage): python tools/test.py configs/sugar_ntu60.py CKPT
stages = [
    dict(
        name='stage2',
        config='sugar/sugar-stage2_ctrgcn_8xb16-joint-u100-80e_'
        'ntu60-xsub-keypoint-3d.py'),
    dict(
        name='stage3',
        config='sugar/sugar-stage3_ctrgcn-tqp-llm_8xb16-joint-u100-1e_'
        'ntu60-xsub-keypoint-3d.py',
        encoder_from='stage2'),
]
