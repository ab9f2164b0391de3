# Copyright (c) mmaction-sugar contributors. All rights reserved.
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

Classes = Sequence[Union[int, str]]


@METRICS.register_module()
class ZeroShotAccMetric(BaseMetric):
    """Zero-shot and generalised zero-shot accuracy.

    Splits the test samples by whether their class is *seen* (trained on)
    or *unseen* and reports, from the models' ``pred_score`` over the whole
    label space:

    - ``unseen_top{k}``: zero-shot accuracy on the unseen-class samples,
      choosing among the unseen classes only (the standard ZSL protocol,
      e.g. NTU-60 55/5), with ``chance_top{k} = k / #unseen`` beside it;
    - ``gzsl_seen``, ``gzsl_unseen``, ``gzsl_harmonic``: generalised
      zero-shot top-1, choosing among all seen and unseen classes, on the
      seen-class and unseen-class samples, and their harmonic mean
      ``2 S U / (S + U)`` (Xian et al., TPAMI 2019). Reported when the
      test data has samples of both kinds.

    Calibrated stacking (Chao et al., ECCV 2016) subtracts ``calibration``
    from the seen classes' scores before the GZSL choice, to offset the
    bias towards classes seen in training. The model must score all
    classes for GZSL (``TextSupervisedHead(test_classes=None)``).

    Args:
        unseen_classes (Sequence[int | str]): The unseen classes, as labels
            or names of ``dataset_meta['classes']``.
        seen_classes (Sequence[int | str], optional): The seen classes.
            None means every other class of the score vector.
            Defaults to None.
        topk (Sequence[int]): The k of the zero-shot top-k accuracies;
            k > 1 that reach the number of unseen classes are skipped
            (always 100%, e.g. top-5 of a 55/5 split).
            Defaults to ``(1, 5)``.
        calibration (float): Amount subtracted from the seen classes'
            scores for GZSL. Defaults to 0.
        collect_device (str): Device for collecting results across ranks.
            Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric names.
            Defaults to ``'zsl'``.

    Example:
        >>> import torch
        >>> from mmaction.structures import ActionDataSample
        >>> metric = ZeroShotAccMetric(unseen_classes=[2, 3], topk=(1, ))
        >>> scores = torch.tensor([[.7, .1, .1, .1], [.1, .5, .3, .1],
        ...                        [.6, .1, .3, .0], [.1, .1, .5, .3]])
        >>> samples = [ActionDataSample().set_gt_label(y).set_pred_score(s)
        ...            for y, s in zip([0, 1, 2, 3], scores)]
        >>> metric.process(None, [s.to_dict() for s in samples])
        >>> {k: round(v, 3) for k, v in metric.compute_metrics(
        ...     metric.results).items()}  # doctest: +NORMALIZE_WHITESPACE
        {'unseen_top1': 0.5, 'chance_top1': 0.5, 'gzsl_seen': 1.0,
         'gzsl_unseen': 0.0, 'gzsl_harmonic': 0.0}
    """
    default_prefix = 'zsl'

    def __init__(self,
                 unseen_classes: Classes,
                 seen_classes: Optional[Classes] = None,
                 topk: Sequence[int] = (1, 5),
                 calibration: float = 0.,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not unseen_classes:
            raise ValueError('unseen_classes: expected at least one class')
        if not topk or any(int(k) < 1 for k in topk):
            raise ValueError(f'topk: expected positive ints, got {topk}')
        self.unseen_classes = list(unseen_classes)
        self.seen_classes = (None
                             if seen_classes is None else list(seen_classes))
        self.topk = tuple(int(k) for k in topk)
        self.calibration = float(calibration)

    def process(self, data_batch: Any, data_samples: Sequence[Dict]) -> None:
        """Keep the score vector and label of every sample.

        Args:
            data_batch (Any): The batch from the dataloader (unused).
            data_samples (Sequence[dict]): Outputs of the model with
                ``pred_score`` and a single ``gt_label``.
        """
        for sample in data_samples:
            label = sample['gt_label']
            if label.numel() != 1:
                raise ValueError('ZeroShotAccMetric needs single-label '
                                 f'samples, got gt_label {label.tolist()}')
            if 'score_exact_topk' in sample:
                raise ValueError(
                    'ZeroShotAccMetric re-ranks pred_score within the unseen '
                    'classes, but only its top-'
                    f'{sample["score_exact_topk"]} scores are exact '
                    "(LLMHead score_search='topk'): set "
                    "model.cls_head.score_search='exact'")
            self.results.append(
                dict(
                    pred=sample['pred_score'].detach().cpu().numpy(),
                    label=int(label.item())))

    def _labels(self, classes: Classes, field: str,
                num_classes: int) -> np.ndarray:
        """Resolve class names to labels and check them."""
        names = list((self.dataset_meta or {}).get('classes') or [])
        labels = []
        for item in classes:
            if isinstance(item, str):
                if item not in names:
                    raise ValueError(
                        f'{field}: {item!r} is not a class name of the '
                        "dataset's metainfo['classes']")
                labels.append(names.index(item))
            else:
                labels.append(int(item))
        bad = [c for c in labels if not 0 <= c < num_classes]
        if bad or len(set(labels)) != len(labels):
            raise ValueError(f'{field}: expected distinct labels in '
                             f'[0, {num_classes}), got {list(classes)}')
        return np.array(labels)

    def _splits(self, num_classes: int) -> Tuple[np.ndarray, np.ndarray]:
        """The seen and the (sorted) unseen labels."""
        unseen = self._labels(self.unseen_classes, 'unseen_classes',
                              num_classes)
        if self.seen_classes is None:
            seen = np.setdiff1d(np.arange(num_classes), unseen)
        else:
            seen = self._labels(self.seen_classes, 'seen_classes', num_classes)
            both = np.intersect1d(seen, unseen)
            if both.size:
                raise ValueError(f'classes {both.tolist()} are both seen '
                                 'and unseen')
        return seen, np.sort(unseen)

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        """Compute the zero-shot and GZSL accuracies.

        Args:
            results (list[dict]): ``pred`` (C, ) and ``label`` per sample.

        Returns:
            dict[str, float]: Accuracies in [0, 1] (see the class doc).
        """
        scores = np.stack([r['pred'] for r in results])  # (N, C)
        labels = np.array([r['label'] for r in results])  # (N, )
        seen, unseen = self._splits(scores.shape[1])
        known = np.isin(labels, np.concatenate([seen, unseen]))
        if not known.all():
            odd = np.unique(labels[~known]).tolist()
            raise ValueError(f'test samples of classes {odd}, which are '
                             'neither seen nor unseen')
        is_unseen = np.isin(labels, unseen)
        if not is_unseen.any():
            raise ValueError('no test sample of the unseen classes '
                             f'{unseen.tolist()}')
        metrics = OrderedDict()
        # zero-shot: choose among the unseen classes only
        sub = scores[is_unseen][:, unseen]  # (N_u, U), unseen sorted
        target = np.searchsorted(unseen, labels[is_unseen])
        ranked = np.argsort(-sub, axis=1, kind='stable')
        for k in self.topk:
            if k > 1 and k >= len(unseen):
                continue  # always right: nothing to measure
            hit = (ranked[:, :k] == target[:, None]).any(axis=1)
            metrics[f'unseen_top{k}'] = float(hit.mean())
            metrics[f'chance_top{k}'] = k / len(unseen)
        # generalised zero-shot: choose among seen and unseen classes
        candidates = np.concatenate([seen, unseen])
        stacked = scores[:, candidates].copy()
        stacked[:, :len(seen)] -= self.calibration
        choice = candidates[stacked.argmax(axis=1)]
        correct = choice == labels
        if (~is_unseen).any():
            acc_s = float(correct[~is_unseen].mean())
            acc_u = float(correct[is_unseen].mean())
            metrics['gzsl_seen'] = acc_s
            metrics['gzsl_unseen'] = acc_u
            metrics['gzsl_harmonic'] = (2 * acc_s * acc_u /
                                        (acc_s + acc_u) if acc_s +
                                        acc_u else 0.)
        else:
            MMLogger.get_current_instance().info(
                'ZeroShotAccMetric: no seen-class test samples, so no '
                'generalised zero-shot (GZSL) accuracies')
        return metrics
