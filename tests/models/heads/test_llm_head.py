# Copyright (c) mmaction-sugar contributors. All rights reserved.
import json

import pytest
import torch
from conftest import TINY_LLAMA, tiny_llm_cfg
from mmaction.structures import ActionDataSample

from mmaction_sugar.datasets import ActionKnowledge, KnowledgeError
from mmaction_sugar.models.heads import LLMHead
from mmaction_sugar.models.heads.llm_head import read_candidates


def build(**kwargs):
    args = dict(
        llm=tiny_llm_cfg(),
        in_channels=32,
        knowledge='synth_ntu',
        matcher_encoder=None,
        max_new_tokens=6)
    args.update(kwargs)
    torch.manual_seed(0)
    return LLMHead(**args)


def samples(labels):
    return [ActionDataSample().set_gt_label(int(x)) for x in labels]


def naive_scores(head, soft, classes):
    """Each candidate's log-likelihood from its own full sequence."""
    llm = head.llm
    soft = head._check_tokens(soft)  # rescaled to the word-embedding norm
    before, after = head._prompt(classes)
    out = []
    for c in classes.tolist():
        ids = head._name_ids(c)
        emb = torch.cat([
            llm.embed_tokens(torch.tensor(before))[None].expand(
                len(soft), -1, -1), soft,
            llm.embed_tokens(torch.tensor(after + ids))[None].expand(
                len(soft), -1, -1)
        ], 1)
        hidden = llm.decoder(inputs_embeds=emb).last_hidden_state
        logp = llm.logits(hidden[:, -len(ids) - 1:-1]).log_softmax(-1)
        target = torch.tensor(ids)[None, :, None].expand(len(soft), -1, 1)
        out.append(logp.gather(-1, target).sum((1, 2)))
    return torch.stack(out, 1)


def test_trie_scoring_is_exact():
    head = build().eval()
    soft = torch.randn(3, 4, 32)
    with torch.no_grad():
        expected = naive_scores(head, soft, head.test_index)
    got = head.candidate_scores(soft)  # prompt and trie in one pass
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
    # after the clips' prompt ran on its own (shared with generation)
    shared = head.candidate_scores(
        soft, context=head._context(soft, head.test_index))
    torch.testing.assert_close(shared, expected, atol=1e-4, rtol=1e-4)
    # shared name prefixes ('hand waving' / 'hands up ...') share nodes
    trie = head._trie(head.test_index)
    total = sum(len(head._name_ids(c)) for c in range(32))
    assert len(trie.tokens) < total


def test_generation_matches_a_full_recompute_and_leaves_scores_alone():
    head = build(generate=True).eval()
    soft = torch.randn(2, 4, 32)
    texts = head.generate_text(soft)
    llm, tok = head.llm, head.llm.tokenizer
    soft = head._check_tokens(soft)
    before, after = head._prompt(head.test_index)
    for i in range(2):
        ids = []
        with torch.no_grad():
            for _ in range(head.max_new_tokens):
                emb = torch.cat([
                    llm.embed_tokens(torch.tensor(before))[None],
                    soft[i:i + 1],
                    llm.embed_tokens(torch.tensor(after + ids))[None]
                ], 1)
                hidden = llm.decoder(inputs_embeds=emb).last_hidden_state
                nxt = int(llm.logits(hidden[:, -1]).argmax())
                if nxt == tok.eos_token_id:
                    break
                ids.append(nxt)
        assert texts[i] == tok.decode(ids, skip_special_tokens=True).strip()
    data = head.predict(soft, samples([0, 1]))
    torch.testing.assert_close(
        torch.stack([d.pred_score for d in data]), head.scores(soft))
    head.rescale_soft_tokens = True
    rescaled = head._check_tokens(soft)
    torch.testing.assert_close(rescaled.norm(dim=-1),
                               head.embed_norm.expand(2, 4))
    for d in data:
        assert isinstance(d.pred_text, str)
        assert 0 <= d.pred_text_label < 32
        assert d.pred_text_match in ('exact', 'normalised', 'embedding',
                                     'fallback', 'none')


def test_loss_is_on_the_target_only_and_goes_down():
    # larger initial weights: the default 0.02 gives a 32-wide random
    # model near-uniform logits that LoRA r=4 can hardly sharpen
    head = build(
        llm=tiny_llm_cfg(config=dict(TINY_LLAMA, initializer_range=0.3)))
    soft = torch.randn(4, 4, 32, requires_grad=True)
    batch = samples([0, 5, 9, 31])
    # the target: name, '.', summary, EOS
    target = head._target(5)
    name = head.llm.tokenizer.decode(target)
    assert name.startswith(head.class_names[5] + '.')
    assert target[-1] == head.llm.tokenizer.eos_token_id
    params = [p for p in head.parameters() if p.requires_grad] + [soft]
    optim = torch.optim.Adam(params, lr=0.05)
    losses = []
    for _ in range(20):
        out = head.loss(soft, batch)
        assert set(out) == {'loss_llm', 'token_acc', 'name_acc'}
        optim.zero_grad()
        out['loss_llm'].backward()
        optim.step()
        losses.append(out['loss_llm'].item())
    print(losses)
    assert losses[-1] < losses[0] - 1.0


def test_gradient_checkpointing_path_gives_the_same_loss():
    torch.manual_seed(0)
    soft = torch.randn(2, 4, 32)
    plain = build()
    ckpt = build(llm=tiny_llm_cfg(gradient_checkpointing=True))
    ckpt.load_state_dict(plain.state_dict())
    ckpt.llm.model.load_state_dict(plain.llm.model.state_dict())
    a = plain.loss(soft, samples([1, 2]))['loss_llm']
    b = ckpt.loss(soft, samples([1, 2]))['loss_llm']
    torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_open_vocabulary_candidates(tmp_path):
    head = build().eval()
    soft = torch.randn(2, 4, 32)
    head.set_test_classes(['jump up', 'salute', 'side kick'])
    scores = head.scores(soft)
    labels = [10, 14, 31]
    assert (scores[:, labels] > -1e3).all()
    others = [c for c in range(32) if c not in labels]
    assert (scores[:, others] == -1e4).all()
    assert set(scores.argmax(1).tolist()) <= set(labels)
    path = tmp_path / 'candidates.txt'
    path.write_text('# unseen\njump up\n\nsalute\n')
    assert read_candidates(str(path)) == ['jump up', 'salute']
    head.set_test_classes(str(path))
    assert head.test_index.tolist() == [10, 14]


def test_clear_errors(tmp_path):
    with pytest.raises(ValueError, match='576|32'):
        build(in_channels=576)
    with pytest.raises(ValueError, match='<action>'):
        build(instruction='no placeholder here')
    head = build(train_classes=[0, 1, 2])
    with pytest.raises(ValueError, match='zero-shot'):
        head.loss(torch.randn(1, 4, 32), samples([5]))
    with pytest.raises(ValueError, match=r'\(N, Q, 32\)'):
        head.loss(torch.randn(1, 32), samples([0]))
    with pytest.raises(KeyError, match='moonwalk'):
        head.set_test_classes(['moonwalk'])
    with pytest.raises(ValueError, match='empty'):
        head.set_test_classes(['jump up', ' '])
    with pytest.raises(ValueError, match='distinct'):
        head.set_test_classes(['jump up', 'jump up'])
    dup = tmp_path / 'dup.txt'
    dup.write_text('salute\nsalute\n')
    with pytest.raises(ValueError, match='repeats'):
        read_candidates(str(dup))
    with pytest.raises(ValueError, match='does not exist'):
        read_candidates(str(tmp_path / 'none.txt'))
    empty = tmp_path / 'empty.txt'
    empty.write_text('# nothing\n')
    with pytest.raises(ValueError, match='names no class'):
        read_candidates(str(empty))


def test_labels_the_knowledge_lacks_are_named():
    head = build()
    for label in (40, -1):  # -1 would silently index the last class
        with pytest.raises(KnowledgeError) as info:
            head.loss(torch.randn(2, 4, 32), samples([3, label]))
        assert str(info.value).endswith(
            f"synth_ntu.json: the training batch has labels [{label}] "
            "outside the 32 classes of 'synth_ntu' (0..31): the data has "
            'classes that the knowledge lacks')


def test_an_answer_that_names_no_class(monkeypatch):
    head = build(generate=True).eval()
    answers = ['', '...', 'Salute. The right hand rises to the brow.']
    monkeypatch.setattr(head, 'generate_text',
                        lambda soft, context=None: answers[:len(soft)])
    data = head.predict(torch.randn(3, 4, 32), samples([0, 1, 14]))
    assert [d.pred_text_match for d in data] == ['none', 'none', 'exact']
    # no class named: the scored prediction stands
    assert [d.pred_text_label for d in data[:2]] == [
        int(d.pred_label) for d in data[:2]
    ]
    assert data[2].pred_text_label == head.class_names.index('salute')


def test_candidates_that_answers_cannot_tell_apart(tmp_path):
    from mmaction_sugar.datasets.action_knowledge import BODY_PARTS
    classes = ActionKnowledge.load('synth_ntu').to_dicts()[:3]
    classes[1]['name'] = classes[0]['name'].upper()  # 'DRINK WATER'
    path = tmp_path / 'clash.json'
    path.write_text(json.dumps(dict(
        dataset='clash', description='Two names that differ in case.',
        body_parts=list(BODY_PARTS), classes=classes)))
    with pytest.raises(ValueError, match=r"candidate names 0 \('drink "
                       r"water'\) and 1 \('DRINK WATER'\) are the same "
                       'after normalisation'):
        build(knowledge=str(path), generate=True)
    head = build(knowledge=str(path))  # scoring alone tells them apart
    head.generate = True
    head.set_test_classes([0, 2])
    with pytest.raises(ValueError, match='same after normalisation'):
        head.set_test_classes([0, 1])


def test_candidate_lists_of_odd_values(tmp_path):
    head = build()
    for odd in ([True], [1.5], [None]):
        with pytest.raises(ValueError, match='expected class names or '
                           'integer labels'):
            head.set_test_classes(odd)
    for odd in ([], [99], [-1]):
        with pytest.raises(ValueError, match='distinct labels'):
            head.set_test_classes(odd)
    bom = tmp_path / 'bom.txt'
    bom.write_bytes('\ufeffjump up\nsalute\n'.encode('utf-8'))
    assert read_candidates(str(bom)) == ['jump up', 'salute']
    latin = tmp_path / 'latin.txt'
    latin.write_bytes('jump up\ncaf\xe9\n'.encode('latin-1'))
    with pytest.raises(ValueError, match="latin.txt' is not UTF-8 text"):
        read_candidates(str(latin))


def peaked(head, scale=30.):
    """Sharpen the tiny LLM's next-token distributions (as a trained model
    has them), so that the top-k search prunes."""
    with torch.no_grad():
        head.llm.base_causal_lm.get_output_embeddings().weight.mul_(scale)
    return head


@pytest.mark.parametrize('topk,width', [(1, None), (5, None), (5, 2),
                                        (3, 40)])
def test_topk_search_keeps_the_top_k_exact(topk, width):
    head = peaked(
        build(score_search='topk', search_topk=topk,
              search_width=width)).eval()
    soft = torch.randn(5, 4, 32)
    exact = head.candidate_scores(soft)
    got = head.search_scores(soft)
    assert got.shape == exact.shape == (5, 32)
    top = exact.topk(topk, dim=1)
    found = got.topk(topk, dim=1)
    assert torch.equal(found.indices, top.indices)
    torch.testing.assert_close(found.values, top.values, atol=1e-4,
                               rtol=1e-4)
    # the others get an upper bound of their own score, below the k-th
    assert (got >= exact - 1e-4).all()
    assert (got.topk(topk + 1, dim=1).values[:, -1] <=
            top.values[:, -1] + 1e-4).all()
    # through predict: pred_score ranks the same top-k
    out = head.predict(soft, samples(range(5)))
    for i, sample in enumerate(out):
        assert sample.pred_label.item() == top.indices[i, 0].item()


def test_topk_search_expands_fewer_nodes_than_the_trie_has():
    head = peaked(build(score_search='topk', search_topk=1)).eval()
    fed = []
    forward = head.llm.forward_embeds

    def count(embeds, *args, **kwargs):
        fed.append(embeds.shape[1])
        return forward(embeds, *args, **kwargs)

    head.llm.forward_embeds = count
    head.search_scores(torch.randn(1, 4, 32))
    # the context, then one position per step and clip (width 1)
    searched = sum(fed[1:])
    assert 0 < searched < len(head._trie(head.test_index).tokens)


def test_topk_search_with_several_clips_scores_exactly():
    head = peaked(build(score_search='topk', search_topk=1)).eval()
    soft = torch.randn(4, 4, 32)  # 2 samples x 2 clips
    out = head.predict(soft, samples([0, 1]))
    exact = head.scores(soft, exact=True).view(2, 2, -1).mean(1)
    torch.testing.assert_close(
        torch.stack([s.pred_score for s in out]), exact)


def test_search_options_are_checked():
    with pytest.raises(ValueError, match='score_search'):
        build(score_search='beam')
    with pytest.raises(ValueError, match="score_norm='sum'"):
        build(score_search='topk', score_norm='mean')
    with pytest.raises(ValueError, match='search_topk'):
        build(score_search='topk', search_topk=0)
    with pytest.raises(ValueError, match='align_weight'):
        build(align_weight=-1.)


def test_name_alignment_loss():
    head = build(align_weight=0.5, train_classes=list(range(8)))
    names = head.name_embeddings()
    assert names.shape == (32, 32) and not names.requires_grad
    # a clip whose soft tokens are its class name's embedding is aligned
    labels = torch.arange(8)
    soft = names[labels][:, None].repeat(1, 4, 1).clone().requires_grad_()
    out = head.loss(soft, samples(labels))
    assert set(out) == {'loss_llm', 'token_acc', 'name_acc', 'loss_align',
                        'align_acc'}
    assert out['align_acc'] == 1
    shuffled = head.loss(soft.roll(1, 0), samples(labels))
    assert shuffled['loss_align'] > out['loss_align']
    # it trains the soft tokens towards the names
    soft = torch.randn(8, 4, 32, requires_grad=True)
    opt = torch.optim.Adam([soft], lr=0.05)
    first = None
    for _ in range(20):
        loss = head._align_loss(soft, labels)['loss_align']
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first


def test_shuffled_candidates_change_the_prompt_every_step():
    head = build(shuffle_candidates=True, train_classes=list(range(6)))
    prompts = []
    real = head.llm.embed_tokens

    def spy(ids):
        if ids.dim() == 2 and ids.shape[0] == 1:  # the shared prefix
            prompts.append(head.llm.tokenizer.decode(ids[0]))
        return real(ids)

    head.llm.embed_tokens = spy
    soft = torch.randn(2, 4, 32)
    torch.manual_seed(1)
    for _ in range(4):
        head.loss(soft, samples([0, 5]))
    assert len(prompts) == 4 and len(set(prompts)) > 1
    names = head.class_names[:6]
    for text in prompts:  # every seen name, each once, in some order
        assert all(text.count(n + ';') + text.count(n + '.') == 1
                   for n in names)
    assert head._prompts == {}  # shuffled prompts are not kept


def test_topk_search_and_generation_share_the_prompt_cache():
    head = peaked(build(generate=True, score_search='topk')).eval()
    soft = torch.randn(3, 4, 32)
    alone = head.generate_text(soft)
    data = head.predict(soft, samples([0, 1, 2]))
    # the search grew its own copy of the cache, not generation's
    assert [d.pred_text for d in data] == alone
    torch.testing.assert_close(
        torch.stack([d.pred_score for d in data]), head.search_scores(soft))
    assert all(d.score_exact_topk == 5 for d in data)
