# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Stage-1 knowledge building with injected (fake) generators."""
import json
import os
import os.path as osp
import re

import numpy as np
import pytest

from mmaction_sugar.datasets import knowledge_builder as kb
from mmaction_sugar.datasets.action_knowledge import (BODY_PARTS, ActionClass,
                                                      ActionKnowledge,
                                                      KnowledgeError)

GOOD = dict(
    head='stays level, eyes on the hands',
    hand='palms meet and part quickly',
    arm='forearms swing in front of the chest',
    hip='stays square and still',
    leg='knees stay straight while standing',
    foot='rest flat on the floor')


def answer(motion=GOOD, skip=()):
    """A first answer (without its ``head:`` prefix)."""
    lines = [f'{p}: {t}' for p, t in motion.items() if p not in skip]
    return re.sub(r'^head:', '', '\n'.join(lines))


VERBS = dict(
    head='nods',
    hand='grips',
    arm='bends',
    hip='turns',
    leg='steps',
    foot='taps')


def action_of(prompt):
    """The class a motion or summary prompt asks about."""
    return re.search(r"'(.+?)'", prompt.question).group(1)


class FakeLLM:
    """Stands in for the LLM: answers by class and by kind of prompt.

    Args:
        answers (dict): First answer per class name (default: all good).
        repairs (dict): ``(name, part) -> text`` of the repairs (default:
            ``"<verb> during <name>"``, a distinct verb per part).
        summaries (dict): Summary per class name.
        fail_after (int): Raise on the call after this many calls.
    """

    def __init__(self,
                 answers=None,
                 repairs=None,
                 summaries=None,
                 fail_after=None):
        self.answers = answers or {}
        self.repairs = repairs or {}
        self.summaries = summaries or {}
        self.fail_after = fail_after
        self.calls = []

    @property
    def prompts(self):
        return [p for call in self.calls for p in call]

    def __call__(self, prompts):
        if self.fail_after is not None and len(self.calls) >= \
                self.fail_after:
            raise KeyboardInterrupt('interrupted')
        self.calls.append(list(prompts))
        out = []
        for p in prompts:
            name = action_of(p)
            if p.question.startswith('Summarize'):
                out.append(
                    self.summaries.get(name,
                                       f'A person performs {name} briefly.'))
            elif p.stop != r'\n':
                assert p.prefix == 'head:'
                out.append(self.answers.get(name, answer()))
            else:
                part = p.prefix.rsplit('\n', 1)[-1][:-1]
                out.append(' ' + self.repairs.get(
                    (name, part), f'{VERBS[part]} during {name}'))
        return out


def write_knowledge(path, names, visual=('It is seen from the front.', )):
    """A small full knowledge file with old texts."""
    classes = [
        dict(
            index=i,
            name=n,
            persons=1,
            motion={p: f'old {p} text of {n}'
                    for p in BODY_PARTS},
            visual=list(visual),
            summary=f'Old summary of {n}.') for i, n in enumerate(names)
    ]
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(
            dict(
                dataset='old',
                description='Old texts.',
                body_parts=list(BODY_PARTS),
                classes=classes), f)
    return ActionKnowledge.load(str(path))


def classes_of(*names):
    return [
        ActionClass(i, n, persons=kb.guess_persons(n))
        for i, n in enumerate(names)
    ]


def build(tmp_path, generate, names=('clap', 'jump'), **kwargs):
    kwargs.setdefault('progress', False)
    kwargs.setdefault('log', lambda _: None)
    out = str(tmp_path / 'out.json')
    return kb.build_motion(out,
                           kwargs.pop('classes', None) or classes_of(*names),
                           generate, **kwargs)


# --------------------------------------------------------------------------
# Parsing and cleaning


@pytest.mark.parametrize('text, expected', [
    ('head: a\nhand: b\narm: c\nhip: d\nleg: e\nfoot: f',
     dict(head='a', hand='b', arm='c', hip='d', leg='e', foot='f')),
    ('Head: a\nHands: b\nArms: c\nHips: d\nLegs: e\nFeet: f',
     dict(head='a', hand='b', arm='c', hip='d', leg='e', foot='f')),
    ('- **Head:** a\n- **Hand**: b\n* __arm__: c',
     dict(head='a', hand='b', arm='c')),
    ('1. Head - a\n2) Hand \u2013 b\n(3) arm = c',
     dict(head='a', hand='b', arm='c')),
    ('Sure! Here is the description:\nhead: a\n\nhip: d\nI hope this '
     'helps!', dict(head='a', hip='d')),
    ('head: a; hand: b; arm: c, leg: e',
     dict(head='a;', hand='b;', arm='c,', leg='e')),
    ('head tilts back; hand grasps cup; arm lifts cup',
     dict(head='tilts back', hand='grasps cup', arm='lifts cup')),
    ('**Head:**\n tilts back\nhand: b', dict(head='tilts back', hand='b')),
    ('head: a\nhead: again\nhand: b', dict(head='a', hand='b')),
    ('head: a\neyes: look\nnot a part line\nleg: e', dict(head='a', leg='e')),
    ('Head movement: a\nLeft hand: b\nThe hips: d',
     dict(head='a', hand='b', hip='d')),
    ('head:\nhand:\n', dict(head='', hand='')),
    ('', {}),
    ('I cannot describe that.', {}),
])
def test_parse_motion(text, expected):
    assert kb.parse_motion(text) == expected


def test_parse_motion_keeps_part_order():
    assert list(kb.parse_motion('foot: f\nhead: a')) == ['head', 'foot']


@pytest.mark.parametrize('text, expected', [
    ('  tilts back  ', 'tilts back'),
    ('**tilts** back.', 'tilts back'),
    ('"tilts back"', 'tilts back'),
    ('tilts back hand: grips', 'tilts back'),
    ('tilts back (slightly) and up', 'tilts back and up'),
    ('tilts back (because', 'tilts back'),
    ('Tilts back. Then it', 'Tilts back'),
    (' '.join(['w'] * 40), ' '.join(['w'] * 16)),
    ('one two three four, five six seven ' + 'x ' * 30, 'one two three four'),
    ('a b c d but e f if g h i j k l m n o p q r s', 'a b c d'),
    ('a b c d e f g h i j k l m n o the p q r',
     'a b c d e f g h i j k l m n o'),
    ('rolls over; this is called "bending', 'rolls over; this is called'),
    ('', ''),
])
def test_clean_text(text, expected):
    assert kb.clean_text(text) == expected


@pytest.mark.parametrize('text, problem', [
    ('tilts back slightly', None),
    ('', 'empty'),
    ('   ', 'empty'),
    ('123 456', 'no letters'),
    ('jump', 'too short (1 words, expected at least 3)'),
    ('go go go go go go', 'repetitive'),
    ('the kick the kick the kick the kick', 'repetitive'),
    ('\u4f60\u597d\u4f60\u597d ok', 'not text'),
    ('Tilts back slightly as the cup reaches the lips!',
     'copied from a few-shot example'),
    ('Jump-up', 'only repeats the action name'),
])
def test_text_problem(text, problem):
    banned = ['tilts back slightly as the cup reaches the lips']
    min_words = 3 if text == 'jump' else 1
    assert kb.text_problem(text, min_words, banned, 'jump up') == problem


@pytest.mark.parametrize('text, expected', [
    ('A person claps. Then more text', 'A person claps.'),
    ('Summary: a person claps', 'A person claps.'),
    ('\n\n**A person claps!**\nmore', 'A person claps.'),
    ('', ''),
])
def test_clean_summary(text, expected):
    assert kb.clean_summary(text) == expected


def test_clean_visual_joins_lines_and_drops_unfinished():
    text = '* A person stands in a room.\n* The hands meet in front and'
    assert kb.clean_visual(text) == 'A person stands in a room.'


def test_guess_persons_on_bundled_names():
    ntu = ActionKnowledge.load('ntu120')
    wrong = {c.name for c in ntu if kb.guess_persons(c.name) != c.persons}
    assert wrong == {  # Interactions the names do not spell out.
        'step on foot', 'cheers and drink',
        'finger-guessing game (playing rock-paper-scissors)'
    }


def test_read_class_list(tmp_path):
    path = tmp_path / 'classes.txt'
    path.write_text('clap\n\nhugging other person\r\nstep on foot\t2\n')
    classes = kb.read_class_list(str(path))
    assert [(c.index, c.name, c.persons)
            for c in classes] == [(0, 'clap', 1),
                                  (1, 'hugging other person', 2),
                                  (2, 'step on foot', 2)]
    path.write_text('clap\njump\nclap\n')
    with pytest.raises(KnowledgeError, match="line 3: class 'clap' repeats"):
        kb.read_class_list(str(path))
    path.write_text('clap\t3\n')
    with pytest.raises(KnowledgeError, match='persons must be 1 or 2'):
        kb.read_class_list(str(path))
    path.write_text('\n')
    with pytest.raises(KnowledgeError, match='no class names'):
        kb.read_class_list(str(path))


# --------------------------------------------------------------------------
# Prompts


def test_motion_prompt_is_few_shot():
    cls = ActionClass(0, 'hugging other person', persons=2)
    turns = kb.motion_messages(cls, kb.few_shot_examples(cls.name))
    roles = [r for r, _ in turns]
    assert roles == [
        'system', 'user', 'assistant', 'user', 'assistant', 'user'
    ]
    assert turns[-1][1] == (
        "Describe the following body part movements when 'hugging other "
        "person' (an interaction between two people): head, hand, arm, hip, "
        'leg, foot.')
    assert "when 'drink water': head, hand" in turns[1][1]
    drink = ActionKnowledge.load('ntu120').by_name('drink water')
    assert turns[2][1] == '\n'.join(f'{p}: {drink.motion[p]}'
                                    for p in BODY_PARTS)
    assert kb.parse_motion(turns[2][1]) == drink.motion


def test_a_class_is_never_its_own_example():
    names = [e.name for e in kb.few_shot_examples('Drink Water')]
    assert names == ['kicking something', 'hand waving']
    cls = ActionClass(0, 'drink water')
    turns = kb.motion_messages(cls, kb.few_shot_examples(cls.name))
    assert sum("'drink water'" in c for _, c in turns) == 1


def test_summary_and_visual_prompts():
    cls = ActionClass(0, 'clap', alias='clapping hands')
    turns = kb.summary_messages(cls, kb.few_shot_examples('clap'))
    assert turns[-1] == ('user', "Summarize the action 'clapping hands' in "
                         'one sentence.')
    assert turns[1][1].startswith('A person lifts a cup')
    question = kb.visual_question('clap', 3)
    assert question.startswith("Based on the 3 images (frames of one video, "
                               "in time order), describe 'clap' in detail.")
    assert 'only what matches' in question and 'unrelated' in question


# --------------------------------------------------------------------------
# Frames


def test_select_dissimilar_picks_one_per_cluster():
    rng = np.random.default_rng(0)
    centres = np.eye(8)[[0, 3, 6]] * 10
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2])
    emb = centres[labels] + rng.normal(0, 0.1, (12, 8))
    chosen = kb.select_dissimilar(emb, 3)
    assert sorted(labels[chosen]) == [0, 1, 2]
    assert chosen == sorted(chosen)
    assert kb.select_dissimilar(emb, 3) == chosen
    assert kb.select_dissimilar(emb, 20) == list(range(12))
    other = kb.select_dissimilar(emb, 3, start=1)  # For a later attempt.
    assert other != chosen and len(other) == 3 and other == sorted(other)
    # The first pick is the farthest from the mean: the odd one out.
    odd = np.ones((5, 4))
    odd[2] = [1, -1, 1, -1]
    assert kb.select_dissimilar(odd, 1) == [2]


def test_candidate_indices_with_jitter():
    rng = np.random.default_rng(0)
    jittered = kb.candidate_indices(100, 5, rng)
    assert len(jittered) == 5 and jittered == sorted(jittered)
    assert [i // 20 for i in jittered] == [0, 1, 2, 3, 4]
    assert jittered != kb.candidate_indices(100, 5)


def colour_frames(n_per_colour=4, size=32, seed=0):
    """RGB noise frames: red, then green, then blue blocks."""
    rng = np.random.default_rng(seed)
    frames = []
    for channel in range(3):
        for _ in range(n_per_colour):
            frame = rng.integers(0, 60, (size, size, 3), dtype=np.uint8)
            frame[..., channel] += 180
            frames.append(frame)
    return frames


def test_frame_selector_on_a_video_and_a_folder(tmp_path):
    import cv2
    from PIL import Image
    frames = colour_frames()
    video = str(tmp_path / 'v.avi')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'MJPG'), 10,
                             (32, 32))
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    folder = tmp_path / 'frames'
    folder.mkdir()
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f'{i:03d}.png')
    assert kb.count_frames(video) == kb.count_frames(str(folder)) == 12
    selector = kb.FrameSelector(
        kb.pixel_embed, num_frames=3, num_candidates=12)
    for source in (video, str(folder)):
        indices, images = selector(source)
        assert sorted(i // 4 for i in indices) == [0, 1, 2], source
        assert indices == sorted(indices) and len(images) == 3
        assert images[0].size == (32, 32)
        means = [
            np.asarray(im).reshape(-1, 3).mean(0).argmax() for im in images
        ]
        assert means == [i // 4 for i in indices]
    again, _ = kb.FrameSelector(kb.pixel_embed, 3, 6, seed=1)(video, 1)
    assert len(again) == 3
    with pytest.raises(kb.KnowledgeBuildError, match='cannot open'):
        kb.count_frames(str(tmp_path / 'missing.avi'))


# --------------------------------------------------------------------------
# Motion building


def test_build_motion_writes_a_valid_file(tmp_path):
    llm = FakeLLM()
    result = build(
        tmp_path, llm, names=('clap', 'hugging other person'), batch_size=2)
    knowledge = ActionKnowledge.load(result.out)
    assert knowledge.class_names == ['clap', 'hugging other person']
    assert [c.persons for c in knowledge] == [1, 2]
    assert knowledge[0].motion == GOOD
    assert list(knowledge[0].motion) == list(BODY_PARTS)
    assert knowledge[0].visual == ()
    assert knowledge[1].summary == 'A person performs hugging other person ' \
        'briefly.'
    assert knowledge.dataset == 'out'
    assert 'generated with tools/build_knowledge.py motion' in \
        knowledge.description
    assert not osp.exists(kb.state_path(result.out))
    report = json.load(open(kb.report_path(result.out)))
    assert report['status'] == 'ok' and report['generated'] == 2
    assert report['failures'] == []
    # One call for the answers, one for the summaries (batch of 2).
    assert [len(c) for c in llm.calls] == [2, 2]
    first = llm.calls[0][0]
    assert first.prefix == 'head:' and not first.sample
    assert first.stop and re.search(first.stop, 'a\nfoot: flat\n')


def test_missing_parts_are_repaired_alone(tmp_path):
    llm = FakeLLM(
        answers=dict(clap=answer(skip=('hip', 'foot')) + '\nThat is all!'))
    result = build(tmp_path, llm, names=('clap', ))
    motion = result.knowledge[0].motion
    assert motion['hip'] == 'turns during clap'
    assert motion['foot'] == 'taps during clap'
    assert motion['head'] == GOOD['head']
    repairs = [p for p in llm.prompts if p.prefix.endswith(('hip:', 'foot:'))]
    assert len(repairs) == 2
    hip = next(p for p in repairs if p.prefix.endswith('hip:'))
    assert hip.prefix == ('head: stays level, eyes on the hands\n'
                          'hand: palms meet and part quickly\n'
                          'arm: forearms swing in front of the chest\nhip:')
    assert hip.stop == r'\n' and hip.repetition_penalty > 1
    assert result.report['log'][0]['repaired'] == ['hip', 'foot']


def test_copied_repeated_and_bad_parts_are_repaired(tmp_path):
    drink = ActionKnowledge.load('ntu120').by_name('drink water').motion
    bad = dict(
        GOOD,
        head=drink['head'],
        hand='',
        arm='1 2 3',
        leg='knees knees knees knees knees knees',
        foot='rest flat on the floor. It then')
    bad['hip'] = bad['foot']  # Same as a later part: the later is wrong.
    llm = FakeLLM(answers=dict(clap=answer(bad)))
    result = build(tmp_path, llm, names=('clap', ))
    assert result.report['log'][0]['repaired'] == [
        'head', 'hand', 'arm', 'leg', 'foot'
    ]
    motion = result.knowledge[0].motion
    assert motion['hip'] == 'rest flat on the floor'
    assert motion['foot'] == 'taps during clap'


def test_retries_sample_after_the_first_repair(tmp_path):
    repairs = {('clap', 'leg'): ''}
    llm = FakeLLM(answers=dict(clap=answer(skip=('leg', ))), repairs=repairs)
    with pytest.raises(kb.KnowledgeBuildError):
        build(tmp_path, llm, names=('clap', ), max_retries=3)
    legs = [p for p in llm.prompts if p.prefix.endswith('leg:')]
    assert [p.sample for p in legs] == [False, True, True]


def test_unrepairable_class_is_reported_not_written(tmp_path):
    llm = FakeLLM(
        answers=dict(jump=' jump\nI am a small model.'),
        repairs={('jump', p): 'jump'
                 for p in BODY_PARTS})
    out = str(tmp_path / 'out.json')
    with pytest.raises(
            kb.KnowledgeBuildError,
            match='1 of 2 classes have no usable text') as error:
        build(tmp_path, llm, max_retries=1, batch_size=1)
    assert not osp.exists(out)
    report = json.load(open(kb.report_path(out)))
    assert report == error.value.report
    assert report['status'] == 'failed'
    [failure] = report['failures']
    assert failure['name'] == 'jump' and failure['field'] == 'motion'
    assert failure['problems'][0] == 'head: only repeats the action name'
    assert failure['fallback'] is False
    assert failure['raw'][0] == dict(
        attempt='answer', output='head: jump\nI am a small model.')
    assert len(failure['raw']) == 1 + 6 + 1  # answer, repairs, summary
    # The finished class stays in the state, ready for a rerun.
    lines = open(kb.state_path(out)).read().splitlines()
    assert json.loads(lines[1])['name'] == 'clap' and len(lines) == 2
    assert report['state'] == kb.state_path(out)
    # A rerun with a better model only redoes the failed class.
    llm = FakeLLM()
    result = build(tmp_path, llm)
    assert {action_of(p) for p in llm.prompts} == {'jump'}
    assert result.report['resumed'] == 1 and result.report['generated'] == 1


def test_failed_summary_is_reported(tmp_path):
    llm = FakeLLM(summaries=dict(jump='jump'))
    with pytest.raises(kb.KnowledgeBuildError) as error:
        build(tmp_path, llm, max_retries=1)
    [failure] = error.value.report['failures']
    assert failure['field'] == 'summary'
    assert failure['problems'] == ['too short (1 words, expected at least 3)']
    summaries = [
        p for p in llm.prompts
        if action_of(p) == 'jump' and p.question.startswith('Summarize')
    ]
    assert [p.sample for p in summaries] == [False, True]


def test_fallback_keeps_old_texts_and_says_so(tmp_path):
    old = write_knowledge(tmp_path / 'old.json', ['clap', 'jump'])
    llm = FakeLLM(answers=dict(jump=''), repairs={('jump', 'hip'): ''})
    with pytest.raises(kb.KnowledgeBuildError):
        build(tmp_path, llm, classes=old.classes, old=old, max_retries=1)
    result = build(
        tmp_path,
        FakeLLM(answers=dict(jump=''), repairs={('jump', 'hip'): ''}),
        classes=old.classes,
        old=old,
        max_retries=1,
        fallback='knowledge')
    jump = result.knowledge.by_name('jump')
    assert jump.motion == old.by_name('jump').motion
    clap = result.knowledge.by_name('clap')
    assert clap.motion == GOOD
    assert clap.summary == 'Old summary of clap.'  # Kept, not generated.
    assert clap.visual == ('It is seen from the front.', )
    assert result.report['status'] == 'fallback'
    assert result.knowledge.description.endswith(
        '1 classes keep older texts where generation failed (see '
        'out.json.report.json).')
    [failure] = result.report['failures']
    assert failure['fallback'] is True
    assert failure['problems'] == ['hip: empty']
    assert result.knowledge.dataset == 'old'
    with pytest.raises(kb.KnowledgeBuildError, match='needs the old texts'):
        build(tmp_path, FakeLLM(), fallback='knowledge', overwrite=True)


def test_new_summary_regenerates_summaries(tmp_path):
    old = write_knowledge(tmp_path / 'old.json', ['clap'])
    result = build(
        tmp_path, FakeLLM(), classes=old.classes, old=old, new_summary=True)
    assert result.knowledge[0].summary == 'A person performs clap briefly.'


def test_interrupted_run_resumes_without_redoing_classes(tmp_path):
    out = str(tmp_path / 'out.json')
    names = ('clap', 'jump', 'wave')
    # Batch 1 takes two calls (answers, summaries); the third raises.
    with pytest.raises(KeyboardInterrupt):
        build(tmp_path, FakeLLM(fail_after=2), names=names, batch_size=1)
    assert not osp.exists(out)
    lines = open(kb.state_path(out)).read().splitlines()
    assert json.loads(lines[0])['header']['classes'] == list(names)
    assert [json.loads(ln)['name'] for ln in lines[1:]] == ['clap']
    # A line cut by the interruption is tolerated.
    with open(kb.state_path(out), 'a') as f:
        f.write('{"name": "jump", "fie')
    llm = FakeLLM()
    result = build(tmp_path, llm, names=names, batch_size=1)
    assert {action_of(p) for p in llm.prompts} == {'jump', 'wave'}
    assert result.knowledge.class_names == list(names)
    assert result.knowledge[0].motion == GOOD
    assert result.report['resumed'] == 1
    assert not osp.exists(kb.state_path(out))


def test_state_of_another_run_is_refused(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        build(tmp_path, FakeLLM(fail_after=2), batch_size=1)
    with pytest.raises(
            kb.KnowledgeBuildError,
            match=r'different run \(differs in: classes\)'):
        build(tmp_path, FakeLLM(), names=('clap', 'wave'))
    result = build(tmp_path, FakeLLM(), names=('clap', 'wave'), overwrite=True)
    assert result.knowledge.class_names == ['clap', 'wave']


def test_existing_output_needs_overwrite(tmp_path):
    build(tmp_path, FakeLLM())
    with pytest.raises(kb.KnowledgeBuildError, match='pass --overwrite'):
        build(tmp_path, FakeLLM())
    llm = FakeLLM()
    build(tmp_path, llm, overwrite=True)
    assert llm.calls


def test_invalid_output_is_not_written(tmp_path):
    out = str(tmp_path / 'out.json')
    with pytest.raises(
            kb.KnowledgeBuildError,
            match="generated knowledge is invalid.*'persons'"):
        build(tmp_path, FakeLLM(), classes=[ActionClass(0, 'clap', persons=3)])
    assert not osp.exists(out)
    assert osp.exists(kb.state_path(out))
    assert sorted(os.listdir(tmp_path)) == [
        'out.json.partial.jsonl', 'out.json.report.json'
    ]  # And no temporary file left.


# --------------------------------------------------------------------------
# Visual building


class FakeVLM:
    """Answers by video (the frames are tagged with it)."""

    def __init__(self, by_video):
        self.by_video = by_video
        self.prompts = []

    def __call__(self, prompts):
        self.prompts += prompts
        out = []
        for p in prompts:
            texts = self.by_video[p.images[0]]
            out.append(texts.pop(0) if isinstance(texts, list) else texts)
        return out


def fake_frames(video, cycle):
    """Frame 'images' are the video names, to trace them."""
    return [cycle, cycle + 5], [video, video]


def build_visual(tmp_path, generate, videos, **kwargs):
    knowledge = write_knowledge(tmp_path / 'in.json', ['clap', 'jump'])
    kwargs.setdefault('progress', False)
    kwargs.setdefault('log', lambda _: None)
    return kb.build_visual(
        str(tmp_path / 'out.json'), knowledge, videos, generate, fake_frames,
        **kwargs)


def test_build_visual_appends_and_retries_other_videos(tmp_path):
    vlm = FakeVLM({
        'c1':
        'A person claps in a bright room, facing the camera.',
        'c2':
        'the the the the the the the the',
        'c3':
        'Two palms meet repeatedly in front of the chest.',
        'j1': ['Someone leaps up from both feet and lands in place.'] * 2 +
        ['Both feet leave the floor and land together again.']
    })
    videos = dict(clap=['c1', 'c2', 'c3'], jump=['j1'])
    result = build_visual(tmp_path, vlm, videos, per_class=2)
    clap = result.knowledge.by_name('clap')
    assert clap.visual == ('It is seen from the front.',
                           'A person claps in a bright room, facing the '
                           'camera.',
                           'Two palms meet repeatedly in front of the chest.')
    assert clap.motion['head'] == 'old head text of clap'
    assert result.report['log'][0]['sources'] == [
        dict(video='c1', frames=[0, 5]),
        dict(video='c3', frames=[0, 5])
    ]
    assert result.report['log'][0]['rejected'] == [
        'attempt 1 (c2 frames [0, 5]): repetitive'
    ]
    # jump has one video: its second description duplicates the first, so
    # it is asked again, sampled, on other frames (cycle 2).
    assert len(result.knowledge.by_name('jump').visual) == 3
    jump = [p for p in vlm.prompts if p.images[0] == 'j1']
    assert [p.sample for p in jump] == [False, False, True]
    assert result.report['log'][1]['sources'][1] == dict(
        video='j1', frames=[2, 7])
    assert jump[0].question.startswith(
        "Based on the 2 images (frames of one video, in time order), "
        "describe 'jump' in detail.")


def test_build_visual_failure_report_and_fallback(tmp_path):
    vlm = FakeVLM({'c1': 'clap', 'j1': 'A person jumps high in a gym.'})
    videos = dict(clap=['c1'], jump=['j1'])
    with pytest.raises(kb.KnowledgeBuildError) as error:
        build_visual(tmp_path, vlm, videos, max_retries=1)
    [failure] = error.value.report['failures']
    assert failure['name'] == 'clap' and failure['field'] == 'visual'
    assert failure['problems'][0] == ('0 of 1 usable descriptions after 2 '
                                      'attempts')
    assert [(r['video'], r['frames'])
            for r in failure['raw']] == [('c1', [0, 5]), ('c1', [1, 6])]
    result = build_visual(
        tmp_path,
        vlm,
        videos,
        max_retries=1,
        fallback='knowledge',
        replace=True,
        overwrite=True)
    assert result.knowledge.by_name('clap').visual == (
        'It is seen from the front.', )
    assert result.knowledge.by_name('jump').visual == (
        'A person jumps high in a gym.', )
    assert result.report['status'] == 'fallback'
    assert result.report['log'][0]['sources'] == [
        dict(video='j1', frames=[0, 5])
    ]


def test_build_visual_rejects_one_text_for_two_classes(tmp_path):
    same = 'A person stands in a grey room under a lamp.'
    vlm = FakeVLM({'c1': same, 'j1': [same, 'A person leaps over a box.']})
    result = build_visual(
        tmp_path, vlm, dict(clap=['c1'], jump=['j1']), replace=True)
    assert result.knowledge.by_name('jump').visual == (
        'A person leaps over a box.', )
    assert result.report['log'][1]['rejected'] == [
        "attempt 0 (j1 frames [0, 5]): same text as class 'clap'"
    ]


def test_build_visual_skips_classes_without_videos(tmp_path):
    vlm = FakeVLM({'j1': 'A person jumps high in a gym.'})
    result = build_visual(tmp_path, vlm, dict(jump=['j1']), replace=True)
    assert result.report['skipped'] == [
        dict(index=0, name='clap', reason='no videos')
    ]
    assert result.knowledge.by_name('clap').visual == (
        'It is seen from the front.', )
    assert 'tools/build_knowledge.py visual' in result.knowledge.description


def test_read_video_list(tmp_path):
    knowledge = write_knowledge(tmp_path / 'k.json',
                                ['clap', 'eat meal/snack, fast'])
    (tmp_path / 'a.avi').write_bytes(b'')
    (tmp_path / 'frames').mkdir()
    path = tmp_path / 'videos.csv'
    path.write_text('class_name,video\nclap,a.avi\n'
                    '"eat meal/snack, fast",frames\nclap,frames\n\n')
    videos = kb.read_video_list(str(path), knowledge)
    assert videos == {
        'clap': [str(tmp_path / 'a.avi'),
                 str(tmp_path / 'frames')],
        'eat meal/snack, fast': [str(tmp_path / 'frames')]
    }
    path.write_text('name,path\nclap,a.avi\n')
    with pytest.raises(kb.KnowledgeBuildError, match='expected the header'):
        kb.read_video_list(str(path), knowledge)
    path.write_text('class_name,video\nclapp,a.avi\n')
    with pytest.raises(
            kb.KnowledgeBuildError, match="line 2: .*close matches: 'clap'"):
        kb.read_video_list(str(path), knowledge)
    path.write_text('class_name,video\nclap,b.avi\n')
    with pytest.raises(kb.KnowledgeBuildError, match='b.avi not found'):
        kb.read_video_list(str(path), knowledge)


def test_generator_must_answer_every_prompt(tmp_path):
    with pytest.raises(kb.KnowledgeBuildError, match='answered 0 prompts'):
        build(tmp_path, lambda prompts: [])
