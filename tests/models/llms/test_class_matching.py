# Copyright (c) mmaction-sugar contributors. All rights reserved.
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mmaction_sugar.models.llms.class_matching import (NO_MATCH,
                                                       ClassNameMatcher,
                                                       check_names,
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
    for odd in ['', '   ', '\n\n', '!!!', 'x' * 10000, '123', 42, b'', None]:
        assert plain(odd) == (NO_MATCH, 'none')  # names no class
    for odd in ['zzz sitt', b'jump']:
        index, rule = plain(odd)
        assert 0 <= index < len(NAMES) and rule in ('exact', 'fallback')


@pytest.mark.parametrize('names,message', [
    (['sit down', 'jump up', 'sit down'],
     r"candidate names 0 \('sit down'\) and 2 \('sit down'\) are the same"),
    (['Sit down', 'sit-down!'], r"same after normalisation \('sit down'\)"),
    (['jump up', ''], r"candidate name 1 \(''\) has no words"),
    (['jump up', ' . '], r"candidate name 1 \(' \. '\) has no words"),
    (['the', 'jump up'], r"candidate name 0 \('the'\) has no words"),
    (['jump up', None], 'candidate name 1: expected a string, got NoneType'),
    ('jump up', 'must be a list of strings, got str'),
    ([], 'expected at least one name'),
])
def test_candidate_names_that_answers_cannot_tell_apart(names, message):
    with pytest.raises(ValueError, match=message):
        ClassNameMatcher(names)


def test_a_broken_embedding_function_is_reported_or_bypassed():
    nan = ClassNameMatcher(
        NAMES, lambda texts: torch.full((len(texts), 4), float('nan')))
    assert nan('a vigorous leap upward') == (2, 'fallback')  # difflib
    wrong = ClassNameMatcher(NAMES, lambda texts: torch.ones(len(texts) + 1,
                                                             4))
    with pytest.raises(ValueError, match=r'gave shape \(6, 4\) for 5 names'):
        wrong('a vigorous leap')


# Property-based: any answer maps to a valid index or to NO_MATCH.

PROPERTY = settings(max_examples=300, deadline=None, database=None)


def distinct(names):
    try:
        check_names(names)
    except ValueError:
        return False
    return True


name_lists = st.lists(st.text(min_size=1, max_size=24), min_size=1,
                      max_size=6)


def fake_embed(kind):
    if kind == 'none':
        return None
    if kind == 'nan':
        return lambda texts: torch.full((len(texts), 3), float('nan'))
    # a deterministic embedding of the text's length and vowels
    return lambda texts: torch.nn.functional.normalize(
        torch.tensor([[len(t) + 1.0, sum(c in 'aeiou' for c in t), 1.0]
                      for t in texts]), dim=-1)


@PROPERTY
@given(name_lists)
def test_property_names_are_accepted_or_refused_clearly(names):
    try:
        assert check_names(names) == names
    except ValueError as error:
        assert str(error).startswith('candidate name')


@PROPERTY
@given(name_lists.filter(distinct), st.text(max_size=200),
       st.sampled_from(['none', 'nan', 'cosine']))
def test_property_any_answer_maps_to_a_class_or_no_match(names, text, kind):
    index, rule = ClassNameMatcher(names, fake_embed(kind))(text)
    if rule == 'none':
        assert index == NO_MATCH
        assert kind != 'cosine' or not normalize_name(text)
    else:
        assert 0 <= index < len(names)
        assert rule in ('exact', 'normalised', 'embedding', 'fallback')


@PROPERTY
@given(name_lists.filter(distinct), st.data())
def test_property_a_name_maps_to_itself(names, data):
    k = data.draw(st.integers(0, len(names) - 1))
    assert ClassNameMatcher(names)(names[k]) == (k, 'exact')
