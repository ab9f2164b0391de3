# Copyright (c) mmaction-sugar contributors. All rights reserved.
import torch
from mmaction.models.losses import BaseWeightedLoss
from mmaction.registry import MODELS


def mil_nce(logits: torch.Tensor, positive_mask: torch.Tensor,
            valid_mask: torch.Tensor = None) -> torch.Tensor:
    """MIL-NCE: contrastive loss with a bag of positives per sample.

    For sample ``i`` with logits ``l_i`` over ``K`` candidate texts, of
    which the set ``P(i)`` are positives (Miech et al., CVPR 2020)::

        loss_i = -log( sum_{n in P(i)} exp(l_in) / sum_{k} exp(l_ik) )
               = logsumexp_k(l_ik) - logsumexp_{n in P(i)}(l_in)

    and the result is the mean over samples. Computed with ``logsumexp`` so
    it is stable for any temperature.

    Args:
        logits (torch.Tensor): Similarities divided by the temperature,
            shape (N, K).
        positive_mask (torch.Tensor): True where text ``k`` is a positive
            of sample ``i``, shape (N, K). Every row needs one positive.
        valid_mask (torch.Tensor, optional): False for padding texts that
            take no part at all, shape (N, K) or (K, ). Defaults to None
            (all texts are valid).

    Returns:
        torch.Tensor: The scalar loss.

    Example:
        >>> import torch
        >>> logits = torch.tensor([[2.0, 0.0, 0.0]])
        >>> mask = torch.tensor([[True, True, False]])
        >>> round(mil_nce(logits, mask).item(), 4)  # -log((e^2+1)/(e^2+2))
        0.1126
    """
    if logits.shape != positive_mask.shape:
        raise ValueError(f'logits {tuple(logits.shape)} and positive_mask '
                         f'{tuple(positive_mask.shape)} must have the same '
                         'shape (N, K)')
    positive_mask = positive_mask.bool()
    if valid_mask is not None:
        valid_mask = valid_mask.bool().expand_as(positive_mask)
        positive_mask = positive_mask & valid_mask
        logits = logits.masked_fill(~valid_mask, float('-inf'))
    if not positive_mask.any(dim=1).all():
        rows = (~positive_mask.any(dim=1)).nonzero().flatten().tolist()
        raise ValueError(f'MIL-NCE needs at least one positive text per '
                         f'sample; samples {rows[:5]} have none')
    positives = logits.masked_fill(~positive_mask, float('-inf'))
    loss = logits.logsumexp(dim=1) - positives.logsumexp(dim=1)  # (N, )
    return loss.mean()


@MODELS.register_module()
class MILNCELoss(BaseWeightedLoss):
    """MIL-NCE loss (Miech et al., CVPR 2020), as used by SUGAR.

    SUGAR (Ye et al., AAAI 2026) supervises the skeleton feature ``s_i``
    with the bag of texts of its class (motion and visual descriptions):
    ``L = -1/|B| sum_i log( sum_{n in P(i)} exp(s_i.t_n / tau) /
    sum_{k,n} exp(s_i.t_{k,n} / tau) )``. The caller passes the logits
    ``s_i.t / tau`` over all candidate texts and which are positives; see
    :func:`mil_nce`.

    Args:
        loss_weight (float): Factor multiplied on the loss.
            Defaults to 1.0.

    Example:
        >>> import torch
        >>> loss = MILNCELoss(loss_weight=0.5)
        >>> logits = torch.tensor([[2.0, 0.0, 0.0]])
        >>> mask = torch.tensor([[True, True, False]])
        >>> round(loss(logits, mask).item(), 4)
        0.0563
    """

    def _forward(self, logits: torch.Tensor, positive_mask: torch.Tensor,
                 valid_mask: torch.Tensor = None) -> torch.Tensor:
        """Compute :func:`mil_nce`; see there for the arguments."""
        return mil_nce(logits, positive_mask, valid_mask)
