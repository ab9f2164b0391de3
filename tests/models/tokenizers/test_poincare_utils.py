# Copyright (c) mmaction-sugar contributors. All rights reserved.
import math

import pytest
import torch

from mmaction_sugar.models.tokenizers import poincare_utils as pu

pytestmark = pytest.mark.usefixtures('one_thread')

clip_tangent, dist, expmap0 = pu.clip_tangent, pu.dist, pu.expmap0
logmap0, mobius_add = pu.logmap0, pu.mobius_add
pairwise_dist, project = pu.pairwise_dist, pu.project

CURVATURES = [0.5, 1.0, 2.0]
# geoopt's BALL_EPS: the margin ``project`` keeps from the ball's edge
BALL_EPS = {torch.float32: 4e-3, torch.float64: 1e-5}


def ball_points(n, dim, c, max_radius=0.9, dtype=torch.float64, seed=0):
    """``n`` random points with norms uniform in [0, max_radius / sqrt(c))."""
    g = torch.Generator().manual_seed(seed)
    direction = torch.randn(n, dim, generator=g, dtype=dtype)
    direction = direction / direction.norm(dim=-1, keepdim=True)
    radius = torch.rand(n, 1, generator=g, dtype=dtype) * max_radius
    return direction * radius / math.sqrt(c)


def closed_form_dist(x, y, c):
    """``(1/sqrt(c)) arcosh(1 + 2c|x-y|^2 / ((1-c|x|^2)(1-c|y|^2)))``."""
    num = 2 * c * (x - y).pow(2).sum(-1)
    den = (1 - c * x.pow(2).sum(-1)) * (1 - c * y.pow(2).sum(-1))
    return torch.acosh(1 + num / den) / math.sqrt(c)


@pytest.mark.parametrize('c', CURVATURES)
def test_exp_and_log_maps_invert_each_other(c):
    torch.manual_seed(0)
    x = ball_points(64, 5, c, max_radius=0.95)
    torch.testing.assert_close(expmap0(logmap0(x, c=c), c=c), x)
    # tangent vectors up to 3 / sqrt(c): tanh(3) = 0.995, inside the margin
    u = torch.randn(64, 5, dtype=torch.float64)
    radius = torch.rand(64, 1, dtype=torch.float64) * 3 / math.sqrt(c)
    u = u / u.norm(dim=-1, keepdim=True) * radius
    torch.testing.assert_close(logmap0(expmap0(u, c=c), c=c), u)


@pytest.mark.parametrize('c', CURVATURES)
def test_expmap0_matches_its_formula_and_stays_in_the_ball(c):
    torch.manual_seed(0)
    u = torch.randn(32, 4, dtype=torch.float64)
    norm = u.norm(dim=-1, keepdim=True)
    expected = torch.tanh(math.sqrt(c) * norm) * u / (math.sqrt(c) * norm)
    torch.testing.assert_close(expmap0(u, c=c), expected)
    # very long tangent vectors saturate at the edge but stay inside
    far = expmap0(u * 100, c=c)
    assert (far.norm(dim=-1) < 1 / math.sqrt(c)).all()


@pytest.mark.parametrize('c', CURVATURES)
def test_dist_is_a_metric(c):
    torch.manual_seed(0)
    x, y, z = (ball_points(200, 6, c, seed=s) for s in range(3))
    dxy, dyx = dist(x, y, c=c), dist(y, x, c=c)
    assert dxy.shape == (200, )
    torch.testing.assert_close(dxy, dyx)
    assert (dxy > 0).all()
    torch.testing.assert_close(dist(x, x, c=c), torch.zeros_like(dxy))
    dxz, dzy = dist(x, z, c=c), dist(z, y, c=c)
    assert (dxy <= dxz + dzy + 1e-9).all()


@pytest.mark.parametrize('c', CURVATURES)
def test_dist_matches_the_closed_form(c):
    torch.manual_seed(0)
    x = ball_points(100, 3, c, 0.99, seed=1)
    y = ball_points(100, 3, c, 0.99, seed=2)
    torch.testing.assert_close(dist(x, y, c=c), closed_form_dist(x, y, c))
    # from the origin: (2 / sqrt(c)) artanh(sqrt(c) |y|)
    torch.testing.assert_close(
        dist(torch.zeros_like(y), y, c=c),
        2 / math.sqrt(c) * torch.atanh(math.sqrt(c) * y.norm(dim=-1)))
    assert dist(x, y, c=c, keepdim=True).shape == (100, 1)


def test_curvature_changes_the_distance_and_may_be_a_tensor():
    x, y = ball_points(10, 3, 2.0, seed=1), ball_points(10, 3, 2.0, seed=2)
    torch.testing.assert_close(
        dist(x, y, c=torch.tensor(2.0)), dist(x, y, c=2.0))
    # same points, flatter ball: a smaller distance
    assert (dist(x, y, c=0.5) < dist(x, y, c=2.0)).all()


@pytest.mark.parametrize('c', CURVATURES)
def test_pairwise_dist_equals_dist_elementwise(c):
    torch.manual_seed(0)
    x, codes = ball_points(7, 4, c, seed=3), ball_points(5, 4, c, seed=4)
    pairs = pairwise_dist(x, codes, c=c)
    assert pairs.shape == (7, 5)
    for i in range(7):
        for k in range(5):
            torch.testing.assert_close(pairs[i, k], dist(x[i], codes[k], c=c))


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
@pytest.mark.parametrize('c', CURVATURES)
def test_project_pulls_outside_points_just_inside(dtype, c):
    torch.manual_seed(0)
    direction = torch.randn(16, 3, dtype=dtype)
    direction = direction / direction.norm(dim=-1, keepdim=True)
    outside = direction * torch.linspace(1.0, 50.0, 16, dtype=dtype)[:, None]
    outside = outside / math.sqrt(c)
    projected = project(outside, c=c)
    norms = projected.norm(dim=-1) * math.sqrt(c)
    assert (norms < 1).all()
    margin = BALL_EPS[dtype]
    torch.testing.assert_close(
        norms, torch.full_like(norms, 1 - margin), atol=1e-6, rtol=1e-6)
    # the direction is kept
    torch.testing.assert_close(
        projected / projected.norm(dim=-1, keepdim=True), direction)
    # points well inside are left alone
    inside = ball_points(16, 3, c, 0.9, dtype=dtype)
    assert torch.equal(project(inside, c=c), inside)


def test_project_margin_depends_on_dtype():
    edge32 = project(torch.tensor([2.0, 0.0]), c=1.0).norm()
    edge64 = project(torch.tensor([2.0, 0.0], dtype=torch.float64)).norm()
    assert edge32 < edge64 < 1
    assert 1 - float(edge32) == pytest.approx(4e-3, rel=1e-3)
    assert 1 - float(edge64) == pytest.approx(1e-5, rel=1e-3)


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
@pytest.mark.parametrize('c', CURVATURES)
def test_gradients_are_finite_near_the_edge_and_for_identical_points(dtype, c):
    torch.manual_seed(0)
    edge = torch.randn(8, 4, dtype=dtype)
    edge = (edge / edge.norm(dim=-1, keepdim=True) * 0.999 /
            math.sqrt(c)).requires_grad_()
    other = (torch.randn(8, 4, dtype=dtype) * 0.1).requires_grad_()
    dist(edge, other, c=c).sum().backward()
    assert torch.isfinite(edge.grad).all() and torch.isfinite(other.grad).all()
    assert edge.grad.abs().sum() > 0

    edge.grad = None
    logmap0(edge, c=c).sum().backward()
    assert torch.isfinite(edge.grad).all() and edge.grad.abs().sum() > 0

    # d(x, x) = 0 is a cusp (like |x - y|): no NaN from 0 / 0
    for scale in (0.1 / math.sqrt(c), 0.999 / math.sqrt(c)):
        base = torch.randn(8, 4, dtype=dtype)
        base = base / base.norm(dim=-1, keepdim=True) * scale
        a = base.clone().requires_grad_()
        b = base.clone().requires_grad_()
        d = dist(a, b, c=c)
        assert torch.allclose(d, torch.zeros_like(d), atol=1e-2)
        d.sum().backward()
        assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all()

    # the origin
    zero = torch.zeros(3, 4, dtype=dtype, requires_grad=True)
    logmap0(zero, c=c).sum().backward()
    assert torch.isfinite(zero.grad).all()
    zero.grad = None
    expmap0(zero, c=c).sum().backward()
    torch.testing.assert_close(zero.grad, torch.ones_like(zero))


@pytest.mark.parametrize('c', CURVATURES)
def test_mobius_add(c):
    torch.manual_seed(0)
    x = ball_points(10, 3, c, seed=5)
    zero = torch.zeros_like(x)
    torch.testing.assert_close(mobius_add(x, zero, c=c), x)
    torch.testing.assert_close(mobius_add(zero, x, c=c), x)
    # (-x) (+) x = 0, and d(x, y) = (2/sqrt(c)) artanh(sqrt(c)|(-x) (+) y|)
    torch.testing.assert_close(mobius_add(-x, x, c=c), zero)
    y = ball_points(10, 3, c, seed=6)
    torch.testing.assert_close(
        dist(x, y, c=c), 2 / math.sqrt(c) *
        torch.atanh(math.sqrt(c) * mobius_add(-x, y, c=c).norm(dim=-1)))


def test_clip_tangent():
    u = torch.tensor([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]])
    clipped = clip_tangent(u, 2.0)
    torch.testing.assert_close(clipped[0], torch.tensor([1.2, 1.6]))
    torch.testing.assert_close(clipped[1:], u[1:])  # short ones unchanged
    assert torch.isfinite(clipped).all()
    assert clip_tangent(u, None) is u
    assert clip_tangent(u) is u


@pytest.mark.parametrize('c', [0.0, -1.0, torch.tensor(-0.5)])
def test_non_positive_curvature_raises(c):
    x = torch.full((2, 3), 0.1)
    for fn in (expmap0, logmap0, project):
        with pytest.raises(ValueError, match='curvature c > 0'):
            fn(x, c=c)
    for fn in (mobius_add, dist, pairwise_dist):
        with pytest.raises(ValueError, match='curvature c > 0'):
            fn(x, x, c=c)
