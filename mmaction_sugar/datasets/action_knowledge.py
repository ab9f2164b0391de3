# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""Action knowledge: the per-class texts that supervise SUGAR.

A knowledge file is a UTF-8 JSON file that describes every class of a
dataset, in label order, with a body-part motion description, a few visual
descriptions and a one-sentence summary. Its texts are embedded by the text
encoder and serve as the positives of the MIL-NCE loss (see
:meth:`ActionClass.texts`). The bundled files live in the ``knowledge``
folder next to this module (see :data:`BUNDLED`); they are loaded with
:meth:`ActionKnowledge.load`, which validates everything and raises a
:class:`KnowledgeError` naming the file, the class and the field on the
first problem.

Full files
    A JSON object with exactly these keys:

    - ``dataset`` (str): short dataset name, e.g. ``"ntu120"``.
    - ``description`` (str): what the file covers and its label order.
    - ``body_parts`` (list of str): exactly ``["head", "hand", "arm",
      "hip", "leg", "foot"]`` (:data:`BODY_PARTS`), in this order.
    - ``classes`` (list of objects, at least one), one per class in label
      order, each with exactly these keys:

      - ``index`` (int): the label; 0-based and contiguous, so the class
        at position ``i`` of the list has ``index`` ``i``.
      - ``name`` (str): the dataset's official class name, as in its class
        list; unique in the file, one line, no surrounding whitespace.
      - ``alias`` (str, optional): a readable form of the name.
      - ``persons`` (int): 1, or 2 for two-person interactions.
      - ``motion`` (object): one text per body part, with exactly the keys
        of ``body_parts``.
      - ``visual`` (list of str): the visual descriptions. May be empty
        in a custom file (a name-level class supervised by its motion
        text alone, e.g. freshly written by ``tools/build_knowledge.py
        motion``); the bundled files have at least three.
      - ``summary`` (str): one sentence describing the action.

    Every string must be non-empty (not only whitespace). Unknown keys are
    errors, so that a misspelled field does not go unnoticed.

Subset files
    A dataset whose classes all appear in another file (NTU RGB+D 60 in
    NTU RGB+D 120, SynthNTU in NTU RGB+D 120) reuses that file's texts
    instead of repeating them. A subset file is a JSON object with exactly
    these keys:

    - ``dataset`` (str) and ``description`` (str): as above.
    - ``subset_of`` (str): the parent knowledge file (full, or itself a
      subset), relative to the folder of the subset file (or absolute).
    - ``classes`` (list of str, at least one): the class names in label
      order; each must be a class of the parent, and unique. The classes
      are re-indexed ``0..n-1`` in this order.

Example of a full file with one class and of a subset of it::

    {"dataset": "mini", "description": "One class, for the example.",
     "body_parts": ["head", "hand", "arm", "hip", "leg", "foot"],
     "classes": [
       {"index": 0, "name": "drink water", "persons": 1,
        "motion": {"head": "tilts back slightly",
                   "hand": "grasps a cup and lifts it to the mouth",
                   "arm": "elbow bends to bring the cup up",
                   "hip": "stays still", "leg": "stay still",
                   "foot": "stay flat on the floor"},
        "visual": ["A person lifts a cup to the mouth and drinks."],
        "summary": "A person drinks water from a cup."}]}

    {"dataset": "mini_subset", "description": "Its only class.",
     "subset_of": "mini.json", "classes": ["drink water"]}
"""
import dataclasses
import difflib
import hashlib
import json
import operator
import os
import os.path as osp
from typing import (Any, Dict, Iterable, Iterator, List, Optional, Sequence,
                    Tuple, Union)

KNOWLEDGE_DIR = osp.join(osp.dirname(osp.abspath(__file__)), 'knowledge')
"""str: The folder of the bundled knowledge files."""

BUNDLED: Tuple[str, ...] = ('ntu60', 'ntu120', 'pku_mmd',
                            'toyota_smarthome', 'synth_ntu')
"""tuple[str]: Names accepted by :meth:`ActionKnowledge.load`; the file of
name ``n`` is ``KNOWLEDGE_DIR/n.json``."""

BODY_PARTS: Tuple[str, ...] = ('head', 'hand', 'arm', 'hip', 'leg', 'foot')
"""tuple[str]: The body parts of the motion descriptions, in order."""

MIN_VISUAL = 0
"""int: Fewest visual texts a class of a custom knowledge file may have."""

MIN_VISUAL_BUNDLED = 3
"""int: Fewest visual texts a class of a bundled file may have."""

FULL_KEYS = ('dataset', 'description', 'body_parts', 'classes')
SUBSET_KEYS = ('dataset', 'description', 'subset_of', 'classes')
CLASS_KEYS = ('index', 'name', 'alias', 'persons', 'motion', 'visual',
              'summary')
OPTIONAL_CLASS_KEYS = ('alias', )
EXPECTED = dict(
    dataset='a non-empty string',
    description='a non-empty string',
    body_parts='the list ' + ', '.join(BODY_PARTS),
    classes='a non-empty list',
    subset_of='the path of the parent knowledge file',
    index='the 0-based label',
    name='a non-empty string',
    alias='a non-empty string',
    persons='1 or 2',
    motion='an object with the body parts ' + ', '.join(BODY_PARTS),
    visual='a list of non-empty strings',
    summary='a non-empty string')

PathLike = Union[str, 'os.PathLike[str]']


class KnowledgeError(ValueError):
    """A knowledge file, or a class list, that does not hold what it must.

    The message always names the file, and where it applies the class
    (index and name), the field and what was expected, e.g.
    ``".../ntu120.json: class 12 ('tear up paper'): field 'motion.hand':
    expected a non-empty string, got ''"``.
    """


class UnknownClassError(KnowledgeError, KeyError):
    """A class name that the knowledge does not have.

    Both a :class:`KnowledgeError` and a :class:`KeyError`; the message
    names the file and lists close matches.
    """

    # KeyError would show the message quoted, as a repr.
    __str__ = ValueError.__str__


@dataclasses.dataclass(frozen=True)
class ActionClass:
    """The knowledge of one action class.

    Args:
        index (int): The label of the class (0-based).
        name (str): The dataset's official class name.
        alias (str, optional): A readable form of the name. Defaults to
            None (no alias).
        persons (int): 1, or 2 for a two-person interaction. Defaults to 1.
        motion (dict[str, str]): One text per body part of
            :data:`BODY_PARTS`. Treat as read-only. Defaults to an empty
            dict.
        visual (tuple[str]): The visual descriptions. Defaults to ``()``.
        summary (str): A one-sentence summary. Defaults to ``''``.
    """

    index: int
    name: str
    alias: Optional[str] = None
    persons: int = 1
    motion: Dict[str, str] = dataclasses.field(
        default_factory=dict, hash=False)
    visual: Tuple[str, ...] = ()
    summary: str = ''

    def __post_init__(self) -> None:
        object.__setattr__(self, 'motion', dict(self.motion))
        object.__setattr__(self, 'visual', tuple(self.visual))

    def motion_text(self) -> str:
        """The body-part motion description on one line.

        The parts are taken in :data:`BODY_PARTS` order and joined as
        ``"head <text>; hand <text>; ..."``. A text whose first word is
        already the part name (or its plural, e.g. ``"hands rub ..."``)
        is not prefixed again.

        Returns:
            str: e.g. ``"head tilts back slightly; hand grasps cup; ..."``.
        """
        pieces = []
        for part in BODY_PARTS:
            if part not in self.motion:
                continue
            text = self.motion[part].strip()
            words = text.split(None, 1)
            first = words[0].lower().rstrip(':,') if words else ''
            if first not in (part, part + 's'):
                text = f'{part} {text}'
            pieces.append(text)
        return '; '.join(pieces)

    def texts(self, include_summary: bool = False) -> List[str]:
        """The bag of description texts of the class (MIL-NCE positives).

        Args:
            include_summary (bool): Whether to append the summary after
                the visual texts. Defaults to False.

        Returns:
            list[str]: :meth:`motion_text` first, then the visual texts in
            file order (then the summary, if asked).
        """
        texts = [self.motion_text(), *self.visual]
        if include_summary:
            texts.append(self.summary)
        return texts

    def to_dict(self) -> Dict[str, Any]:
        """The class as a JSON-ready dict, in the full-file schema.

        Returns:
            dict: The class fields; ``alias`` only when the class has one.
        """
        data = dict(
            index=self.index,
            name=self.name,
            alias=self.alias,
            persons=self.persons,
            motion={part: self.motion[part] for part in self.motion},
            visual=list(self.visual),
            summary=self.summary)
        if self.alias is None:
            del data['alias']
        return data


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to about ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _type_name(value: Any) -> str:
    """The JSON name of the type of a decoded value."""
    names = {
        dict: 'an object',
        list: 'an array',
        str: 'a string',
        bool: 'a boolean',
        int: 'an integer',
        float: 'a number',
        type(None): 'null'
    }
    return names.get(type(value), type(value).__name__)


def _close(name: Any, candidates: Iterable[str]) -> str:
    """A ``" (close matches: ...)"`` hint, or ``''`` when there is none."""
    if not isinstance(name, str):
        return ''
    matches = difflib.get_close_matches(name, list(candidates), n=3)
    if not matches:
        return ''
    return ' (close matches: ' + ', '.join(map(repr, matches)) + ')'


def _where(path: str,
           position: Optional[int] = None,
           name: Any = None,
           field: Optional[str] = None) -> str:
    """The ``"file: class i ('name'): field 'f'"`` prefix of a message."""
    where = str(path)
    if position is not None:
        where += f': class {position}'
        if isinstance(name, str) and name:
            where += f' ({name!r})'
    if field is not None:
        where += f': field {field!r}'
    return where


def _fail(path: str,
          what: str,
          position: Optional[int] = None,
          name: Any = None,
          field: Optional[str] = None) -> KnowledgeError:
    """A :class:`KnowledgeError` with the standard message."""
    return KnowledgeError(f'{_where(path, position, name, field)}: {what}')


def _is_text(value: Any) -> bool:
    """Whether ``value`` is a string that is not only whitespace."""
    return isinstance(value, str) and bool(value.strip())


def _is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (and not a boolean)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _check_keys(path: str,
                data: Dict[str, Any],
                allowed: Sequence[str],
                optional: Sequence[str] = (),
                position: Optional[int] = None,
                name: Any = None) -> None:
    """Fail on a missing required key or on an unknown key."""
    for key in allowed:
        if key not in data and key not in optional:
            raise _fail(path, f'missing, expected {EXPECTED[key]}',
                        position, name, key)
    for key in data:
        if key not in allowed:
            raise _fail(
                path, 'unknown field, expected only ' + ', '.join(allowed) +
                _close(key, allowed), position, name, key)


def _check_text(path: str,
                value: Any,
                position: Optional[int] = None,
                name: Any = None,
                field: Optional[str] = None) -> str:
    """Fail unless ``value`` is a non-empty string; return it."""
    if not _is_text(value):
        raise _fail(path, f'expected a non-empty string, got {_short(value)}',
                    position, name, field)
    return value


def _check_name(path: str,
                value: Any,
                position: int,
                field: str = 'name') -> str:
    """Fail unless ``value`` is a usable class name; return it."""
    _check_text(path, value, position, None, field)
    if value != value.strip() or '\n' in value or '\r' in value:
        raise _fail(
            path, 'expected a one-line name without surrounding '
            f'whitespace, got {_short(value)}', position, None, field)
    return value


def _read_json(path: str) -> Any:
    """Read and decode a JSON file, failing with a KnowledgeError."""
    if not osp.isfile(path):
        raise _fail(path, 'knowledge file not found')
    try:  # utf-8-sig: a byte-order mark from a Windows editor is fine
        with open(path, encoding='utf-8-sig') as f:
            return json.load(f)
    except RecursionError:
        raise _fail(path, 'invalid JSON: nested too deeply') from None
    except json.JSONDecodeError as error:
        raise _fail(
            path, f'invalid JSON: {error.msg} at line {error.lineno} '
            f'column {error.colno} (char {error.pos})') from None
    except UnicodeDecodeError as error:
        raise _fail(path, f'not UTF-8 text: {error}') from None
    except OSError as error:
        raise _fail(path, f'cannot read the file: {error}') from None


def _is_bundled_file(path: str) -> bool:
    """Whether ``path`` lies in :data:`KNOWLEDGE_DIR`."""
    return osp.dirname(osp.realpath(path)) == osp.realpath(KNOWLEDGE_DIR)


def _parse_class(path: str, position: int, entry: Any,
                 min_visual: int) -> ActionClass:
    """Validate one class object of a full file."""
    if not isinstance(entry, dict):
        raise _fail(path, f'expected an object, got {_type_name(entry)}',
                    position)
    if 'name' not in entry:
        raise _fail(path, f'missing, expected {EXPECTED["name"]}',
                    position, None, 'name')
    name = _check_name(path, entry['name'], position)
    _check_keys(path, entry, CLASS_KEYS, OPTIONAL_CLASS_KEYS, position, name)

    index = entry['index']
    if not _is_int(index) or index != position:
        raise _fail(
            path, f'expected {position} (indices are 0-based and '
            f'contiguous, in list order), got {_short(index)}', position,
            name, 'index')
    alias = entry.get('alias')
    if 'alias' in entry:
        _check_text(path, alias, position, name, 'alias')
    persons = entry['persons']
    if not _is_int(persons) or persons not in (1, 2):
        raise _fail(path, f'expected 1 or 2, got {_short(persons)}',
                    position, name, 'persons')

    motion = entry['motion']
    if not isinstance(motion, dict):
        raise _fail(
            path, 'expected an object with the body parts ' +
            ', '.join(BODY_PARTS) + f', got {_type_name(motion)}', position,
            name, 'motion')
    for part in BODY_PARTS:
        if part not in motion:
            raise _fail(
                path, 'missing body part, expected a non-empty string',
                position, name, f'motion.{part}')
        _check_text(path, motion[part], position, name, f'motion.{part}')
    for part in motion:
        if part not in BODY_PARTS:
            raise _fail(
                path, 'unknown body part, expected only ' +
                ', '.join(BODY_PARTS) + _close(part, BODY_PARTS), position,
                name, f'motion.{part}')

    visual = entry['visual']
    if not isinstance(visual, list) or len(visual) < min_visual:
        got = (f'{len(visual)} item(s)' if isinstance(visual, list) else
               _type_name(visual))
        raise _fail(
            path, f'expected a list of at least {min_visual} non-empty '
            f'strings, got {got}', position, name, 'visual')
    for i, text in enumerate(visual):
        _check_text(path, text, position, name, f'visual[{i}]')

    summary = _check_text(path, entry['summary'], position, name, 'summary')
    return ActionClass(
        index=index,
        name=name,
        alias=alias,
        persons=persons,
        motion={part: motion[part]
                for part in BODY_PARTS},
        visual=tuple(visual),
        summary=summary)


def _check_unique(path: str, names: Sequence[str], field: str) -> None:
    """Fail on the first name that appears twice."""
    first: Dict[str, int] = {}
    for position, name in enumerate(names):
        if name in first:
            raise _fail(
                path, f'duplicated name, already class {first[name]}',
                position, name, field)
        first[name] = position


def _parse_file(path: str,
                chain: Tuple[str, ...] = ()) -> Tuple[Dict[str, Any], list]:
    """Read and validate a knowledge file, resolving subsets.

    Returns:
        tuple[dict, list[ActionClass]]: The header (``dataset``,
        ``description``, ``parent_path``) and the classes, re-indexed.
    """
    data = _read_json(path)
    if not isinstance(data, dict):
        raise _fail(path, 'expected a JSON object at the top level, got '
                    f'{_type_name(data)}')
    subset = 'subset_of' in data
    _check_keys(path, data, SUBSET_KEYS if subset else FULL_KEYS)
    dataset = _check_text(path, data['dataset'], field='dataset')
    description = _check_text(
        path, data['description'], field='description')
    entries = data['classes']
    if not isinstance(entries, list) or not entries:
        raise _fail(
            path, 'expected a non-empty list of ' +
            ('class names' if subset else 'class objects') +
            f', got {_short(entries)}',
            field='classes')
    header = dict(
        dataset=dataset, description=description, parent_path=None)

    if not subset:
        if data['body_parts'] != list(BODY_PARTS):
            raise _fail(
                path, f'expected {list(BODY_PARTS)}, '
                f'got {_short(data["body_parts"], 100)}',
                field='body_parts')
        min_visual = (MIN_VISUAL_BUNDLED
                      if _is_bundled_file(path) else MIN_VISUAL)
        classes = [
            _parse_class(path, position, entry, min_visual)
            for position, entry in enumerate(entries)
        ]
        _check_unique(path, [c.name for c in classes], 'name')
        return header, classes

    for position, name in enumerate(entries):
        _check_name(path, name, position, 'classes')
    _check_unique(path, entries, 'classes')
    subset_of = _check_text(path, data['subset_of'], field='subset_of')
    parent = osp.normpath(osp.join(osp.dirname(path), subset_of))
    if not osp.isfile(parent):
        raise _fail(path, f'parent knowledge file {parent} not found',
                    field='subset_of')
    real = osp.realpath(path)
    if osp.realpath(parent) in chain + (real, ):
        raise _fail(path, f'circular subset_of through {parent}',
                    field='subset_of')
    try:
        _, parent_classes = _parse_file(parent, chain + (real, ))
    except KnowledgeError as error:
        raise KnowledgeError(
            f'{error} (parent file of {path})') from None
    by_name = {c.name: c for c in parent_classes}
    classes = []
    for position, name in enumerate(entries):
        if name not in by_name:
            raise _fail(
                path, f'{name!r} is not a class of the parent file '
                f'{parent}' + _close(name, by_name), position, name,
                'classes')
        classes.append(dataclasses.replace(by_name[name], index=position))
    header['parent_path'] = parent
    return header, classes


def _resolve(name_or_path: PathLike) -> str:
    """The file of a bundled name or a path."""
    text = os.fspath(name_or_path)
    if text in BUNDLED:
        return osp.join(KNOWLEDGE_DIR, text + '.json')
    if osp.isfile(text):
        return text
    raise KnowledgeError(
        f'{text}: knowledge file not found (expected one of the bundled '
        'names ' + ', '.join(BUNDLED) + ', or the path of a JSON file)' +
        _close(text, BUNDLED))


class ActionKnowledge:
    """The validated action knowledge of one dataset's classes.

    Use :meth:`load` to read a bundled or custom knowledge file (see the
    module docstring for the schema).

    Args:
        dataset (str): Short dataset name.
        classes (Sequence[ActionClass]): The classes in label order; their
            ``index`` must be ``0..n-1`` in order, names unique.
        path (str, optional): The file the texts were read from (for a
            subset file, the subset file). Used in error messages.
            Defaults to None (``'<memory>'`` in messages).
        description (str): What the knowledge covers. Defaults to ``''``.
        parent_path (str, optional): For a subset file, the resolved file
            the texts come from. Defaults to None.

    Example:
        >>> from mmaction_sugar.datasets.action_knowledge import (
        ...     ActionKnowledge, KnowledgeError)
        >>> knowledge = ActionKnowledge.load('synth_ntu')
        >>> len(knowledge), knowledge[0].name
        (32, 'drink water')
        >>> knowledge[0].motion_text().split('; ')[0]
        'head tilts back slightly as the cup reaches the lips'
        >>> knowledge.index_of('side kick')
        31
        >>> pair = knowledge.subset(['side kick', 'drink water'])
        >>> [(c.index, c.name) for c in pair]
        [(0, 'side kick'), (1, 'drink water')]
        >>> import os.path as osp
        >>> names = knowledge.class_names
        >>> names[:2] = ['pickup', 'drink water']
        >>> try:
        ...     knowledge.check_class_names(names, 'classes.txt')
        ... except KnowledgeError as error:
        ...     print(str(error).replace(knowledge.path,
        ...                              osp.basename(knowledge.path)))
        ... # doctest: +NORMALIZE_WHITESPACE
        synth_ntu.json: class names disagree with classes.txt (32 classes
        there, 32 in the knowledge of 'synth_ntu'): misordered: 'pickup' (at
        0 in classes.txt, index 1 in the knowledge), 'drink water' (at 1 in
        classes.txt, index 0 in the knowledge)
    """

    def __init__(self,
                 dataset: str,
                 classes: Sequence[ActionClass],
                 path: Optional[str] = None,
                 description: str = '',
                 parent_path: Optional[str] = None) -> None:
        self.dataset = dataset
        self.description = description
        self.path = path
        self.parent_path = parent_path
        self.classes: List[ActionClass] = list(classes)
        where = self._where
        if not self.classes:
            raise _fail(where, 'no classes', field='classes')
        for position, cls in enumerate(self.classes):
            if cls.index != position:
                raise _fail(where,
                            f'expected {position}, got {_short(cls.index)}',
                            position, cls.name, 'index')
        _check_unique(where, self.class_names, 'name')
        self._by_name = {cls.name: cls for cls in self.classes}

    @classmethod
    def load(cls, name_or_path: PathLike) -> 'ActionKnowledge':
        """Load and validate a bundled or custom knowledge file.

        Args:
            name_or_path (str | os.PathLike): A name of :data:`BUNDLED`
                (e.g. ``'ntu60'``) or the path of a knowledge JSON file,
                full or subset.

        Returns:
            ActionKnowledge: The classes in label order.

        Raises:
            KnowledgeError: On the first problem found in the file (or in
                the parent of a subset file).
        """
        path = _resolve(name_or_path)
        header, classes = _parse_file(path)
        return cls(
            header['dataset'],
            classes,
            path=path,
            description=header['description'],
            parent_path=header['parent_path'])

    @property
    def _where(self) -> str:
        return self.path if self.path is not None else '<memory>'

    @property
    def class_names(self) -> List[str]:
        """list[str]: The class names in label order."""
        return [cls.name for cls in self.classes]

    def __len__(self) -> int:
        return len(self.classes)

    def __iter__(self) -> Iterator[ActionClass]:
        return iter(self.classes)

    def __getitem__(self, index: int) -> ActionClass:
        """The class of a label (an int; negative counts from the end)."""
        return self.classes[operator.index(index)]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(dataset={self.dataset!r}, '
                f'num_classes={len(self)}, path={self.path!r})')

    def by_name(self, name: str) -> ActionClass:
        """The class of a name.

        Args:
            name (str): The exact class name.

        Returns:
            ActionClass: The class.

        Raises:
            UnknownClassError: (a :class:`KnowledgeError` and a
                :class:`KeyError`) if there is no such class; the message
                names the file and lists close matches.
        """
        try:
            return self._by_name[name]
        except (KeyError, TypeError):
            raise UnknownClassError(
                f'{self._where}: no class named {_short(name)} in '
                f'{self.dataset!r}' + _close(name, self._by_name)) from None

    def index_of(self, name: str) -> int:
        """The label of a class name (see :meth:`by_name`).

        Args:
            name (str): The exact class name.

        Returns:
            int: The 0-based label.
        """
        return self.by_name(name).index

    def labels(self, classes: Iterable[Union[int, str]]) -> List[int]:
        """Labels of a class list given as names and/or labels.

        Used by the heads for their train / candidate class lists.

        Args:
            classes (Iterable[int | str]): Class names or 0-based labels.

        Returns:
            list[int]: The labels, in the given order.

        Raises:
            ValueError: If a name is empty, a label is out of range or not
                an integer, the list is empty or repeats a class (an
                unknown name raises :class:`UnknownClassError`).

        Example:
            >>> ActionKnowledge.load('synth_ntu').labels(['throw', 0])
            [2, 0]
        """
        classes = list(classes)
        labels = []
        for c in classes:
            if isinstance(c, str):
                if not c.strip():
                    raise ValueError(
                        f'empty class name in {classes} ({self.path})')
                labels.append(self.index_of(c))
            elif isinstance(c, bool) or not hasattr(c, '__index__'):
                raise ValueError(f'classes {classes}: expected class names '
                                 f'or integer labels, got {c!r}')
            else:
                labels.append(operator.index(c))
        bad = [c for c in labels if not 0 <= c < len(self)]
        if bad or not labels or len(set(labels)) != len(labels):
            raise ValueError(
                f'classes {classes}: expected distinct labels in '
                f'[0, {len(self)}) or names of {self.path}')
        return labels

    def check_labels(self,
                     labels: Iterable[int],
                     source: str = 'the data') -> None:
        """Fail on labels that are not classes of the knowledge.

        The heads call it on every training batch, so that data with more
        classes than the knowledge (or a negative label, which would
        silently index from the end) stops with the labels named.

        Args:
            labels (Iterable[int]): 0-based labels.
            source (str): Where they come from, for the message. Defaults
                to ``'the data'``.

        Raises:
            KnowledgeError: If a label is outside ``[0, len(self))``.

        Example:
            >>> knowledge = ActionKnowledge.load('synth_ntu')
            >>> knowledge.check_labels([0, 31])
            >>> try:
            ...     knowledge.check_labels([3, 40, -1], 'the batch')
            ... except KnowledgeError as error:
            ...     print(str(error).split(': ', 1)[1])
            the batch has labels [-1, 40] outside the 32 classes of
            'synth_ntu' (0..31): the data has classes that the knowledge lacks
        """
        outside = sorted({int(x) for x in labels if not 0 <= x < len(self)})
        if outside:
            raise _fail(
                self._where, f'{source} has labels {outside[:10]} outside '
                f'the {len(self)} classes of {self.dataset!r} '
                f'(0..{len(self) - 1}): the data has classes that the '
                'knowledge lacks')

    def subset(self,
               names: Iterable[str],
               dataset: Optional[str] = None) -> 'ActionKnowledge':
        """The knowledge restricted to some classes, re-indexed.

        Used for zero-shot splits and open-vocabulary candidate lists.

        Args:
            names (Iterable[str]): Class names, in the new label order.
            dataset (str, optional): The name of the new knowledge.
                Defaults to the name of this one.

        Returns:
            ActionKnowledge: The classes ``names`` with indices
            ``0..len(names)-1``; ``path`` and ``parent_path`` as here.

        Raises:
            KnowledgeError: If ``names`` is empty, repeats a name or names
                an unknown class.
        """
        names = list(names)
        if not names:
            raise _fail(self._where, 'subset: expected at least one name')
        first: Dict[str, int] = {}
        for position, name in enumerate(names):
            if name in first:
                raise _fail(
                    self._where, f'subset: name {position} ({name!r}) '
                    f'repeats name {first[name]}')
            first[name] = position
        classes = [
            dataclasses.replace(self.by_name(name), index=position)
            for position, name in enumerate(names)
        ]
        return type(self)(
            self.dataset if dataset is None else dataset,
            classes,
            path=self.path,
            description=self.description,
            parent_path=self.parent_path)

    def check_class_names(self,
                          names: Sequence[str],
                          source: str = 'the class list',
                          prefix: bool = False) -> None:
        """Check a dataset's class list against the knowledge.

        Args:
            names (Sequence[str]): The dataset's class names in label
                order, e.g. read from its ``classes.txt`` or
                ``metainfo['classes']``.
            source (str): Where ``names`` come from, for the message.
                Defaults to ``'the class list'``.
            prefix (bool): Accept a dataset with fewer classes whose
                labels name the knowledge's first classes (NTU RGB+D 60
                data with the NTU RGB+D 120 knowledge, whose first 60
                classes are NTU-60's). Defaults to False.

        Raises:
            KnowledgeError: If the lists differ; the message names both
                sources and every missing, extra, repeated and misordered
                class.
        """
        names = list(names)
        if names == self.class_names:
            return
        if prefix and 0 < len(names) < len(self):
            head = ActionKnowledge(
                self.dataset,
                self.classes[:len(names)],
                path=self.path,
                description=self.description,
                parent_path=self.parent_path)
            return head.check_class_names(names, source)
        known = self._by_name
        given = set(names)
        problems = []
        missing = [c for c in self.classes if c.name not in given]
        if missing:
            problems.append(f'missing from {source}: ' + ', '.join(
                f'{c.index} ({c.name!r})' for c in missing))
        extra = [(i, n) for i, n in enumerate(names) if n not in known]
        if extra:
            problems.append(f'extra in {source}: ' + ', '.join(
                f'{i} ({n!r}){_close(n, known)}' for i, n in extra))
        seen: Dict[str, int] = {}
        repeated = []
        for i, name in enumerate(names):
            if name in seen:
                repeated.append(f'{i} ({name!r}, already {seen[name]})')
            else:
                seen[name] = i
        if repeated:
            problems.append(f'repeated in {source}: ' + ', '.join(repeated))
        # Misordered: the common names whose relative order differs.
        ours = [c.name for c in self.classes if c.name in seen]
        theirs = [n for n in seen if n in known]
        misordered = [
            f'{n!r} (at {seen[n]} in {source}, '
            f'index {known[n].index} in the knowledge)'
            for o, n in zip(ours, theirs) if o != n
        ]
        if misordered:
            problems.append('misordered: ' + ', '.join(misordered))
        if not problems:  # Defensive: the lists differ, so never empty.
            problems.append(f'got {_short(names, 200)}')
        raise KnowledgeError(
            f'{self._where}: class names disagree with {source} '
            f'({len(names)} classes there, {len(self)} in the knowledge '
            f'of {self.dataset!r}): ' + '; '.join(problems))

    def to_dicts(self) -> List[Dict[str, Any]]:
        """The classes as JSON-ready dicts, in the full-file schema.

        Returns:
            list[dict]: One dict per class, in label order.
        """
        return [cls.to_dict() for cls in self.classes]

    def content_hash(self) -> str:
        """A SHA-256 of the canonical JSON of the resolved classes.

        It depends on every text, name, index and field of the classes in
        label order, not on the file layout, the dataset name or the
        description; used to key cached text embeddings.

        Returns:
            str: 64 hex digits.
        """
        canonical = json.dumps(
            self.to_dicts(),
            sort_keys=True,
            ensure_ascii=False,
            separators=(',', ':'))
        return hashlib.sha256(canonical.encode('utf-8')).hexdigest()
