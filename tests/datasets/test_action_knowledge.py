# Copyright (c) mmaction-sugar contributors. All rights reserved.
import copy
import json
import os.path as osp

import pytest

from mmaction_sugar.datasets import action_knowledge as ak
from mmaction_sugar.datasets.action_knowledge import (BODY_PARTS, BUNDLED,
                                                      ActionClass,
                                                      ActionKnowledge,
                                                      KnowledgeError,
                                                      UnknownClassError)
from mmaction_sugar.datasets.synthetic import (SYNTH_NTU_CLASSES,
                                               SYNTH_NTU_NTU120_INDEX,
                                               SYNTH_NTU_TWO_PERSON_LABELS)

COUNTS = dict(
    ntu120=120, ntu60=60, pku_mmd=51, toyota_smarthome=31, synth_ntu=32)


@pytest.fixture(scope='module')
def ntu120():
    return ActionKnowledge.load('ntu120')


@pytest.fixture(scope='module')
def ntu120_data():
    with open(osp.join(ak.KNOWLEDGE_DIR, 'ntu120.json'),
              encoding='utf-8') as f:
        return json.load(f)


@pytest.fixture
def mini(ntu120_data):
    """A valid full file with the first 3 NTU-120 classes (JSON data)."""
    data = copy.deepcopy(ntu120_data)
    data['dataset'] = 'mini'
    data['classes'] = data['classes'][:3]
    return data


def write(path, data):
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(data, f, indent=2)
    return str(path)


def raises(path, *parts):
    """Load ``path`` and check the message names each of ``parts``."""
    with pytest.raises(KnowledgeError) as info:
        ActionKnowledge.load(path)
    message = str(info.value)
    for part in (str(path), ) + parts:
        assert part in message, (part, message)
    return message


# Bundled files


@pytest.mark.parametrize('name', BUNDLED)
def test_bundled_files_load(name):
    knowledge = ActionKnowledge.load(name)
    assert len(knowledge) == COUNTS[name]
    assert knowledge.dataset == name
    assert knowledge.path == osp.join(ak.KNOWLEDGE_DIR, name + '.json')
    assert [c.index for c in knowledge] == list(range(COUNTS[name]))
    assert len(set(knowledge.class_names)) == COUNTS[name]
    for cls in knowledge:
        assert isinstance(cls, ActionClass)
        assert tuple(cls.motion) == BODY_PARTS
        assert len(cls.visual) >= ak.MIN_VISUAL_BUNDLED
        assert cls.persons in (1, 2)
        assert cls.summary.strip()


def test_bundled_list_matches_folder():
    assert set(COUNTS) == set(BUNDLED)
    for name in BUNDLED:
        assert osp.isfile(osp.join(ak.KNOWLEDGE_DIR, name + '.json'))


def test_synth_ntu_matches_the_dataset(ntu120):
    synth = ActionKnowledge.load('synth_ntu')
    assert synth.class_names == SYNTH_NTU_CLASSES
    assert synth.parent_path == ntu120.path
    for label, index in enumerate(SYNTH_NTU_NTU120_INDEX):
        parent = ntu120[index - 1]
        assert synth[label] == ActionClass(**{
            **parent.to_dict(), 'index': label
        })
        assert synth[label].texts() == parent.texts()
        expected = 2 if label in SYNTH_NTU_TWO_PERSON_LABELS else 1
        assert synth[label].persons == expected


def test_ntu60_is_the_first_60_ntu120_classes(ntu120):
    ntu60 = ActionKnowledge.load('ntu60')
    assert ntu60.class_names == ntu120.class_names[:60]
    assert ntu60.classes == ntu120.classes[:60]
    assert ntu60.content_hash() == ntu120.subset(
        ntu120.class_names[:60]).content_hash()


@pytest.mark.parametrize('name', ['ntu60', 'synth_ntu'])
def test_subset_files_hold_no_text(name):
    with open(osp.join(ak.KNOWLEDGE_DIR, name + '.json'),
              encoding='utf-8') as f:
        data = json.load(f)
    assert sorted(data) == ['classes', 'dataset', 'description', 'subset_of']
    assert data['subset_of'] == 'ntu120.json'
    assert all(isinstance(name, str) for name in data['classes'])


# Lookup and texts


def test_lookup(ntu120):
    assert ntu120[12].name == 'tear up paper'
    assert ntu120[-1] is ntu120[119]
    assert ntu120.by_name('tear up paper') is ntu120[12]
    assert ntu120.index_of('drink water') == 0
    assert 'drink water' in ntu120 and 'drink beer' not in ntu120
    with pytest.raises(IndexError):
        ntu120[120]
    with pytest.raises(UnknownClassError) as info:
        ntu120.by_name('tear up papers')
    assert isinstance(info.value, KeyError)
    message = str(info.value)
    assert message.startswith(ntu120.path + ': ')
    assert "'tear up papers'" in message and "'tear up paper'" in message
    with pytest.raises(KnowledgeError, match='close matches'):
        ntu120.index_of('drink watr')


def test_motion_text(ntu120):
    cls = ntu120.by_name('drink water')
    text = cls.motion_text()
    pieces = text.split('; ')
    assert [p.split()[0] for p in pieces] == list(BODY_PARTS)
    assert pieces[0] == 'head ' + cls.motion['head']
    assert text == '; '.join(f'{p} {cls.motion[p]}' for p in BODY_PARTS)
    assert '\n' not in text


def test_motion_text_does_not_repeat_the_part():
    motion = dict(
        head='head tilts back',
        hand='hands rub together',
        arm='Arm: raised',
        hip='still',
        leg='legs apart',
        foot='flat')
    cls = ActionClass(0, 'x', motion=motion, visual=('v', ), summary='s')
    assert cls.motion_text() == ('head tilts back; hands rub together; '
                                 'Arm: raised; hip still; legs apart; '
                                 'foot flat')


def test_texts_bag(ntu120):
    cls = ntu120[12]
    texts = cls.texts()
    assert texts == [cls.motion_text(), *cls.visual]
    assert len(texts) == 1 + len(cls.visual)
    assert cls.texts(include_summary=True) == texts + [cls.summary]


def test_subset_reindexes(ntu120):
    names = ['side kick', 'drink water', 'tear up paper']
    sub = ntu120.subset(names, dataset='zs')
    assert sub.dataset == 'zs' and sub.class_names == names
    assert [c.index for c in sub] == [0, 1, 2]
    assert sub[2].visual == ntu120[12].visual
    assert sub.index_of('tear up paper') == 2
    assert ntu120.index_of('tear up paper') == 12  # the original is intact
    with pytest.raises(UnknownClassError, match='side kik'):
        ntu120.subset(['side kik'])
    with pytest.raises(KnowledgeError, match="'side kick'"):
        ntu120.subset(['side kick', 'side kick'])
    with pytest.raises(KnowledgeError, match='at least one'):
        ntu120.subset([])


def test_content_hash(tmp_path, mini, ntu120):
    first = ActionKnowledge.load('ntu120').content_hash()
    assert first == ntu120.content_hash()
    assert len(first) == 64 and int(first, 16) >= 0
    path = write(tmp_path / 'mini.json', mini)
    same = ActionKnowledge.load(path).content_hash()
    assert same == ntu120.subset(ntu120.class_names[:3]).content_hash()
    mini['classes'][1]['visual'][0] += ' Slowly.'
    changed = ActionKnowledge.load(write(tmp_path / 'mini.json', mini))
    assert changed.content_hash() != same
    mini['classes'][1]['visual'][0] = ntu120[1].visual[0]
    mini['classes'][2]['motion']['foot'] = 'taps'
    changed = ActionKnowledge.load(write(tmp_path / 'mini.json', mini))
    assert changed.content_hash() != same


# check_class_names


def test_check_class_names_passes(ntu120):
    ntu120.check_class_names(list(ntu120.class_names), 'classes.txt')
    ntu120.check_class_names(tuple(ntu120.class_names))


def test_check_class_names_missing(ntu120):
    names = ntu120.class_names
    del names[12]
    with pytest.raises(KnowledgeError) as info:
        ntu120.check_class_names(names, 'data/classes.txt')
    message = str(info.value)
    assert ntu120.path in message and 'data/classes.txt' in message
    assert "missing from data/classes.txt: 12 ('tear up paper')" in message


def test_check_class_names_extra(ntu120):
    names = ntu120.class_names + ['moonwalk']
    assert names[3] == 'brushing hair'
    names[3] = 'brushing hair!'
    with pytest.raises(KnowledgeError) as info:
        ntu120.check_class_names(names, 'metainfo')
    message = str(info.value)
    assert ntu120.path in message and 'metainfo' in message
    assert "extra in metainfo: 3 ('brushing hair!')" in message
    assert "close matches: 'brushing hair'" in message
    assert "120 ('moonwalk')" in message
    assert "missing from metainfo: 3 ('brushing hair')" in message


def test_check_class_names_reordered(ntu120):
    names = ntu120.class_names
    names[12], names[40] = names[40], names[12]
    with pytest.raises(KnowledgeError) as info:
        ntu120.check_class_names(names, 'classes.txt')
    message = str(info.value)
    assert 'misordered' in message and 'missing' not in message
    assert "'tear up paper' (at 40 in classes.txt, index 12" in message
    assert f"{names[12]!r} (at 12 in classes.txt, index 40" in message


def test_check_class_names_repeated(ntu120):
    names = ntu120.class_names + ['drink water']
    with pytest.raises(KnowledgeError, match=r"120 \('drink water'"):
        ntu120.check_class_names(names, 'classes.txt')


# Broken files


def _drop(key):

    def mutate(data):
        del data['classes'][1][key]

    return mutate


def _set(*keys, value):

    def mutate(data):
        target = data['classes'][1]
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return mutate


def _drop_part(data):
    del data['classes'][1]['motion']['foot']


def _extra_part(data):
    data['classes'][1]['motion']['torso'] = 'bends'


def _duplicate_name(data):
    data['classes'][2]['name'] = data['classes'][1]['name']


def _skip_index(data):
    for cls in data['classes'][1:]:
        cls['index'] += 1


BROKEN = {
    'missing summary': (_drop('summary'), ["field 'summary'", 'missing']),
    'missing persons': (_drop('persons'), ["field 'persons'", 'missing']),
    'empty motion part':
    (_set('motion', 'hand', value=''),
     ["field 'motion.hand'", "expected a non-empty string, got ''"]),
    'blank visual text':
    (_set('visual', 1, value='  '), ["field 'visual[1]'", 'non-empty']),
    'missing body part':
    (_drop_part, ["field 'motion.foot'", 'missing body part']),
    'extra body part':
    (_extra_part, ["field 'motion.torso'", 'unknown body part']),
    'visual null':
    (_set('visual', value=None), ["field 'visual'", 'got null']),
    'visual not a list':
    (_set('visual', value='a text'), ["field 'visual'", 'a string']),
    'bad persons': (_set('persons', value=3),
                    ["field 'persons'", 'expected 1 or 2, got 3']),
    'unknown field': (_set('visuals', value=['x']),
                      ["field 'visuals'", "close matches: 'visual'"]),
    'non-contiguous index':
    (_skip_index, ["field 'index'", 'expected 1', 'got 2']),
}


@pytest.mark.parametrize('case', list(BROKEN))
def test_broken_class(tmp_path, mini, case):
    mutate, parts = BROKEN[case]
    name = mini['classes'][1]['name']
    mutate(mini)
    path = write(tmp_path / 'broken.json', mini)
    raises(path, f'class 1 ({name!r})', *parts)


def test_duplicated_name(tmp_path, mini):
    name = mini['classes'][1]['name']
    _duplicate_name(mini)
    path = write(tmp_path / 'broken.json', mini)
    raises(path, f'class 2 ({name!r})', "field 'name'", 'duplicated',
           'already class 1')


def test_missing_name(tmp_path, mini):
    del mini['classes'][2]['name']
    raises(write(tmp_path / 'b.json', mini), 'class 2', "field 'name'")


def test_bad_top_level(tmp_path, mini):
    bad = dict(mini, body_parts=BODY_PARTS[:5])
    raises(write(tmp_path / 'a.json', bad), "field 'body_parts'")
    bad = dict(mini, body_parts=list(BODY_PARTS) + ['tail'])
    raises(write(tmp_path / 'b.json', bad), "field 'body_parts'", 'tail')
    bad = dict(mini, classes=[])
    raises(write(tmp_path / 'c.json', bad), "field 'classes'", 'non-empty')
    bad = dict(mini, dataset='')
    raises(write(tmp_path / 'd.json', bad), "field 'dataset'")
    raises(write(tmp_path / 'e.json', [mini]), 'top level', 'an array')
    bad = dict(mini, clases=[])
    raises(write(tmp_path / 'f.json', bad), "field 'clases'")


def test_bad_json(tmp_path, mini):
    path = tmp_path / 'bad.json'
    text = json.dumps(mini, indent=2)
    cut = text.index('"persons"')
    path.write_text(text[:cut] + text[cut + 1:], encoding='utf-8')
    line = text[:cut].count('\n') + 1
    column = cut - text.rindex('\n', 0, cut)
    raises(str(path), 'invalid JSON', 'Expecting property name',
           f'line {line} column {column} (char {cut})')


def test_min_visual(tmp_path, mini, monkeypatch):
    for cls in mini['classes']:
        cls['visual'] = cls['visual'][:2]
    mini['classes'][1]['visual'] = []  # motion-only class
    path = write(tmp_path / 'mini.json', mini)
    knowledge = ActionKnowledge.load(path)  # custom files need none
    assert knowledge[1].texts() == [knowledge[1].motion_text()]
    monkeypatch.setattr(ak, 'KNOWLEDGE_DIR', str(tmp_path))
    raises(path, "class 0 ('drink water')", "field 'visual'", 'at least 3')


def test_not_found():
    with pytest.raises(KnowledgeError, match="close matches: 'ntu60'"):
        ActionKnowledge.load('ntu6')
    with pytest.raises(KnowledgeError, match='nowhere.json'):
        ActionKnowledge.load('/nowhere.json')


# Subset files


def _subset(name='sub', subset_of='mini.json', classes=None):
    return dict(
        dataset=name,
        description='A subset.',
        subset_of=subset_of,
        classes=classes or ['throw', 'drink water'])


def test_subset_file(tmp_path, mini, monkeypatch):
    mini['classes'] = ActionKnowledge.load('ntu120').to_dicts()[:8]
    write(tmp_path / 'mini.json', mini)
    (tmp_path / 'subs').mkdir()
    path = write(tmp_path / 'subs' / 'sub.json',
                 _subset(subset_of='../mini.json'))
    monkeypatch.chdir('/')
    sub = ActionKnowledge.load(path)
    assert sub.class_names == ['throw', 'drink water']
    assert [c.index for c in sub] == [0, 1]
    assert sub.path == path
    assert sub.parent_path == str(tmp_path / 'mini.json')
    # a subset of a subset
    path2 = write(tmp_path / 'subs' / 'sub2.json',
                  _subset(subset_of='sub.json', classes=['drink water']))
    assert ActionKnowledge.load(path2)[0] == ActionKnowledge.load(
        'ntu120')[0]


def test_subset_class_absent_from_parent(tmp_path, mini):
    write(tmp_path / 'mini.json', mini)
    path = write(tmp_path / 'sub.json',
                 _subset(classes=['drink water', 'throw']))
    raises(path, "class 1 ('throw')", "field 'classes'",
           str(tmp_path / 'mini.json'))


def test_subset_duplicated_class(tmp_path, mini):
    write(tmp_path / 'mini.json', mini)
    path = write(tmp_path / 'sub.json',
                 _subset(classes=['pickup', 'drink water', 'pickup']))
    raises(path, "class 2 ('pickup')", "field 'classes'", 'duplicated')


def test_subset_parent_missing(tmp_path):
    path = write(tmp_path / 'sub.json', _subset(subset_of='gone.json'))
    raises(path, "field 'subset_of'", str(tmp_path / 'gone.json'),
           'not found')


def test_subset_parent_broken(tmp_path, mini):
    mini['classes'][0]['summary'] = ''
    parent = write(tmp_path / 'mini.json', mini)
    path = write(tmp_path / 'sub.json', _subset(classes=['drink water']))
    message = raises(path, parent, "class 0 ('drink water')",
                     "field 'summary'")
    assert message.startswith(parent)


def test_subset_circular(tmp_path):
    write(tmp_path / 'a.json', _subset('a', 'b.json'))
    path = write(tmp_path / 'b.json', _subset('b', 'a.json'))
    raises(path, 'circular')


def test_subset_bad_class_list(tmp_path, mini):
    write(tmp_path / 'mini.json', mini)
    path = write(tmp_path / 'sub.json', _subset(classes=['pickup', 3]))
    raises(path, 'class 1', "field 'classes'", 'got 3')
    bad = dict(_subset(), body_parts=list(BODY_PARTS))
    raises(write(tmp_path / 'sub2.json', bad), "field 'body_parts'",
           'unknown field')


# Hostile inputs (docs/RELIABILITY.md)


def test_byte_order_mark_is_accepted(tmp_path, mini):
    path = tmp_path / 'bom.json'
    path.write_bytes(b'\xef\xbb\xbf' + json.dumps(mini).encode('utf-8'))
    assert ActionKnowledge.load(str(path)).class_names == [
        'drink water', 'eat meal/snack', 'brushing teeth'
    ]


def test_nested_too_deeply(tmp_path):
    path = tmp_path / 'deep.json'
    path.write_text('[' * 100000 + ']' * 100000)
    raises(str(path), 'invalid JSON: nested too deeply')


def test_check_labels(ntu120):
    ntu120.check_labels([0, 119])
    with pytest.raises(KnowledgeError) as info:
        ntu120.check_labels([5, 120, -3, 120], 'the training batch')
    assert str(info.value) == (
        f'{ntu120.path}: the training batch has labels [-3, 120] outside '
        "the 120 classes of 'ntu120' (0..119): the data has classes that "
        'the knowledge lacks')


@pytest.mark.parametrize('classes', [[True], [1.5], ['drink water', None]])
def test_labels_refuse_values_that_are_not_names_or_integers(ntu120, classes):
    with pytest.raises(ValueError, match='expected class names or integer '
                       'labels'):
        ntu120.labels(classes)


def test_not_utf8(tmp_path, mini):
    path = tmp_path / 'latin.json'
    text = json.dumps(mini, ensure_ascii=False)
    path.write_bytes(text.replace('drink water', 'dr\u00edink water').encode(
        'latin-1'))
    raises(str(path), "not UTF-8 text: 'utf-8' codec can't decode byte 0xed")
