# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Cached embeddings of every class's bag of texts.

SUGAR's MIL-NCE loss compares a skeleton embedding with the embeddings of
all the description texts of each class (see
:meth:`~mmaction_sugar.datasets.ActionClass.texts`). The text encoder is
frozen, so those embeddings are computed once by
:func:`build_class_text_bank` and stored in a
:class:`ClassTextBank`; training steps only index the bank and never run
the text encoder.

The bank is cached as ``{cache_dir}/{key}.safetensors`` where the key is a
SHA-256 of the encoder fingerprint (see
:func:`~.frozen_text_encoder.encoder_fingerprint`), the knowledge's
:meth:`~mmaction_sugar.datasets.ActionKnowledge.content_hash`, the
``include_summary`` flag and :data:`FORMAT_VERSION`. A cache hit neither
builds nor loads the text encoder. The file holds two tensors,
``embeddings`` (float32, (C, B, D)) and ``mask`` (bool, (C, B)), and the
metadata entries ``format`` (:data:`FORMAT_NAME`), ``version`` and
``bank`` (JSON with the key, encoder fingerprint, knowledge hash,
``include_summary``, class names and texts).
"""
import contextlib
import dataclasses
import hashlib
import inspect
import json
import logging
import os
import os.path as osp
import tempfile
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor

from .frozen_text_encoder import FrozenTextEncoder, encoder_fingerprint

FORMAT_NAME = 'mmaction_sugar.ClassTextBank'
"""str: The ``format`` metadata entry of a cache file."""

FORMAT_VERSION = 1
"""int: The version of the cache file layout; part of the cache key."""

DEFAULT_CACHE_DIR = osp.join('.cache', 'mmaction_sugar', 'text_bank')
"""str: The default cache folder, relative to the working directory."""

logger = logging.getLogger(__name__)


class TextBankCacheWarning(UserWarning):
    """A cache file that cannot be used (it is rebuilt) or written."""


def _validate(embeddings: Any, mask: Any, class_names: Sequence[str],
              texts: Optional[Sequence[Sequence[str]]]) -> None:
    """Raise a ValueError unless the bank fields are consistent."""
    if not isinstance(embeddings, Tensor) or embeddings.dim() != 3:
        raise ValueError('embeddings must be a (C, B, D) tensor, got '
                         f'{getattr(embeddings, "shape", type(embeddings))}')
    if not embeddings.is_floating_point():
        raise ValueError('embeddings must be floating point, got '
                         f'{embeddings.dtype}')
    if not isinstance(mask, Tensor) or mask.dtype != torch.bool:
        raise ValueError('mask must be a bool tensor, got '
                         f'{getattr(mask, "dtype", type(mask))}')
    if tuple(mask.shape) != tuple(embeddings.shape[:2]):
        raise ValueError(f'mask shape {tuple(mask.shape)} does not match the '
                         f'(C, B) of embeddings {tuple(embeddings.shape)}')
    num_classes = embeddings.shape[0]
    if num_classes == 0 or embeddings.shape[1] == 0:
        raise ValueError('a bank needs at least one class and one text, got '
                         f'embeddings {tuple(embeddings.shape)}')
    if len(class_names) != num_classes:
        raise ValueError(f'{len(class_names)} class names for '
                         f'{num_classes} classes')
    empty = (~mask.any(dim=1)).nonzero().flatten().tolist()
    if empty:
        raise ValueError(f'classes without texts: {empty[:10]}')
    if texts is not None:
        if len(texts) != num_classes:
            raise ValueError(f'{len(texts)} bags of texts for '
                             f'{num_classes} classes')
        counts = mask.sum(dim=1).tolist()
        for i, (bag, count) in enumerate(zip(texts, counts)):
            if len(bag) != count:
                raise ValueError(f'class {i} ({class_names[i]!r}) has '
                                 f'{len(bag)} texts but {count} masked-in '
                                 'embeddings')


@dataclasses.dataclass(frozen=True, eq=False)
class ClassTextBank:
    """The text embeddings of every class's bag of texts.

    Bags have different sizes, so they are padded to the largest, ``B``;
    ``mask`` tells the real texts from the padding (zeros). Build one with
    :func:`build_class_text_bank`.

    Args:
        embeddings (Tensor): (C, B, D) float text embeddings, C classes in
            label order, each row L2-normalised where ``mask`` is True.
        mask (Tensor): (C, B) bool, True for the real texts. Every class
            has at least one.
        class_names (List[str]): The C class names in label order.
        key (str): The cache key the bank was built under (a derived key
            for a :meth:`subset`). Defaults to ``''``.
        texts (List[List[str]], optional): Each class's texts, in the
            order of the masked-in rows. Defaults to None (unknown).

    Raises:
        ValueError: If the shapes, dtypes or counts disagree, or a class
            has no text.

    Example:
        >>> import torch
        >>> from mmaction_sugar.models.text_encoders import ClassTextBank
        >>> emb = torch.eye(3).repeat(2, 1).view(2, 3, 3)
        >>> bank = ClassTextBank(
        ...     emb, torch.tensor([[True, True, False], [True, True, True]]),
        ...     ['wave', 'sit'])
        >>> bank.num_classes, bank.bag_size, bank.embed_dim
        (2, 3, 3)
        >>> bank.class_means()
        tensor([[0.7071, 0.7071, 0.0000],
                [0.5774, 0.5774, 0.5774]])
        >>> bank.sample(torch.Generator().manual_seed(0)).shape
        torch.Size([2, 3])
        >>> bank.subset([1]).class_names
        ['sit']
    """

    embeddings: Tensor
    mask: Tensor
    class_names: List[str]
    key: str = ''
    texts: Optional[List[List[str]]] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, 'class_names', list(self.class_names))
        if self.texts is not None:
            object.__setattr__(self, 'texts',
                               [list(bag) for bag in self.texts])
        _validate(self.embeddings, self.mask, self.class_names, self.texts)

    @property
    def num_classes(self) -> int:
        """int: The number of classes C."""
        return self.embeddings.shape[0]

    @property
    def bag_size(self) -> int:
        """int: The padded bag size B."""
        return self.embeddings.shape[1]

    @property
    def embed_dim(self) -> int:
        """int: The embedding size D."""
        return self.embeddings.shape[2]

    @property
    def device(self) -> torch.device:
        """torch.device: Where the tensors are."""
        return self.embeddings.device

    def __len__(self) -> int:
        return self.num_classes

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_classes={self.num_classes}, '
                f'bag_size={self.bag_size}, embed_dim={self.embed_dim}, '
                f'key={self.key[:16]!r})')

    def counts(self) -> Tensor:
        """The number of real texts of each class.

        Returns:
            Tensor: (C, ) long.
        """
        return self.mask.sum(dim=1)

    def class_means(self) -> Tensor:
        """The L2-normalised mean of each class's real text embeddings.

        Returns:
            Tensor: (C, D), on the bank's device.
        """
        weights = self.mask.to(self.embeddings.dtype).unsqueeze(-1)
        total = (self.embeddings * weights).sum(dim=1)
        return F.normalize(total / weights.sum(dim=1), dim=-1)

    def sample(self,
               generator: Optional[torch.Generator] = None,
               return_index: bool = False
               ) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        """One random real text embedding per class.

        The paper combines the texts of each class at random at every
        step; this draws one of each class's real texts uniformly.

        Args:
            generator (torch.Generator, optional): The random source; it
                may be on another device than the bank. Defaults to None
                (the global one).
            return_index (bool): Whether to also return the drawn bag
                positions. Defaults to False.

        Returns:
            Tensor | tuple[Tensor, Tensor]: (C, D) embeddings, and with
            ``return_index`` also the (C, ) long positions in the bag (each
            masked in).
        """
        counts = self.counts()
        rand_device = (generator.device
                       if generator is not None else self.device)
        rand = torch.rand(
            self.num_classes, generator=generator,
            device=rand_device).to(self.device)
        rank = torch.minimum((rand * counts).long(), counts - 1)
        # The position of the rank-th real text (masks need not be
        # prefixes).
        order = self.mask.long().cumsum(dim=1) - 1
        hit = self.mask & (order == rank.unsqueeze(1))
        index = hit.long().argmax(dim=1)
        rows = torch.arange(self.num_classes, device=self.device)
        chosen = self.embeddings[rows, index]
        return (chosen, index) if return_index else chosen

    def subset(self, indices: Union[Sequence[Union[int, str]],
                                    Tensor]) -> 'ClassTextBank':
        """The bank of some classes, in a new label order.

        Args:
            indices (Sequence[int | str] | Tensor): Labels (or class names)
                of the classes to keep, in the new order.

        Returns:
            ClassTextBank: The selected classes, their bags trimmed to the
            largest selected bag; ``key`` derived from this key and the
            indices.

        Raises:
            KeyError: On an unknown class name.
            IndexError: On a label out of range.
        """
        if isinstance(indices, Tensor):
            indices = indices.flatten().tolist()
        labels = []
        for item in indices:
            if isinstance(item, str):
                if item not in self.class_names:
                    raise KeyError(f'no class named {item!r} in the bank')
                item = self.class_names.index(item)
            item = int(item)
            if not -self.num_classes <= item < self.num_classes:
                raise IndexError(f'class index {item} out of range for '
                                 f'{self.num_classes} classes')
            labels.append(item % self.num_classes)
        if not labels:
            raise ValueError('subset: expected at least one class')
        select = torch.tensor(labels, device=self.device)
        mask = self.mask[select]
        width = int(mask.any(dim=0).nonzero().max()) + 1
        digest = hashlib.sha256(
            json.dumps(labels).encode('ascii')).hexdigest()[:16]
        return ClassTextBank(
            embeddings=self.embeddings[select, :width].clone(),
            mask=mask[:, :width].clone(),
            class_names=[self.class_names[i] for i in labels],
            key=f'{self.key}/subset-{digest}',
            texts=(None if self.texts is None else
                   [list(self.texts[i]) for i in labels]))

    def to(self, device: Union[str, torch.device]) -> 'ClassTextBank':
        """The bank with its tensors on ``device``.

        Args:
            device (str | torch.device): The target device.

        Returns:
            ClassTextBank: A new bank (``self`` if already there).
        """
        device = torch.device(device)
        if self.embeddings.device == device and self.mask.device == device:
            return self
        return dataclasses.replace(
            self,
            embeddings=self.embeddings.to(device),
            mask=self.mask.to(device))


# The arguments and defaults of FrozenTextEncoder, read once.
_ENCODER_PARAMS = dict(
    inspect.signature(FrozenTextEncoder.__init__).parameters)


def _is_frozen_text_encoder_type(type_: Any) -> bool:
    if type_ is FrozenTextEncoder:
        return True
    return (isinstance(type_, str)
            and type_.split('.')[-1] == FrozenTextEncoder.__name__)


def _config_fingerprint(cfg: Dict[str, Any]) -> Optional[str]:
    """The fingerprint of a FrozenTextEncoder config, without building.

    Returns None for another type (which must then be built).
    """
    if not _is_frozen_text_encoder_type(cfg.get('type')):
        return None
    params = _ENCODER_PARAMS
    unknown = sorted(set(cfg) - set(params) - {'type', 'self'})
    if unknown:
        raise TypeError(f'unknown FrozenTextEncoder arguments {unknown} in '
                        f'{cfg!r}; expected {", ".join(list(params)[1:])}')

    def arg(name):
        return cfg.get(name, params[name].default)

    return encoder_fingerprint(
        arg('model_path'), arg('kind'), arg('max_length'))


def class_text_bank_key(fingerprint: str, content_hash: str,
                        include_summary: bool = False) -> str:
    """The cache key of a bank.

    Args:
        fingerprint (str): The encoder fingerprint.
        content_hash (str): The knowledge's ``content_hash()``.
        include_summary (bool): Whether the bags hold the summaries.
            Defaults to False.

    Returns:
        str: 64 hex digits (SHA-256).
    """
    canonical = json.dumps(
        dict(
            format=FORMAT_NAME,
            version=FORMAT_VERSION,
            encoder=fingerprint,
            knowledge=content_hash,
            include_summary=bool(include_summary)),
        sort_keys=True)
    return hashlib.sha256(canonical.encode('utf-8')).hexdigest()


def _load_cached(path: str, key: str, class_names: List[str],
                 texts: List[List[str]]) -> ClassTextBank:
    """Read and check a cache file; raise on any problem."""
    from safetensors import safe_open
    with safe_open(path, framework='pt', device='cpu') as f:
        meta = f.metadata() or {}
        names = set(f.keys())
        if names != {'embeddings', 'mask'}:
            raise ValueError(f'tensors {sorted(names)}, expected '
                             "['embeddings', 'mask']")
        embeddings = f.get_tensor('embeddings')
        mask = f.get_tensor('mask')
    if meta.get('format') != FORMAT_NAME:
        raise ValueError(f'format {meta.get("format")!r}, expected '
                         f'{FORMAT_NAME!r}')
    if meta.get('version') != str(FORMAT_VERSION):
        raise ValueError(f'version {meta.get("version")!r}, expected '
                         f'{str(FORMAT_VERSION)!r}')
    info = json.loads(meta.get('bank', 'null'))
    if not isinstance(info, dict):
        raise ValueError('no bank metadata')
    if info.get('key') != key:
        raise ValueError(f'key {info.get("key")!r} in the metadata')
    if info.get('class_names') != class_names:
        raise ValueError('class names disagree with the knowledge')
    if info.get('texts') != texts:
        raise ValueError('texts disagree with the knowledge')
    if embeddings.dtype != torch.float32:
        raise ValueError(f'embeddings dtype {embeddings.dtype}')
    bank = ClassTextBank(embeddings, mask, class_names, key, texts)
    counts = bank.counts().tolist()
    if counts != [len(bag) for bag in texts]:
        raise ValueError('mask counts disagree with the knowledge')
    real = embeddings[mask]
    if not torch.isfinite(real).all() or not torch.allclose(
            real.norm(dim=-1), torch.ones(len(real)), atol=1e-3):
        raise ValueError('embeddings are not finite unit vectors')
    return bank


def _save_atomic(bank: ClassTextBank, path: str,
                 info: Dict[str, Any]) -> None:
    """Write the bank to ``path`` through a temporary file and a rename."""
    from safetensors.torch import save_file
    folder = osp.dirname(path) or '.'
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix='.' + osp.basename(path) + '.', suffix='.tmp', dir=folder)
    os.close(fd)
    try:
        save_file(
            dict(
                embeddings=bank.embeddings.detach().cpu().contiguous(),
                mask=bank.mask.cpu().contiguous()),
            tmp,
            metadata=dict(
                format=FORMAT_NAME,
                version=str(FORMAT_VERSION),
                bank=json.dumps(info, ensure_ascii=False)))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def build_class_text_bank(knowledge,
                          encoder_cfg_or_encoder=None,
                          cache_dir: Optional[str] = DEFAULT_CACHE_DIR,
                          include_summary: bool = False) -> ClassTextBank:
    """Embed every class's texts, or load them from the cache.

    The cache file is ``{cache_dir}/{key}.safetensors`` (see
    :func:`class_text_bank_key`). On a hit the text encoder is neither
    built nor loaded (for a config of type ``FrozenTextEncoder`` the
    fingerprint comes from the config and the model folder's file list).
    On a miss the encoder is built, all texts are encoded in one call and
    the file is written atomically (a temporary file in ``cache_dir``,
    then ``os.replace``). A cache file that cannot be read or disagrees
    with the knowledge is reported with a :class:`TextBankCacheWarning`
    and rebuilt; a cache that cannot be written only warns.

    Args:
        knowledge (ActionKnowledge | str): The classes and their texts, or
            a name or path for
            :meth:`~mmaction_sugar.datasets.ActionKnowledge.load`.
        encoder_cfg_or_encoder (dict | FrozenTextEncoder, optional): A
            config for ``MODELS.build`` or a built encoder (anything with
            ``encode(texts)`` and ``fingerprint()``). Defaults to None
            (``dict(type='FrozenTextEncoder')``, the bundled
            all-MiniLM-L6-v2).
        cache_dir (str, optional): The cache folder, created if needed.
            Defaults to :data:`DEFAULT_CACHE_DIR`
            (``.cache/mmaction_sugar/text_bank`` under the working
            directory). None disables the cache.
        include_summary (bool): Whether each bag also holds the class
            summary (see
            :meth:`~mmaction_sugar.datasets.ActionClass.texts`). Defaults
            to False.

    Returns:
        ClassTextBank: (C, B, D) embeddings on the CPU, C classes in label
        order, B the largest bag.

    Example:
        >>> import tempfile
        >>> import torch
        >>> from mmaction_sugar.datasets import ActionKnowledge
        >>> from mmaction_sugar.models.text_encoders import (
        ...     build_class_text_bank)
        >>> knowledge = ActionKnowledge.load('synth_ntu')
        >>> cfg = dict(type='FrozenTextEncoder')  # bundled MiniLM
        >>> with tempfile.TemporaryDirectory() as cache_dir:
        ...     bank = build_class_text_bank(knowledge, cfg, cache_dir)
        ...     # The second call reads the file, without the encoder.
        ...     cached = build_class_text_bank(knowledge, cfg, cache_dir)
        >>> bank.embeddings.shape, bank.mask.shape
        (torch.Size([32, 5, 384]), torch.Size([32, 5]))
        >>> torch.equal(bank.embeddings, cached.embeddings)
        True
        >>> bank.texts[0][0] == knowledge[0].motion_text()
        True
    """
    if isinstance(knowledge, (str, os.PathLike)):
        from mmaction_sugar.datasets import ActionKnowledge
        knowledge = ActionKnowledge.load(knowledge)
    class_names = list(knowledge.class_names)
    texts = [list(c.texts(include_summary)) for c in knowledge.classes]

    encoder = None
    if encoder_cfg_or_encoder is None:
        encoder_cfg_or_encoder = dict(type='FrozenTextEncoder')
    if isinstance(encoder_cfg_or_encoder, dict):
        cfg = dict(encoder_cfg_or_encoder)
        fingerprint = _config_fingerprint(cfg)
        if fingerprint is None:
            encoder = MODELS.build(cfg)
    else:
        encoder = encoder_cfg_or_encoder
    if encoder is not None:
        if not callable(getattr(encoder, 'fingerprint', None)):
            raise TypeError(f'{type(encoder).__name__} has no fingerprint() '
                            'to key the cache with')
        fingerprint = encoder.fingerprint()
    content_hash = knowledge.content_hash()
    key = class_text_bank_key(fingerprint, content_hash, include_summary)

    path = None
    if cache_dir is not None:
        path = osp.join(os.fspath(cache_dir), key + '.safetensors')
        if osp.exists(path):
            try:
                bank = _load_cached(path, key, class_names, texts)
            except Exception as error:  # Any corruption: rebuild.
                warnings.warn(
                    f'text-bank cache file {path} is unusable '
                    f'({type(error).__name__}: {error}); rebuilding it',
                    TextBankCacheWarning,
                    stacklevel=2)
            else:
                logger.info('loaded the class-text bank from %s', path)
                return bank

    if encoder is None:
        encoder = MODELS.build(cfg)
    flat = [text for bag in texts for text in bag]
    with torch.no_grad():
        encoded = encoder.encode(flat)
    encoded = encoded.detach().float().cpu()
    if encoded.dim() != 2 or encoded.shape[0] != len(flat):
        raise ValueError(f'{type(encoder).__name__}.encode returned '
                         f'{tuple(encoded.shape)} for {len(flat)} texts')
    encoded = F.normalize(encoded, dim=-1)
    counts = [len(bag) for bag in texts]
    embeddings = encoded.new_zeros(len(texts), max(counts), encoded.shape[1])
    mask = torch.zeros(len(texts), max(counts), dtype=torch.bool)
    start = 0
    for i, count in enumerate(counts):
        embeddings[i, :count] = encoded[start:start + count]
        mask[i, :count] = True
        start += count
    bank = ClassTextBank(embeddings, mask, class_names, key, texts)

    if path is not None:
        info = dict(
            key=key,
            encoder=fingerprint,
            knowledge=content_hash,
            include_summary=bool(include_summary),
            class_names=class_names,
            texts=texts)
        try:
            _save_atomic(bank, path, info)
        except OSError as error:
            warnings.warn(
                f'cannot write the text-bank cache file {path} ({error}); '
                'the bank is used without caching',
                TextBankCacheWarning,
                stacklevel=2)
        else:
            logger.info('wrote the class-text bank to %s', path)
    return bank
