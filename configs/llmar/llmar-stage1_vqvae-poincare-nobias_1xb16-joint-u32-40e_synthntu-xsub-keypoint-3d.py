# Ablation of LLM-AR stage 1: the hyperbolic tokenizer without the human
# inductive-bias losses (no Zipf prior, no context sensitivity).
_base_ = ('./llmar-stage1_vqvae-poincare_1xb16-joint-u32-40e_synthntu-xsub-'
          'keypoint-3d.py')

model = dict(loss_weights=dict(zipf=0.0, context=0.0))
