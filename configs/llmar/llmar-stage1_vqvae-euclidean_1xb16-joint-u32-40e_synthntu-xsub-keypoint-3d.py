# Ablation of LLM-AR stage 1: an ordinary Euclidean codebook (L2 nearest
# code) in place of the Poincare ball; everything else as the hyperbolic
# tokenizer. Stage 2 over it: llmar-stage2_... with
#   --cfg-options model.backbone.codebook.manifold=euclidean
_base_ = ('./llmar-stage1_vqvae-poincare_1xb16-joint-u32-40e_synthntu-xsub-'
          'keypoint-3d.py')

model = dict(codebook=dict(manifold='euclidean'))
