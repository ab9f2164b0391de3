# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Map an LLM's free-form answer to one of the candidate class names.

The papers do not say how generated text becomes a class. Here, in order:

1. ``exact``: the answer starts with a candidate name (case-insensitive),
   followed by the end or a non-word character; the longest such name;
2. ``normalised``: the same after normalisation (lower case, punctuation
   to spaces, articles dropped, whitespace collapsed), first against the
   answer's first sentence, then anywhere in the answer (longest name);
3. ``embedding``: the candidate whose name embedding (a frozen sentence
   encoder) is nearest to the first sentence's, by cosine;
4. ``fallback``: without an encoder (or when its embeddings are not
   finite), the closest name by ``difflib`` similarity;
5. ``none``: the answer names no class at all: it has no words (empty,
   only punctuation or articles), or it shares no character with any
   name. The index is then :data:`NO_MATCH`.

Every answer gets an index and a rule, whatever it holds (bytes are read
as UTF-8, None as empty, anything else as ``str(answer)``), and nothing
raises; the rule tells callers how often generation was off-list. The
candidate names must tell answers apart: each has words, and no two are
equal after normalisation (:func:`check_names`).
"""
import collections.abc
import difflib
import re
from typing import Any, Callable, List, Optional, Sequence, Tuple

import torch

__all__ = ['ClassNameMatcher', 'NO_MATCH', 'check_names', 'normalize_name']

NO_MATCH = -1
"""int: The index returned, with the rule ``'none'``, for an answer that
names no class."""

_ARTICLES = {'a', 'an', 'the'}


def normalize_name(text: str) -> str:
    """Lower case, punctuation to spaces, no articles, single spaces.

    Example:
        >>> normalize_name('  The Hand-Waving (both hands)! ')
        'hand waving both hands'
    """
    words = re.sub(r'[^\w]+', ' ', text.lower()).split()
    return ' '.join(w for w in words if w not in _ARTICLES)


def first_sentence(text: str) -> str:
    """The answer up to its first full stop or line break."""
    return re.split(r'(?<=[^\s])\.(?:\s|$)|\n', text.strip(), maxsplit=1)[0]


def check_names(names: Any) -> List[str]:
    """Check that candidate names can be told apart in an answer.

    Args:
        names (Sequence[str]): The candidate class names.

    Returns:
        list[str]: The names.

    Raises:
        ValueError: If ``names`` is a single string or empty, a name is
            not a string, has no words after normalisation (e.g. ``''``,
            ``'!!!'``, ``'the'``), or equals another one after
            normalisation (e.g. ``'Sit down'`` and ``'sit-down'``).

    Example:
        >>> check_names(['sit down', 'Sit-down'])
        Traceback (most recent call last):
        ...
        ValueError: candidate names 0 ('sit down') and 1 ('Sit-down') are ...
    """
    if isinstance(names, (str, bytes)) or not isinstance(
            names, collections.abc.Sequence):
        raise ValueError('candidate names must be a list of strings, got '
                         f'{type(names).__name__}')
    if not names:
        raise ValueError('candidate names: expected at least one name')
    first = {}
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise ValueError(f'candidate name {i}: expected a string, got '
                             f'{type(name).__name__} {name!r}')
        key = normalize_name(name)
        if not key:
            raise ValueError(f'candidate name {i} ({name!r}) has no words '
                             'after normalisation: no answer can name it')
        if key in first:
            j = first[key]
            raise ValueError(
                f'candidate names {j} ({names[j]!r}) and {i} ({name!r}) are '
                f'the same after normalisation ({key!r}): an answer cannot '
                'tell them apart')
        first[key] = i
    return list(names)


class ClassNameMatcher:
    """Maps generated text to candidate class names, never failing.

    Args:
        names (Sequence[str]): The candidate class names, checked by
            :func:`check_names`.
        embed (Callable, optional): Maps a list of strings to L2-normalised
            embeddings (K, D), e.g. a ``FrozenTextEncoder``. Defaults to
            None (``difflib`` fallback).

    Example:
        >>> m = ClassNameMatcher(['sit down', 'sitting down', 'jump up'])
        >>> m('Sitting down. A person lowers the hips onto a chair.')
        (1, 'exact')
        >>> m('the person is jumping up high')
        (2, 'fallback')
        >>> m(''), m('...'), m('zzz')
        ((-1, 'none'), (-1, 'none'), (-1, 'none'))
    """

    def __init__(self,
                 names: Sequence[str],
                 embed: Optional[Callable[[List[str]], torch.Tensor]] = None):
        self.names = check_names(names)
        self.lower = [n.lower().strip() for n in self.names]
        self.normal = [normalize_name(n) for n in self.names]
        self.embed = embed
        self._name_embeds = None

    def _longest(self, hits: List[int]) -> Optional[int]:
        return max(hits, key=lambda i: len(self.lower[i])) if hits else None

    def _nearest(self, sentence: str) -> Optional[int]:
        """The name nearest by embedding; None if the embeddings are not
        finite."""
        if self._name_embeds is None:
            embeds = self.embed(self.names)
            if embeds.dim() != 2 or len(embeds) != len(self.names):
                raise ValueError(
                    f'the embedding function gave shape {tuple(embeds.shape)}'
                    f' for {len(self.names)} names: expected (K, D)')
            self._name_embeds = embeds
        query = self.embed([sentence])
        if tuple(query.shape) != (1, self._name_embeds.shape[1]):
            raise ValueError(
                f'the embedding function gave shape {tuple(query.shape)} for '
                f'one answer: expected (1, {self._name_embeds.shape[1]})')
        sims = (query @ self._name_embeds.T)[0]  # (K, )
        return int(sims.argmax()) if torch.isfinite(sims).all() else None

    def __call__(self, text: Any) -> Tuple[int, str]:
        """The index of the matched name and the rule that matched.

        Args:
            text (str): The generated answer (bytes are decoded as UTF-8,
                None is empty, anything else is read as ``str(text)``).

        Returns:
            tuple[int, str]: Index into ``names`` and one of ``'exact'``,
            ``'normalised'``, ``'embedding'``, ``'fallback'``; or
            :data:`NO_MATCH` and ``'none'`` when the answer names no class.
        """
        if isinstance(text, bytes):
            text = text.decode('utf-8', errors='replace')
        text = '' if text is None else text
        text = text if isinstance(text, str) else str(text)
        if not normalize_name(text):
            return NO_MATCH, 'none'
        low = text.lower().strip()
        hit = self._longest([
            i for i, n in enumerate(self.lower)
            if n and low.startswith(n) and not low[len(n):len(n) +
                                                   1].isalnum()
        ])
        if hit is not None:
            return hit, 'exact'
        head = normalize_name(first_sentence(text))
        whole = f' {normalize_name(text)} '
        for pool in ([i for i, n in enumerate(self.normal) if n == head], [
                i for i, n in enumerate(self.normal) if n and f' {n} ' in whole
        ]):
            hit = self._longest(pool)
            if hit is not None:
                return hit, 'normalised'
        sentence = first_sentence(text) or text
        if self.embed is not None and sentence.strip():
            hit = self._nearest(sentence)
            if hit is not None:
                return hit, 'embedding'
        # the first sentence, or the whole answer when that has no words
        query = head or normalize_name(text)
        ratios = [
            difflib.SequenceMatcher(None, query, n).ratio()
            for n in self.normal
        ]
        best = max(range(len(ratios)), key=ratios.__getitem__)
        return (best, 'fallback') if ratios[best] > 0 else (NO_MATCH, 'none')
