# Copyright (c) mmaction-sugar contributors. All rights reserved.
"""The LLM as the classifier: soft tokens in, class name and description
out (SUGAR stage 3; LLM-AR reuses it)."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from mmengine.model import BaseModule

from mmaction_sugar.datasets.action_knowledge import ActionKnowledge
from mmaction_sugar.models.llms.class_matching import (NO_MATCH,
                                                       ClassNameMatcher,
                                                       check_names)

__all__ = ['LLMHead', 'read_candidates']

PLACEHOLDER = '<action>'
DEFAULT_INSTRUCTION = (
    'Candidate actions: {actions}.\n'
    'Given a sequence of action tokens, please choose the most compatible '
    'action from the candidate actions, and describe the action.\n'
    'Action tokens: <action>')
"""str: The paper's instruction, reordered so that everything but the soft
tokens comes first: its keys and values are computed once and shared by
every clip of a batch, and only the chat template's few closing tokens
follow the soft tokens."""

Classes = Optional[Union[str, Sequence[Union[int, str]]]]


def read_candidates(path: str) -> List[str]:
    """Class names from a text file, one per line (``#`` comments).

    Raises:
        ValueError: If the file is missing, not UTF-8 text, empty or has
            duplicates.
    """
    if not osp.isfile(path):
        raise ValueError(f'candidate list {path!r} does not exist')
    try:  # utf-8-sig: a byte-order mark is not part of the first name
        with open(path, encoding='utf-8-sig') as f:
            names = [
                ln.strip() for ln in f
                if ln.strip() and not ln.lstrip().startswith('#')
            ]
    except UnicodeDecodeError as err:
        raise ValueError(
            f'candidate list {path!r} is not UTF-8 text: {err}') from None
    if not names:
        raise ValueError(f'candidate list {path!r} names no class')
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f'candidate list {path!r} repeats {dup}')
    return names


class _Trie:
    """Token trie of the candidate names, in the two layouts scoring uses.

    Node 0 is the root (the context's last position).

    One-pass scoring (:meth:`LLMHead.candidate_scores`): every internal
    node below the root is one input position (``tokens``, ``depth``);
    its 4D mask row (``visible``) sees the context and its own ancestors,
    its position id is the context length plus its depth. ``rows`` /
    ``toks`` / ``valid`` (candidates, steps) gather the (row, token) pairs
    whose log-probabilities add up to a candidate's likelihood, row 0
    being the context's last position.

    Best-first search (:meth:`LLMHead.search_scores`): per-node arrays
    over all ``num_nodes`` nodes plus one dummy node (index
    ``num_nodes``) that pads them: ``node_token``, ``node_depth``,
    ``has_children``, ``child_node`` / ``child_token`` (nodes, width);
    ``end`` is each candidate's last node and ``path`` (candidates,
    depth) its nodes from depth 1, padded with the dummy node.
    """

    def __init__(self, sequences: List[List[int]]):
        children: List[Dict[int, int]] = [dict()]
        parent, token, depth = [-1], [0], [0]
        ends = []
        for seq in sequences:
            node = 0
            for tok in seq:
                if tok not in children[node]:
                    children.append(dict())
                    parent.append(node)
                    token.append(tok)
                    depth.append(depth[node] + 1)
                    children[node][tok] = len(token) - 1
                node = children[node][tok]
            ends.append(node)
        self.parent = parent
        paths = [self.ancestors(end)[::-1] for end in ends]
        # one-pass layout: inputs are the non-root nodes that have
        # children (leaves need no output)
        inner = [n for n in range(1, len(token)) if children[n]]
        row = {0: 0}
        row.update({n: i + 1 for i, n in enumerate(inner)})
        self.tokens = torch.tensor([token[n] for n in inner], dtype=torch.long)
        self.depth = torch.tensor([depth[n] for n in inner], dtype=torch.long)
        self.visible = torch.zeros(len(inner), len(inner), dtype=torch.bool)
        for i, n in enumerate(inner):
            for a in self.ancestors(n):
                self.visible[i, row[a] - 1] = True
        steps = max(map(len, paths))
        self.rows = torch.zeros(len(ends), steps, dtype=torch.long)
        self.toks = torch.zeros(len(ends), steps, dtype=torch.long)
        self.valid = torch.zeros(len(ends), steps, dtype=torch.bool)
        for c, nodes in enumerate(paths):
            for s, n in enumerate(nodes):
                self.rows[c, s], self.toks[c, s] = row[parent[n]], token[n]
                self.valid[c, s] = True
        # search layout: per node, padded with the dummy node
        num = self.num_nodes = len(token)
        self.node_token = torch.tensor(token + [0], dtype=torch.long)
        self.node_depth = torch.tensor(depth + [1], dtype=torch.long)
        self.has_children = torch.tensor([bool(c) for c in children] +
                                         [False])
        width = max(1, max(len(c) for c in children))
        self.child_node = torch.full((num + 1, width), num, dtype=torch.long)
        self.child_token = torch.zeros(num + 1, width, dtype=torch.long)
        for n, kids in enumerate(children):
            for j, (tok, kid) in enumerate(kids.items()):
                self.child_node[n, j], self.child_token[n, j] = kid, tok
        self.end = torch.tensor(ends, dtype=torch.long)
        self.path = torch.full((len(ends), steps), num, dtype=torch.long)
        for c, nodes in enumerate(paths):
            self.path[c, :len(nodes)] = torch.tensor(nodes)

    def ancestors(self, node: int) -> List[int]:
        """The node and its ancestors below the root."""
        out = []
        while node > 0:
            out.append(node)
            node = self.parent[node]
        return out


@MODELS.register_module()
class LLMHead(BaseModule):
    """A frozen, LoRA-tuned causal LM that names and describes the action.

    The prompt is the tokenizer's chat template around ``instruction``,
    whose ``{actions}`` becomes the candidate class names and whose
    ``<action>`` marks where the soft tokens go. Everything before the
    soft tokens is shared by all clips and encoded once per batch.

    Training target: ``"<class name>. <description>"`` and the EOS token,
    the description being the class's one-sentence summary from the
    knowledge base; cross-entropy on the target tokens only (soft tokens,
    prompt and padding are labelled -100).

    Prediction fills ``pred_score`` (over all classes of the knowledge,
    non-candidates -1e4) with the log-likelihood of the candidate names
    (each followed by ``'.'``) given the prompt, so ``AccMetric`` reports
    top-1/top-5 without generation: either every name exactly (the names
    packed into one token trie, run in the same forward pass as the
    clip's prompt tokens) or, with ``score_search='topk'``, the top k
    exactly by a best-first search over that trie. With ``generate=True``
    it also decodes greedily and stores ``pred_text`` (the answer),
    ``pred_text_label`` (the class it names, see
    :class:`ClassNameMatcher`; when it names none, the scored
    ``pred_label``) and ``pred_text_match`` (the matching rule,
    ``'none'`` for an answer that names no class). The candidates must then be
    distinguishable in text (:func:`check_names`), checked when they are
    set.

    Args:
        llm (dict): A :class:`LoRACausalLM` config.
        in_channels (int, optional): Width of the soft tokens; must equal
            the LLM's. Defaults to None (the LLM's width).
        knowledge (str): Bundled knowledge name or file path (class names
            and descriptions). Defaults to ``'synth_ntu'``.
        train_classes (list | str, optional): Names or labels in the
            training prompt (seen classes); None for all. Defaults to None.
        test_classes (list | str, optional): Names or labels in the test
            prompt, or a text file of names (one per line): any classes of
            the knowledge, unseen ones included. Defaults to None (all).
        instruction (str): See above. Defaults to
            :data:`DEFAULT_INSTRUCTION`.
        use_chat_template (bool): Wrap the instruction in the tokenizer's
            chat template when it has one. Defaults to True.
        description (str): ``'summary'`` or ``'none'`` (name only).
            Defaults to ``'summary'``.
        max_target_tokens (int): Cut longer targets (EOS included).
            Defaults to 32.
        score_norm (str): ``'sum'`` (exact log-likelihood) or ``'mean'``
            (per token). Defaults to ``'sum'``.
        generate (bool): Also generate answers in ``predict``. Defaults to
            False.
        max_new_tokens (int): Generation length. Defaults to 48.
        matcher_encoder (dict, optional): A ``FrozenTextEncoder`` config
            for mapping off-list answers by embedding. Defaults to the
            bundled MiniLM; None uses ``difflib`` only.
        rescale_soft_tokens (bool): L2-normalise every soft token and scale
            it to the mean norm of the LLM's token embeddings (a trained
            TQP gives SmolLM2 tokens ~12x longer than its words). On
            SynthNTU it did not help (10.3 vs 16.8 top-1, one seed each;
            docs/RESULTS.md). Defaults to False.
        align_weight (float): Weight of an auxiliary name-alignment loss
            (``loss_align``, this project's addition; 0 is the paper's
            recipe): an InfoNCE loss that pulls the clip's mean soft token
            towards the LLM's own word embedding of its class name (the
            mean over the name's tokens) and away from the other training
            classes'. It gives the freshly initialised projection a direct
            gradient into the LLM's input space, in the spirit of BLIP-2's
            representation stage. On SynthNTU it did not help (1 epoch:
            9.90 against 12.11 top-1, zero-shot 10.83 against chance 20;
            docs/RESULTS.md). Defaults to 0.
        align_temperature (float): Its softmax temperature. Defaults to
            0.07.
        shuffle_candidates (bool): List the training classes in a new
            random order at every training step (one order per batch, so
            the prompt prefix stays shared), so that the LLM must read the
            list rather than learn its positions; this project's option
            for open-vocabulary use. On SynthNTU zero-shot stayed at
            chance with it (docs/RESULTS.md). Defaults to False.
        score_search (str): How ``pred_score`` is computed. ``'exact'``:
            every candidate's exact log-likelihood, all trie nodes in one
            pass. ``'topk'``: a best-first search over the name trie that
            expands only prefixes whose log-likelihood (an upper bound on
            every name below them) can still reach the ``search_topk``
            best complete names, ``search_width`` nodes per clip and step;
            the top ``search_topk`` names and their scores are exact, the
            rest get their bound (lower than the k-th score), and the data
            samples carry ``score_exact_topk`` (k), which
            :class:`ZeroShotAccMetric` refuses (it re-ranks subsets).
            Needs ``score_norm='sum'``; samples with several clips are
            scored exactly. Defaults to ``'exact'``.
        search_topk (int): k of the ``'topk'`` search (5 keeps top-5
            exact). Defaults to 5.
        search_width (int, optional): Nodes expanded per clip and step.
            Defaults to None (``search_topk``).
        init_cfg (dict, optional): Unused. Defaults to None.

    Example:
        >>> head = LLMHead(
        ...     llm=dict(type='LoRACausalLM', config=dict(
        ...         model_type='llama', vocab_size=49152, hidden_size=32,
        ...         intermediate_size=64, num_hidden_layers=2,
        ...         num_attention_heads=4, num_key_value_heads=2),
        ...         tokenizer_path='smollm2-135m-instruct',
        ...         lora=dict(r=4, lora_alpha=8,
        ...                   target_modules=['q_proj', 'v_proj'])),
        ...     in_channels=32, knowledge='synth_ntu', matcher_encoder=None)
        >>> from mmaction.structures import ActionDataSample
        >>> samples = [ActionDataSample().set_gt_label(3) for _ in range(2)]
        >>> soft = torch.randn(2, 8, 32)  # (N, Q, H) from the TQP neck
        >>> sorted(head.loss(soft, samples))
        ['loss_llm', 'name_acc', 'token_acc']
        >>> out = head.predict(soft, samples)
        >>> out[0].pred_score.shape
        torch.Size([32])
    """

    def __init__(self,
                 llm: Dict,
                 in_channels: Optional[int] = None,
                 knowledge: str = 'synth_ntu',
                 train_classes: Classes = None,
                 test_classes: Classes = None,
                 instruction: str = DEFAULT_INSTRUCTION,
                 use_chat_template: bool = True,
                 description: str = 'summary',
                 max_target_tokens: int = 32,
                 score_norm: str = 'sum',
                 generate: bool = False,
                 max_new_tokens: int = 48,
                 matcher_encoder: Optional[Dict] = dict(
                     type='FrozenTextEncoder'),
                 rescale_soft_tokens: bool = False,
                 align_weight: float = 0.0,
                 align_temperature: float = 0.07,
                 shuffle_candidates: bool = False,
                 score_search: str = 'exact',
                 search_topk: int = 5,
                 search_width: Optional[int] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if PLACEHOLDER not in instruction or instruction.count(
                PLACEHOLDER) != 1:
            raise ValueError(f'instruction must contain {PLACEHOLDER!r} '
                             f'exactly once: {instruction!r}')
        if description not in ('summary', 'none'):
            raise ValueError("description must be 'summary' or 'none', got "
                             f'{description!r}')
        if score_norm not in ('sum', 'mean'):
            raise ValueError(
                f"score_norm must be 'sum' or 'mean', got {score_norm!r}")
        if score_search not in ('exact', 'topk'):
            raise ValueError("score_search must be 'exact' or 'topk', got "
                             f'{score_search!r}')
        if score_search == 'topk' and score_norm != 'sum':
            raise ValueError("score_search='topk' needs score_norm='sum' "
                             '(a mean log-likelihood is no bound)')
        if search_topk < 1 or (search_width is not None and search_width < 1):
            raise ValueError('search_topk and search_width must be >= 1, got '
                             f'{search_topk} and {search_width}')
        if align_weight < 0 or align_temperature <= 0:
            raise ValueError(
                'align_weight must be >= 0 and align_temperature > 0, got '
                f'{align_weight} and {align_temperature}')
        self.knowledge = ActionKnowledge.load(knowledge)
        self.num_classes = len(self.knowledge)
        self.llm = MODELS.build(llm)
        in_channels = in_channels or self.llm.hidden_size
        if in_channels != self.llm.hidden_size:
            raise ValueError(
                f'the soft tokens have {in_channels} channels but the LLM '
                f'embeds to {self.llm.hidden_size}: set the neck\'s '
                f'out_channels and the head\'s in_channels to '
                f'{self.llm.hidden_size}')
        self.in_channels = in_channels
        self.instruction = instruction
        self.use_chat_template = use_chat_template
        self.description = description
        self.max_target_tokens = max_target_tokens
        self.score_norm = score_norm
        self.generate = generate
        self.max_new_tokens = max_new_tokens
        self.matcher_encoder = matcher_encoder
        self.register_buffer('train_index', self._class_index(train_classes),
                             False)
        self.register_buffer('test_index', self._class_index(test_classes),
                             False)
        self._check_matchable()
        lookup = torch.full((self.num_classes, ), -1)
        lookup[self.train_index] = torch.arange(len(self.train_index))
        self.register_buffer('train_lookup', lookup, False)
        norms = self.llm.base_causal_lm.get_input_embeddings().weight.detach(
        ).float().norm(dim=-1)
        # the scale of a word for the LLM (not checkpointed: derived)
        self.register_buffer('embed_norm', norms.mean(), False)
        self.rescale_soft_tokens = rescale_soft_tokens
        self.align_weight = align_weight
        self.align_temperature = align_temperature
        self._name_embeds: Optional[torch.Tensor] = None
        self.shuffle_candidates = shuffle_candidates
        self.score_search = score_search
        self.search_topk = search_topk
        self.search_width = search_width
        self._prompts: Dict[Tuple[int, ...], Tuple] = {}
        self._targets: Dict[int, List[int]] = {}
        self._tries: Dict[Tuple[int, ...], _Trie] = {}
        self._matchers: Dict[Tuple[int, ...], ClassNameMatcher] = {}
        self._eval_prefix = None  # (classes, past) while weights are fixed

    # ------------------------------------------------------------------
    # class lists, prompts and targets
    @property
    def class_names(self) -> List[str]:
        """list[str]: The label space, in label order."""
        return self.knowledge.class_names

    def _class_index(self, classes: Classes) -> torch.Tensor:
        if classes is None:
            return torch.arange(self.num_classes)
        if isinstance(classes, str):  # a file, or a single class name
            classes = ([classes] if classes in self.knowledge
                       and not osp.isfile(classes) else
                       read_candidates(classes))
        return torch.tensor(self.knowledge.labels(classes))

    def set_test_classes(self, classes: Classes) -> None:
        """Change the candidate list (open vocabulary) at test time."""
        self.test_index = self._class_index(classes).to(self.test_index.device)
        self._check_matchable()
        self._eval_prefix = None

    def _check_matchable(self) -> None:
        """With generation, answers must tell the candidates apart."""
        if self.generate:
            check_names([self.class_names[i] for i in self.test_index])

    def _prompt(self,
                classes: torch.Tensor,
                keep: bool = True) -> Tuple[List[int], List[int]]:
        """Token ids before and after the soft tokens for a class list
        (kept for the next call unless ``keep`` is False)."""
        key = tuple(classes.tolist())
        if key not in self._prompts:
            names = '; '.join(self.class_names[i] for i in key)
            text = self.instruction.replace('{actions}', names)
            tok = self.llm.tokenizer
            if self.use_chat_template and tok.chat_template:
                text = tok.apply_chat_template(
                    [dict(role='user', content=text)],
                    tokenize=False,
                    add_generation_prompt=True)
            before, after = text.split(PLACEHOLDER)
            ids = (self.llm.tokenize(before), self.llm.tokenize(after))
            if not keep:
                return ids
            self._prompts[key] = ids
        return self._prompts[key]

    def _name_ids(self, label: int) -> List[int]:
        return self.llm.tokenize(self.class_names[label] + '.')

    def _target(self, label: int) -> List[int]:
        """Target ids: the name, a full stop, the description, EOS."""
        if label not in self._targets:
            ids = self._name_ids(label)
            summary = self.knowledge[label].summary.strip()
            if self.description == 'summary' and summary:
                ids = ids + self.llm.tokenize(' ' + summary)
            ids = ids[:self.max_target_tokens - 1]
            self._targets[label] = ids + [self.llm.tokenizer.eos_token_id]
        return self._targets[label]

    def _check_tokens(self, soft: torch.Tensor) -> torch.Tensor:
        """Validate soft tokens and bring them to the LLM's scale."""
        if soft.dim() != 3 or soft.shape[-1] != self.in_channels:
            raise ValueError(
                f'expected soft tokens (N, Q, {self.in_channels}), got '
                f'shape {tuple(soft.shape)}')
        if self.rescale_soft_tokens:
            soft = F.normalize(soft, dim=-1) * self.embed_norm
        return soft

    def _ids(self, ids: List[int], device) -> torch.Tensor:
        return torch.tensor(ids, dtype=torch.long, device=device)

    # ------------------------------------------------------------------
    # training
    def train(self, mode: bool = True):
        self._eval_prefix = None  # the LoRA weights are about to change
        return super().train(mode)

    def _load_from_state_dict(self, *args, **kwargs):
        self._eval_prefix = None  # cached keys/values of the old weights
        super()._load_from_state_dict(*args, **kwargs)

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """Candidate scores (the ``tensor`` mode); see :meth:`scores`."""
        return self.scores(x)

    def loss(self, soft: torch.Tensor, data_samples: SampleList,
             **kwargs) -> Dict:
        """Next-token cross-entropy on the target text.

        Args:
            soft (torch.Tensor): Soft tokens, shape (N, Q, H).
            data_samples (list[ActionDataSample]): With ``gt_label``.

        Returns:
            dict: ``loss_llm``, ``token_acc`` (greedy next-token accuracy
            on the target) and ``name_acc`` (on the name's first token).
        """
        soft = self._check_tokens(soft)
        self._eval_prefix = None
        labels = torch.stack([d.gt_label for d in data_samples]).view(-1)
        if len(labels) != len(soft):
            raise ValueError(f'{len(soft)} clips of soft tokens but '
                             f'{len(labels)} data samples')
        self.knowledge.check_labels(labels.tolist(), 'the training batch')
        seen = self.train_lookup[labels.to(self.train_lookup.device)]
        if (seen < 0).any():
            unseen = labels[seen.cpu() < 0].unique().tolist()
            raise ValueError(f'training labels {unseen} are not among the '
                             "head's train_classes (zero-shot split)")
        device = soft.device
        if self.shuffle_candidates:  # a fresh order: not worth keeping
            order = torch.randperm(len(self.train_index))
            before, after = self._prompt(
                self.train_index[order.to(self.train_index.device)],
                keep=False)
        else:
            before, after = self._prompt(self.train_index)
        targets = [self._target(int(label)) for label in labels]
        width = max(map(len, targets))
        target = torch.full((len(targets), width), -100, device=device)
        for i, ids in enumerate(targets):
            target[i, :len(ids)] = self._ids(ids, device)
        # inputs: soft tokens, the rest of the prompt, the target but its
        # last token; padding reads EOS and is never a label
        inputs = target[:, :-1].clamp(min=0).masked_fill(
            target[:, :-1] < 0, self.llm.tokenizer.eos_token_id)
        after_ids = self._ids(after, device).expand(len(soft), -1)
        embeds = torch.cat([
            soft.to(self.llm.dtype),
            self.llm.embed_tokens(after_ids),
            self.llm.embed_tokens(inputs)
        ], 1)
        prefix = self.llm.embed_tokens(self._ids(before, device)[None])
        if self.llm.gradient_checkpointing:  # no cache under checkpointing
            embeds = torch.cat([prefix.expand(len(soft), -1, -1), embeds], 1)
            hidden = self.llm.decoder(inputs_embeds=embeds).last_hidden_state
        else:
            hidden, _ = self.llm.forward_embeds(embeds, prefix=prefix)
        hidden = hidden[:, -width:]  # positions that predict the target
        logits = self.llm.logits(hidden)
        loss = F.cross_entropy(
            logits.flatten(0, 1), target.flatten(), ignore_index=-100)
        hits = logits.argmax(-1) == target
        out = dict(
            loss_llm=loss,
            token_acc=hits[target >= 0].float().mean(),
            # the first token of the class name: the decision itself
            name_acc=hits[:, 0].float().mean())
        if self.align_weight > 0:
            out.update(self._align_loss(soft, seen))
        return out

    def name_embeddings(self) -> torch.Tensor:
        """The LLM's word embedding of every class name (mean over its
        tokens, the trailing full stop excluded), shape (C, H); frozen."""
        if self._name_embeds is None:
            with torch.no_grad():
                rows = []
                for name in self.class_names:
                    ids = self.llm.tokenize(name)
                    rows.append(
                        self.llm.embed_tokens(
                            self._ids(ids, self.llm.device)).float().mean(0))
            self._name_embeds = torch.stack(rows)
        return self._name_embeds

    def _align_loss(self, soft: torch.Tensor, seen: torch.Tensor) -> Dict:
        """InfoNCE between mean soft tokens and the seen classes' names."""
        names = self.name_embeddings()[self.train_index].to(soft.device)
        pooled = F.normalize(soft.float().mean(1), dim=-1)
        logits = pooled @ F.normalize(names, dim=-1).t()
        logits = logits / self.align_temperature
        target = seen.to(soft.device)
        return dict(
            loss_align=self.align_weight * F.cross_entropy(logits, target),
            align_acc=(logits.argmax(-1) == target).float().mean())

    # ------------------------------------------------------------------
    # prediction
    def _context(self, soft: torch.Tensor, classes: torch.Tensor):
        """Run the prompt for a batch: last hidden state and the cache."""
        soft = self._check_tokens(soft)  # idempotent
        hidden, cache = self.llm.forward_embeds(
            self._clip_embeds(soft, classes),
            past=self._prefix_past(classes, soft.device))
        return hidden[:, -1], cache

    def _prefix_past(self, classes: torch.Tensor, device) -> List[Tuple]:
        """Keys and values of the shared prompt before the soft tokens,
        kept while the weights and the class list stay the same."""
        key = tuple(classes.tolist())
        if self._eval_prefix is None or self._eval_prefix[0] != key:
            before, _ = self._prompt(classes)
            prefix = self.llm.embed_tokens(self._ids(before, device)[None])
            self._eval_prefix = (key, self.llm.encode_prefix(prefix))
        return self._eval_prefix[1]

    def _clip_embeds(self, soft: torch.Tensor,
                     classes: torch.Tensor) -> torch.Tensor:
        """A clip's own prompt part: soft tokens, then the closing ids."""
        _, after = self._prompt(classes)
        after_ids = self._ids(after, soft.device).expand(len(soft), -1)
        return torch.cat(
            [soft.to(self.llm.dtype),
             self.llm.embed_tokens(after_ids)], 1)

    def _trie(self, classes: torch.Tensor) -> _Trie:
        key = tuple(classes.tolist())
        if key not in self._tries:
            self._tries[key] = _Trie([self._name_ids(c) for c in key])
        return self._tries[key]

    def _additive(self, mask: torch.Tensor, device) -> torch.Tensor:
        """A boolean attention mask (True: visible) as the additive mask
        the LLM takes."""
        return torch.zeros(
            mask.shape, dtype=self.llm.dtype).masked_fill(
                ~mask, torch.finfo(self.llm.dtype).min).to(device)

    @torch.no_grad()
    def candidate_scores(self,
                         soft: torch.Tensor,
                         classes: Optional[torch.Tensor] = None,
                         context=None) -> torch.Tensor:
        """Log-likelihood of every candidate name, one forward pass.

        Args:
            soft (torch.Tensor): Soft tokens, shape (N, Q, H).
            classes (torch.Tensor, optional): Candidate labels. Defaults
                to ``test_index``.
            context (tuple, optional): The output of ``_context`` for
                these clips and classes (shared with generation). Without
                it the clips' prompt tokens and the trie nodes run in the
                same pass. Defaults to None.

        Returns:
            torch.Tensor: Scores, shape (N, C').
        """
        soft = self._check_tokens(soft)
        classes = self.test_index if classes is None else classes
        trie = self._trie(classes)
        device, num = soft.device, len(soft)
        inner = len(trie.tokens)
        ids = trie.tokens.to(device).expand(num, -1)
        if context is not None:  # the clips' prompt already ran
            last, cache = context
            rows = [last[:, None]]
            clip, past = 0, self.llm.cache_state(cache)  # a copy
            ctx = cache.get_seq_length()
            embeds = self.llm.embed_tokens(ids)
        else:  # one pass: the clips' prompt and the trie together
            clip_embeds = self._clip_embeds(soft, classes)
            past = self._prefix_past(classes, device)
            clip, rows = clip_embeds.shape[1], []
            ctx = past[0][0].shape[2] + clip if past else clip
            embeds = torch.cat([clip_embeds, self.llm.embed_tokens(ids)], 1)
        if clip + inner:
            # rows: the clip's prompt (causal), then the trie nodes, which
            # see the whole prompt and their own ancestors
            seen = ctx - clip
            mask = torch.zeros(clip + inner, ctx + inner, dtype=torch.bool)
            mask[:, :seen] = True
            mask[:clip, seen:ctx] = torch.ones(clip, clip).tril().bool()
            mask[clip:, seen:ctx] = True
            mask[clip:, ctx:] = trie.visible
            additive = self._additive(mask, device)
            positions = torch.cat([
                torch.arange(seen, ctx), ctx - 1 + trie.depth
            ]).to(device)
            hidden, _ = self.llm.forward_embeds(
                embeds,
                past=past,
                attention_mask=additive.expand(num, 1, -1, -1),
                position_ids=positions.expand(num, -1))
            if clip:
                rows.append(hidden[:, clip - 1:clip])
            rows.append(hidden[:, clip:])
        logits = self.llm.logits(torch.cat(rows, 1))  # (N, 1 + inner, V)
        rows_, toks = trie.rows.to(device), trie.toks.to(device)
        # log-softmax at the needed tokens only (no (N, R, V) copy)
        steps = logits[:, rows_, toks] - logits.logsumexp(-1)[:, rows_]
        valid = trie.valid.to(device)
        scores = (steps * valid).sum(-1)  # (N, C')
        if self.score_norm == 'mean':
            scores = scores / valid.sum(-1)
        return scores

    @torch.no_grad()
    def search_scores(self,
                      soft: torch.Tensor,
                      classes: Optional[torch.Tensor] = None,
                      context=None) -> torch.Tensor:
        """Exact top-k candidate scores by best-first trie search.

        A name's log-likelihood is the sum of its tokens' (negative)
        log-probabilities, so a prefix's sum bounds every name below it.
        Starting from the context's last position, each step feeds, for
        every clip, the ``search_width`` best unexpanded prefixes whose
        bound exceeds the clip's k-th best complete name, one token each,
        seeing the context and their own ancestors (tree attention on the
        growing cache). It stops when no such prefix is left, so the k
        best names are final; any other name gets the bound of its
        deepest scored prefix, which is at most the k-th best score.

        Args:
            soft (torch.Tensor): Soft tokens, shape (N, Q, H).
            classes (torch.Tensor, optional): Candidate labels. Defaults
                to ``test_index``.
            context (tuple, optional): The output of ``_context``.

        Returns:
            torch.Tensor: Scores, shape (N, C').
        """
        soft = self._check_tokens(soft)
        classes = self.test_index if classes is None else classes
        last, cache = context or self._context(soft, classes)
        trie = self._trie(classes)
        device, num, dummy = soft.device, len(soft), trie.num_nodes
        k = min(self.search_topk, len(classes))
        width = min(self.search_width or k, dummy)
        child_node = trie.child_node.to(device)
        child_token = trie.child_token.to(device)
        has_children = trie.has_children.to(device)
        score = torch.full((num, dummy + 1), float('-inf'), device=device)
        score[:, 0] = 0
        expanded = torch.zeros_like(score, dtype=torch.bool)
        slot = [dict() for _ in range(num)]  # node -> its cache position

        def expand(picks: torch.Tensor, logits: torch.Tensor) -> None:
            # picks (N, w) nodes (dummy: none); logits (N, w, V)
            logp = logits.float().log_softmax(-1)
            kids = child_node[picks]
            new = score.gather(1, picks)[..., None] + logp.gather(
                -1, child_token[picks])
            score.scatter_(1, kids.flatten(1), new.flatten(1))
            expanded.scatter_(1, picks, True)
            score[:, dummy] = float('-inf')  # padding scattered there

        expand(
            torch.zeros(num, 1, dtype=torch.long, device=device),
            self.llm.logits(last)[:, None])
        ctx = cache.get_seq_length()
        # a copy: the context cache stays clean for generation
        cache = self.llm.new_cache(self.llm.cache_state(cache), num)
        end = trie.end.to(device)
        while True:
            kth = score[:, end].topk(k, dim=1).values[:, -1:]
            open_ = ~expanded & has_children & (score > kth)
            if not open_.any():
                break
            vals, picks = score.masked_fill(~open_, float('-inf')).topk(
                width, dim=1)
            ok = vals.isfinite()
            picks = picks.masked_fill(~ok, dummy)[:, ok.any(0)]
            step, length = picks.shape[1], cache.get_seq_length()
            mask = torch.zeros(num, step, length + step, dtype=torch.bool)
            mask[:, :, :ctx] = True
            mask[:, torch.arange(step), length + torch.arange(step)] = True
            for i, row in enumerate(picks.tolist()):
                for j, node in enumerate(row):
                    if node == dummy:
                        continue
                    for anc in trie.ancestors(node)[1:]:
                        mask[i, j, slot[i][anc]] = True
                    slot[i][node] = length + j
            hidden, cache = self.llm.forward_embeds(
                self.llm.embed_tokens(trie.node_token.to(device)[picks]),
                cache=cache,
                attention_mask=self._additive(mask, device)[:, None],
                position_ids=ctx - 1 + trie.node_depth.to(device)[picks])
            expand(picks, self.llm.logits(hidden))
        # a name's deepest scored prefix: its own score once complete
        path = score[:, trie.path.to(device)]
        return path.masked_fill(path.isinf(), float('inf')).amin(-1)

    def scores(self,
               soft: torch.Tensor,
               context=None,
               exact: bool = False) -> torch.Tensor:
        """Candidate scores over all classes; non-candidates are -1e4.

        ``exact=True`` forces exact scoring of every candidate whatever
        ``score_search`` says.
        """
        out = torch.full((len(soft), self.num_classes),
                         -1e4,
                         device=soft.device)
        fn = (self.search_scores if self.score_search == 'topk'
              and not exact else self.candidate_scores)
        out[:, self.test_index] = fn(soft, self.test_index, context)
        return out

    @torch.no_grad()
    def generate_text(self, soft: torch.Tensor, context=None) -> List[str]:
        """Greedy answers for a batch of clips (the prompt cached once).

        Args:
            soft (torch.Tensor): Soft tokens, shape (N, Q, H).
            context (tuple, optional): Reuse an earlier ``_context``.

        Returns:
            list[str]: One decoded answer per clip.
        """
        soft = self._check_tokens(soft)
        last, cache = context or self._context(soft, self.test_index)
        eos = self.llm.tokenizer.eos_token_id
        done = torch.zeros(len(soft), dtype=torch.bool, device=soft.device)
        out = []
        for _ in range(self.max_new_tokens):
            token = self.llm.logits(last).argmax(-1)
            token = token.masked_fill(done, eos)
            out.append(token)
            done |= token == eos
            if done.all():
                break
            hidden, cache = self.llm.forward_embeds(
                self.llm.embed_tokens(token[:, None]), cache=cache)
            last = hidden[:, -1]
        ids = torch.stack(out, 1).tolist()
        return [
            self.llm.tokenizer.decode(
                seq[:seq.index(eos)] if eos in seq else seq,
                skip_special_tokens=True).strip() for seq in ids
        ]

    def _matcher(self) -> ClassNameMatcher:
        key = tuple(self.test_index.tolist())
        if key not in self._matchers:
            embed = None
            if self.matcher_encoder is not None:
                encoder = MODELS.build(self.matcher_encoder)
                embed = encoder.encode
            names = [self.class_names[i] for i in key]
            self._matchers[key] = ClassNameMatcher(names, embed)
        return self._matchers[key]

    @torch.no_grad()
    def predict(self, soft: torch.Tensor, data_samples: SampleList,
                **kwargs) -> SampleList:
        """Score the candidates (and generate answers if asked).

        Several clips per sample (``num_clips`` > 1) have their scores
        averaged; generation uses each sample's first clip.

        Args:
            soft (torch.Tensor): Soft tokens, shape (N * num_clips, Q, H).
            data_samples (list[ActionDataSample]): N samples.

        Returns:
            list[ActionDataSample]: With ``pred_score``, ``pred_label``
            and, when generating, ``pred_text``, ``pred_text_label``,
            ``pred_text_match``.
        """
        num = len(data_samples)
        if len(soft) % num:
            raise ValueError(f'{len(soft)} clips of soft tokens do not '
                             f'split into {num} samples')
        clips = len(soft) // num
        # the clips' prompt runs once when generation shares it
        context = (
            self._context(soft, self.test_index) if self.generate else None)
        # averaging clips needs every candidate's exact score
        exact = clips > 1
        scores = self.scores(
            soft, context, exact=exact).view(num, clips, -1).mean(1)
        texts = None
        if self.generate:
            first = torch.arange(num, device=soft.device) * clips
            last, cache = context
            if clips > 1:
                cache = self.llm.new_cache(
                    [(k[first], v[first])
                     for k, v in self.llm.cache_state(cache)], num)
                last = last[first]
            texts = self.generate_text(soft[first], (last, cache))
        searched = self.score_search == 'topk' and not exact
        for i, sample in enumerate(data_samples):
            sample.set_pred_score(scores[i])
            if searched:  # metrics that re-rank subsets must refuse it
                sample.score_exact_topk = self.search_topk
            sample.set_pred_label(scores[i].argmax().view(1))
            if texts is not None:
                index, rule = self._matcher()(texts[i])
                sample.pred_text = texts[i]
                sample.pred_text_label = (
                    int(scores[i].argmax()) if index == NO_MATCH else int(
                        self.test_index[index]))
                sample.pred_text_match = rule
        return data_samples
