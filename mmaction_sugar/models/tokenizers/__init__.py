# Copyright (c) mmaction-sugar contributors. All rights reserved.
from .action_vqvae import ActionVQVAE
from .hyperbolic_codebook import HyperbolicCodebook

__all__ = ['ActionVQVAE', 'HyperbolicCodebook']
