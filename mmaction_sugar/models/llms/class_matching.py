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
4. ``fallback``: without an encoder, the closest name by
   ``difflib`` similarity.

Every answer maps to a class, an empty one included; the rule used is
returned with it so callers can report how often generation was off-list.
"""
import difflib
import re
from typing import Callable, List, Optional, Sequence, Tuple

import torch

__all__ = ['ClassNameMatcher', 'normalize_name']

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


class ClassNameMatcher:
    """Maps generated text to candidate class names, never failing.

    Args:
        names (Sequence[str]): The candidate class names.
        embed (Callable, optional): Maps a list of strings to L2-normalised
            embeddings (K, D), e.g. a ``FrozenTextEncoder``. Defaults to
            None (``difflib`` fallback).

    Example:
        >>> m = ClassNameMatcher(['sit down', 'sitting down', 'jump up'])
        >>> m('Sitting down. A person lowers the hips onto a chair.')
        (1, 'exact')
        >>> m('the person is jumping up high')
        (2, 'fallback')
        >>> m('')[1]
        'fallback'
    """

    def __init__(self,
                 names: Sequence[str],
                 embed: Optional[Callable[[List[str]], torch.Tensor]] = None):
        if not names:
            raise ValueError('ClassNameMatcher needs at least one name')
        self.names = list(names)
        self.lower = [n.lower().strip() for n in self.names]
        self.normal = [normalize_name(n) for n in self.names]
        self.embed = embed
        self._name_embeds = None

    def _longest(self, hits: List[int]) -> Optional[int]:
        return max(hits, key=lambda i: len(self.lower[i])) if hits else None

    def __call__(self, text: str) -> Tuple[int, str]:
        """The index of the matched name and the rule that matched.

        Args:
            text (str): The generated answer.

        Returns:
            tuple[int, str]: Index into ``names`` and one of ``'exact'``,
            ``'normalised'``, ``'embedding'``, ``'fallback'``.
        """
        text = text if isinstance(text, str) else str(text)
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
            if self._name_embeds is None:
                self._name_embeds = self.embed(self.names)
            query = self.embed([sentence])
            sims = query @ self._name_embeds.T
            return int(sims.argmax()), 'embedding'
        ratios = [
            difflib.SequenceMatcher(None, head, n).ratio() for n in self.normal
        ]
        return max(range(len(ratios)), key=ratios.__getitem__), 'fallback'
