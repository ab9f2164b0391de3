# Copyright (c) mmaction-sugar contributors. All rights reserved.
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from mmaction_sugar.models.heads import TextSupervisedHead
from mmaction_sugar.models.losses import mil_nce


@pytest.fixture(scope='module')
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp('text_bank'))


def make_head(cache_dir, **kwargs):
    torch.manual_seed(0)
    return TextSupervisedHead(in_channels=16, cache_dir=cache_dir, **kwargs)


def samples(labels):
    return [ActionDataSample().set_gt_label(int(i)) for i in labels]


def test_shapes_and_label_space(cache_dir):
    head = make_head(cache_dir)
    assert head.num_classes == 32 == len(head.class_names)
    assert head.text_embeds.shape[:2] == head.text_mask.shape
    assert head.text_embeds.shape[0] == 32
    assert head(torch.randn(3, 2, 16, 4, 25)).shape == (3, 32)
    # text embeddings are derived, never written into checkpoints
    assert not any(
        k.startswith(('text_', 'class_')) for k in head.state_dict())


def test_loss_is_mil_nce_over_all_class_texts(cache_dir):
    head = make_head(cache_dir)
    feats = torch.randn(4, 2, 16, 4, 25)
    labels = torch.tensor([0, 3, 3, 31])
    losses = head.loss(feats, samples(labels))
    # the same value computed from scratch
    embeds = head.embed(feats)
    texts = head.text_embeds.reshape(-1, head.text_embeds.shape[-1])
    logits = head.scale() * embeds @ texts.T
    bag = head.text_embeds.shape[1]
    positive = torch.zeros_like(logits, dtype=torch.bool)
    for i, y in enumerate(labels):
        positive[i, y * bag:(y + 1) * bag] = True
    expected = mil_nce(logits, positive, head.text_mask.reshape(-1))
    torch.testing.assert_close(losses['loss_cls'], expected)
    assert set(losses) == {'loss_cls', 'top1_acc', 'top5_acc'}


def test_gradients_reach_projection_and_temperature(cache_dir):
    head = make_head(cache_dir, ce_weight=0.5)
    losses = head.loss(torch.randn(4, 1, 16, 4, 25), samples([1, 2, 3, 4]))
    assert 'loss_ce' in losses
    (losses['loss_cls'] + losses['loss_ce']).backward()
    assert head.proj.weight.grad.abs().sum() > 0
    assert head.logit_scale.grad is not None
    fixed = make_head(cache_dir, learnable_temperature=False)
    assert 'logit_scale' not in dict(fixed.named_parameters())


def test_training_separates_classes(cache_dir):
    head = make_head(cache_dir)
    head.init_weights()
    feats = torch.randn(8, 1, 16, 2, 25)
    labels = torch.tensor([0, 1, 2, 3] * 2)
    optimizer = torch.optim.Adam(head.parameters(), lr=0.05)
    first = None
    for _ in range(60):
        loss = head.loss(feats, samples(labels))['loss_cls']
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.5 * first
    assert (head(feats).argmax(1) == labels).all()


def test_random_text_subsets(cache_dir):
    head = make_head(cache_dir, texts_per_class=2)
    chosen = head._sample_texts(head.text_mask)
    assert (chosen.sum(1) == 2).all()
    assert not (chosen & ~head.text_mask).any()
    head.loss(torch.randn(2, 1, 16, 4, 25), samples([0, 1]))


def test_zero_shot_classes(cache_dir):
    unseen = ['clapping', 'salute', 'side kick', 'squat down']
    head = make_head(
        cache_dir,
        train_classes=[c for c in range(32) if c not in (5, 14, 31, 25)],
        test_classes=unseen)
    assert sorted(head.test_index.tolist()) == [5, 14, 25, 31]
    with pytest.raises(ValueError, match=r'training labels \[5\]'):
        head.loss(torch.randn(2, 1, 16, 4, 25), samples([0, 5]))
    head.loss(torch.randn(2, 1, 16, 4, 25), samples([0, 6]))
    out = head.predict(torch.randn(3, 1, 16, 4, 25), samples([5, 14, 31]))
    for sample in out:
        score = sample.pred_score
        assert score.shape == (32, )
        assert score.sum().item() == pytest.approx(1.0, abs=1e-5)
        assert score[[5, 14, 25, 31]].sum().item() == pytest.approx(
            1.0, abs=1e-5)
        assert sample.pred_label.item() in (5, 14, 25, 31)


def test_bad_class_lists(cache_dir):
    with pytest.raises(ValueError, match='expected distinct labels'):
        make_head(cache_dir, train_classes=[0, 0])
    with pytest.raises(ValueError, match='expected distinct labels'):
        make_head(cache_dir, test_classes=[40])
    with pytest.raises(KeyError, match='no such dance'):
        make_head(cache_dir, test_classes=['no such dance'])


def test_recognizer_round_trip_with_toolbox_backbone(cache_dir):
    model = MODELS.build(
        dict(
            type='RecognizerGCN',
            backbone=dict(
                type='STGCN',
                graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial')),
            cls_head=dict(
                type='TextSupervisedHead',
                in_channels=256,
                cache_dir=cache_dir)))
    inputs = list(torch.randn(2, 1, 2, 8, 25, 3))  # N x (clips, M, T, V, C)
    data = dict(inputs=inputs, data_samples=samples([3, 7]))
    optim = torch.optim.SGD(model.parameters(), lr=0.01)
    from mmengine.optim import OptimWrapper
    log_vars = model.train_step(data, OptimWrapper(optim))
    assert torch.isfinite(log_vars['loss'])
    out = model.test_step(data)
    assert out[0].pred_score.shape == (32, )


def test_centering_spreads_class_texts(cache_dir):
    raw = make_head(cache_dir).class_embeds
    centred = make_head(cache_dir, center_texts=True).class_embeds
    off = ~torch.eye(32, dtype=torch.bool)
    assert (centred @ centred.T)[off].mean() < (raw @ raw.T)[off].mean()
    torch.testing.assert_close(centred.norm(dim=1), torch.ones(32))


def test_bag_scores_are_the_mil_nce_posterior(cache_dir):
    head = make_head(cache_dir).eval()
    feats = torch.randn(3, 2, 16, 4, 25)
    embeds = head.embed(feats)
    scores = head(feats)
    # hand-computed: log of the mean over each class's texts of exp(s.t/tau)
    expected = torch.empty(3, 32)
    for c in range(32):
        texts = head.text_embeds[c][head.text_mask[c]]
        sims = head.scale() * embeds @ texts.T
        expected[:, c] = sims.exp().mean(dim=1).log()
    torch.testing.assert_close(scores, expected, rtol=1e-4, atol=1e-4)
    # softmax of the bag scores is the MIL-NCE posterior with equal bags
    mean = make_head(cache_dir, score='mean').eval()
    mean.load_state_dict(head.state_dict())
    torch.testing.assert_close(
        mean(feats),
        head.scale() * embeds @ head.class_embeds.T)
    with pytest.raises(ValueError, match="'bag' or 'mean'"):
        make_head(cache_dir, score='max')


def test_feature_norm_removes_the_shared_mean(cache_dir):
    head = make_head(cache_dir)
    assert isinstance(head.feat_norm, torch.nn.BatchNorm1d)
    assert make_head(cache_dir, feat_norm=False).feat_norm is None
    # a large offset shared by all samples does not change the embeddings
    feats = torch.randn(6, 1, 16, 2, 25)
    torch.testing.assert_close(
        head.embed(feats), head.embed(feats + 50.), rtol=1e-3, atol=1e-3)


def test_labels_the_knowledge_lacks_are_named(cache_dir):
    from mmaction_sugar.datasets import KnowledgeError
    head = make_head(cache_dir)
    for label in (32, -1):  # -1 would silently index the last class
        with pytest.raises(KnowledgeError, match=rf'the training batch has '
                           rf"labels \[{label}\] outside the 32 classes of "
                           r"'synth_ntu' \(0\.\.31\)"):
            head.loss(torch.randn(2, 1, 16, 4, 25), samples([0, label]))
