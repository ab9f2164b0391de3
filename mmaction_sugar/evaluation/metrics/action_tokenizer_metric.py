# Copyright (c) mmaction-sugar contributors. All rights reserved.
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric


@METRICS.register_module()
class ActionTokenizerMetric(BaseMetric):
    """Reconstruction error and codebook use of an action tokenizer.

    Reads what :class:`ActionVQVAE` puts on each data sample in
    ``predict`` mode (``recon_mpjpe``, ``pred_codes``, ``num_codes``) and
    reports over the whole evaluation set:

    - ``mpjpe``: mean per-joint position error of the reconstructions, in
      the data's unit (metres for NTU and SynthNTU), over present persons;
    - ``perplexity``: ``exp`` of the entropy of the code histogram, at most
      the codebook size K (reached when every code is equally used);
    - ``code_usage``: the fraction of the K codes used at least once;
    - ``unique_sentences``: the fraction of clips whose action sentence
      (code sequence) is shared by no other clip.

    Args:
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to 'cpu'.
        prefix (str, optional): Metric name prefix. Defaults to None.

    Example:
        >>> import torch
        >>> metric = ActionTokenizerMetric()
        >>> metric.process(None, [dict(recon_mpjpe=0.02, num_codes=4,
        ...                            pred_codes=torch.tensor([0, 1, 2, 3]))])
        >>> {k: round(v, 3) for k, v in metric.compute_metrics(
        ...     metric.results).items()}
        {'mpjpe': 0.02, 'perplexity': 4.0, 'code_usage': 1.0, \
'unique_sentences': 1.0}
    """
    default_prefix = 'tokenizer'

    def __init__(self,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)

    def process(self, data_batch: Optional[Dict],
                data_samples: Sequence[Dict]) -> None:
        for sample in data_samples:
            missing = {'recon_mpjpe', 'pred_codes', 'num_codes'} - set(sample)
            if missing:
                raise KeyError(
                    f'ActionTokenizerMetric needs {sorted(missing)} on each '
                    'data sample: evaluate an ActionVQVAE (predict mode)')
            self.results.append(
                dict(
                    mpjpe=float(sample['recon_mpjpe']),
                    codes=np.asarray(sample['pred_codes'], dtype=np.int64),
                    num_codes=int(sample['num_codes'])))

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        num_codes = results[0]['num_codes']
        codes = np.concatenate([r['codes'] for r in results])
        share = np.bincount(codes, minlength=num_codes) / max(len(codes), 1)
        nonzero = share[share > 0]
        sentences = [tuple(r['codes'].tolist()) for r in results]
        counts: Dict = {}
        for s in sentences:
            counts[s] = counts.get(s, 0) + 1
        return dict(
            mpjpe=float(np.mean([r['mpjpe'] for r in results])),
            perplexity=float(np.exp(-(nonzero * np.log(nonzero)).sum())),
            code_usage=float((share > 0).sum() / num_codes),
            unique_sentences=float(
                np.mean([counts[s] == 1 for s in sentences])))
