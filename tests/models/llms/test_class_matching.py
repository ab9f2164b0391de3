# Copyright (c) mmaction-sugar contributors. All rights reserved.
import torch

from mmaction_sugar.models.llms.class_matching import (ClassNameMatcher,
                                                       normalize_name)

NAMES = [
    'sit down', 'sitting down', 'jump up', 'hand waving',
    'punching/slapping other person'
]


def test_exact_prefers_the_longest_name_at_a_word_boundary():
    m = ClassNameMatcher(NAMES)
    assert m('sitting down. The hips lower.') == (1, 'exact')
    assert m('Sit down, then rest') == (0, 'exact')
    assert m('jump upward')[1] != 'exact'  # no word boundary


def test_normalised_matches_punctuation_case_and_articles():
    m = ClassNameMatcher(NAMES)
    assert m('Punching / slapping other person!') == (4, 'normalised')
    assert m('I think it is the hand-waving action.') == (3, 'normalised')
    assert normalize_name('The  Jump-Up') == 'jump up'


def test_embedding_then_difflib_never_fail():
    calls = []

    def embed(texts):
        calls.append(list(texts))
        out = torch.zeros(len(texts), len(NAMES))
        for i, t in enumerate(texts):
            out[i, 2 if 'leap' in t or 'jump' in t else 0] = 1.0
        return out

    m = ClassNameMatcher(NAMES, embed)
    assert m('a vigorous leap') == (2, 'embedding')
    assert calls[0] == NAMES  # names embedded once
    m('another leap')
    assert len(calls) == 3
    plain = ClassNameMatcher(NAMES)
    for odd in ['', '   ', '\n\n', '!!!', 'x' * 10000, '123', None, 42]:
        index, rule = plain(odd)
        assert 0 <= index < len(NAMES) and rule == 'fallback'
