# Copyright (c) mmaction-sugar contributors. All rights reserved.
import math

import pytest
import torch
from mmaction.registry import MODELS

import mmaction_sugar  # noqa: F401  (registers the modules)
from mmaction_sugar.models.tokenizers import HyperbolicCodebook

pytestmark = pytest.mark.usefixtures('one_thread')


def poincare_dist(x, y, c):
    """The closed form, independent of the module under test."""
    num = 2 * c * (x - y).pow(2).sum(-1)
    den = (1 - c * x.pow(2).sum(-1)) * (1 - c * y.pow(2).sum(-1))
    return torch.acosh(1 + num / den) / math.sqrt(c)


def to_ball(u, c):
    norm = u.norm(dim=-1, keepdim=True)
    return torch.tanh(math.sqrt(c) * norm) * u / (math.sqrt(c) * norm)


def test_build_from_registry_and_output_shapes():
    torch.manual_seed(0)
    book = MODELS.build(dict(type='HyperbolicCodebook', num_codes=16, dim=8))
    assert isinstance(book, HyperbolicCodebook)
    quantized, indices, extras = book(torch.randn(2, 5, 8))
    assert quantized.shape == (2, 5, 8)
    assert indices.shape == (2, 5) and indices.dtype == torch.long
    assert ((indices >= 0) & (indices < 16)).all()
    assert extras['probs'].shape == (10, 16)
    torch.testing.assert_close(extras['probs'].sum(-1), torch.ones(10))
    assert extras['loss_embed'].dim() == 0 and extras['loss_commit'].dim() == 0
    # any number of leading dimensions
    _, indices, extras = book(torch.randn(3, 2, 4, 8))
    assert indices.shape == (3, 2, 4) and extras['probs'].shape == (24, 16)


@pytest.mark.parametrize('c,max_norm', [(1.0, 2.0), (2.0, 2.0), (0.5, None),
                                        (1.0, None)])
def test_codes_lie_strictly_inside_the_ball(c, max_norm):
    torch.manual_seed(0)
    book = HyperbolicCodebook(
        num_codes=32, dim=4, curvature=c, max_norm=max_norm)
    book.tangent.data.mul_(200)  # far out in the tangent space
    norms = book.codes.norm(dim=-1)
    assert (norms < 1 / math.sqrt(c)).all()
    if max_norm is not None:  # clipped: |x| <= tanh(sqrt(c) * max_norm)
        limit = math.tanh(math.sqrt(c) * max_norm) / math.sqrt(c)
        assert (norms <= limit + 1e-6).all()


@pytest.mark.parametrize('c', [0.5, 1.0, 2.0])
def test_indices_are_the_nearest_codes_under_the_poincare_distance(c):
    torch.manual_seed(0)
    book = HyperbolicCodebook(
        num_codes=16, dim=4, curvature=c, max_norm=None).eval()
    book.tangent.data = torch.randn(16, 4)
    latents = torch.randn(50, 4)
    quantized, indices, _ = book(latents)
    points = to_ball(latents.double(), c)
    codes = to_ball(book.tangent.detach().double(), c)
    expected = poincare_dist(points[:, None], codes[None], c).argmin(-1)
    assert torch.equal(indices, expected)
    # the quantized vectors are the chosen codes back in the tangent space
    torch.testing.assert_close(
        quantized, book.tangent.detach()[indices], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(book.lookup(indices), quantized)


@pytest.mark.parametrize('max_norm', [None, 2.0, 100.0])
def test_straight_through_gradient(max_norm):
    torch.manual_seed(0)
    book = HyperbolicCodebook(num_codes=8, dim=4, max_norm=max_norm).eval()
    latents = (torch.randn(3, 5, 4) * 0.1).requires_grad_()
    quantized, _, _ = book(latents)
    quantized.sum().backward()
    torch.testing.assert_close(latents.grad, torch.ones_like(latents))
    assert book.tangent.grad is None  # the codes get nothing from it


def test_embed_loss_moves_codes_and_commit_loss_moves_latents():
    torch.manual_seed(0)
    book = HyperbolicCodebook(num_codes=8, dim=4).eval()
    latents = (torch.randn(20, 4) * 0.5).requires_grad_()
    _, _, extras = book(latents)
    assert extras['loss_embed'] > 0 and extras['loss_commit'] > 0
    torch.testing.assert_close(extras['loss_embed'], extras['loss_commit'])

    extras['loss_embed'].backward(retain_graph=True)
    assert book.tangent.grad is not None and book.tangent.grad.abs().sum() > 0
    assert latents.grad is None

    book.tangent.grad = None
    extras['loss_commit'].backward(retain_graph=True)
    assert latents.grad is not None and latents.grad.abs().sum() > 0
    assert book.tangent.grad is None

    # the soft assignments train the codes, never the encoder
    latents.grad = None
    extras['probs'][:, 0].sum().backward()
    assert latents.grad is None and book.tangent.grad.abs().sum() > 0


def test_embed_loss_is_the_mean_squared_poincare_distance():
    torch.manual_seed(0)
    book = HyperbolicCodebook(num_codes=8, dim=4, max_norm=None).eval()
    latents = torch.randn(20, 4) * 0.5
    _, indices, extras = book(latents)
    points = to_ball(latents.double(), 1.0)
    chosen = to_ball(book.tangent.detach().double()[indices], 1.0)
    expected = poincare_dist(points, chosen, 1.0).pow(2).mean()
    assert float(extras['loss_embed']) == pytest.approx(
        float(expected), rel=1e-3)


def test_euclidean_manifold_uses_l2():
    torch.manual_seed(0)
    book = HyperbolicCodebook(
        num_codes=16, dim=4, manifold='euclidean', max_norm=None).eval()
    assert not book.hyperbolic
    book.tangent.data = torch.randn(16, 4) * 3  # no ball: any norm
    torch.testing.assert_close(book.codes, book.tangent.detach())
    latents = torch.randn(40, 4) * 3
    quantized, indices, extras = book(latents)
    expected = torch.cdist(latents, book.tangent.detach()).argmin(-1)
    assert torch.equal(indices, expected)
    torch.testing.assert_close(quantized, book.tangent.detach()[indices])
    mse = (latents - book.tangent.detach()[indices]).pow(2).sum(-1).mean()
    torch.testing.assert_close(extras['loss_embed'], mse)
    torch.testing.assert_close(extras['loss_commit'], mse)
    # Euclidean and Poincare choices differ for points far from the origin
    hyper = HyperbolicCodebook(num_codes=16, dim=4, max_norm=None).eval()
    hyper.tangent.data = book.tangent.data.clone()
    assert not torch.equal(hyper(latents)[1], indices)


def test_euclidean_codes_are_clipped_to_max_norm():
    book = HyperbolicCodebook(
        num_codes=4, dim=2, manifold='euclidean', max_norm=1.0)
    book.tangent.data = torch.tensor([[3.0, 4.0], [0.3, 0.4], [0, 2.0],
                                      [0.5, 0]])
    torch.testing.assert_close(
        book.codes, torch.tensor([[0.6, 0.8], [0.3, 0.4], [0, 1.0], [0.5, 0]]))


def test_init_from_data_uses_the_first_training_batch():
    torch.manual_seed(0)
    book = HyperbolicCodebook(num_codes=8, dim=4, max_norm=None)
    assert not bool(book.initialised)
    latents = torch.randn(32, 4) + 5  # far from the random initial codes
    before = book.tangent.detach().clone()

    book.eval()(latents)  # evaluation never initialises
    assert not bool(book.initialised)
    assert torch.equal(book.tangent.detach(), before)

    book.train()(latents)
    assert bool(book.initialised)
    codes = book.tangent.detach()
    gap = torch.cdist(codes, latents).min(-1).values
    assert (gap < 0.1 * latents.std()).all()  # each code on a latent

    book(torch.randn(32, 4) - 5)  # only the first batch
    assert torch.equal(book.tangent.detach(), codes)

    # switched off: the random codes are kept
    fixed = HyperbolicCodebook(num_codes=8, dim=4, init_from_data=False)
    assert bool(fixed.initialised)
    kept = fixed.tangent.detach().clone()
    fixed(latents)
    assert torch.equal(fixed.tangent.detach(), kept)


@pytest.mark.parametrize('manifold', ['poincare', 'euclidean'])
def test_dead_codes_are_restarted_onto_the_batch(manifold):
    torch.manual_seed(0)
    book = HyperbolicCodebook(
        num_codes=8,
        dim=4,
        manifold=manifold,
        restart_decay=0.5,
        restart_ratio=0.5,
        init_from_data=False)
    book.tangent.data = torch.eye(8, 4) * 1.5 - 0.5  # spread out
    # a cluster of latents around code 0, far from the other codes
    latents = book.tangent.detach()[0] + 0.1 * torch.randn(64, 4)
    book.eval()
    assert book(latents)[1].unique().tolist() == [0]
    assert int(book.restarts) == 0

    book.train()
    book(latents)  # usage of codes 1..7: 1/8 * 0.5 >= 0.5 / 8, alive
    assert int(book.restarts) == 0
    torch.testing.assert_close(book.usage.sum(), torch.tensor(1.0))
    assert book.usage[0] > book.usage[1:].max()
    for _ in range(3):
        book(latents)
    assert int(book.restarts) >= 7  # all 7 unused codes, at least once

    book.eval()
    assert book(latents)[1].unique().numel() > 1
    # the restarted codes were moved onto the batch
    gap = torch.cdist(book.codes[1:].detach(), book.to_space(latents))
    assert (gap.min(-1).values < 0.05).all()


def test_restart_ratio_zero_disables_restarts():
    torch.manual_seed(0)
    book = HyperbolicCodebook(
        num_codes=8, dim=4, restart_ratio=0.0, init_from_data=False)
    latents = book.tangent.detach()[0] + 0.001 * torch.randn(64, 4)
    before = book.tangent.detach().clone()
    for _ in range(30):
        book(latents)
    assert int(book.restarts) == 0
    assert torch.equal(book.tangent.detach(), before)


def test_state_dict_round_trip_keeps_the_codebook_state():
    torch.manual_seed(0)
    book = HyperbolicCodebook(num_codes=8, dim=4)
    book(torch.randn(16, 4))
    clone = HyperbolicCodebook(num_codes=8, dim=4)
    clone.load_state_dict(book.state_dict())
    assert bool(clone.initialised)
    torch.testing.assert_close(clone.codes, book.codes)
    latents = torch.randn(10, 4)
    assert torch.equal(clone.eval()(latents)[1], book.eval()(latents)[1])


def test_bad_arguments_and_inputs():
    book = HyperbolicCodebook(num_codes=8, dim=4)
    with pytest.raises(ValueError, match=r'expected latents \(\.\.\., 4\)'):
        book(torch.randn(2, 5, 3))
    with pytest.raises(ValueError, match='manifold'):
        HyperbolicCodebook(manifold='lorentz')
    with pytest.raises(ValueError, match='curvature'):
        HyperbolicCodebook(curvature=0.0)
    with pytest.raises(ValueError, match='curvature'):
        HyperbolicCodebook(curvature=-1.0)
    with pytest.raises(ValueError, match='num_codes'):
        HyperbolicCodebook(num_codes=1)
    with pytest.raises(ValueError, match='dim'):
        HyperbolicCodebook(dim=0)
