# Copyright (c) mmaction-sugar contributors. All rights reserved.
import math

import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.optim import OptimWrapper

import mmaction_sugar  # noqa: F401  (registers the modules)
from mmaction_sugar.models.tokenizers import ActionVQVAE
from mmaction_sugar.models.tokenizers.action_vqvae_utils import (
    CodeContextPredictor, perplexity, zipf_prior_loss)

pytestmark = pytest.mark.usefixtures('one_thread')

M, V, C = 2, 25, 3
LOSS_KEYS = {
    'loss_recon', 'loss_embed', 'loss_commit', 'loss_zipf', 'loss_context'
}
STAT_KEYS = {'perplexity', 'code_usage', 'mpjpe', 'restarts'}


def build(**kwargs):
    cfg = dict(
        type='ActionVQVAE',
        width=32,
        latent_dim=8,
        codebook=dict(num_codes=16))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def smooth_clips(n, frames=16, seed=0):
    """Skeletons (n, M, T, V, C): a fixed pose plus a slow oscillation."""
    g = torch.Generator().manual_seed(seed)
    pose = torch.randn(n, M, 1, V, C, generator=g) * 0.3
    phase = torch.rand(n, 1, 1, 1, 1, generator=g) * 2 * math.pi
    t = torch.linspace(0, 2 * math.pi, frames)[None, None, :, None, None]
    return pose + 0.1 * torch.sin(t + phase)


def test_tensor_mode_gives_action_sentences():
    torch.manual_seed(0)
    model = build().eval()
    assert isinstance(model, ActionVQVAE) and model.num_codes == 16
    x = torch.randn(3, M, 32, V, C)
    codes = model(x, mode='tensor')
    assert codes.shape == (3, 8) and codes.dtype == torch.long
    assert ((codes >= 0) & (codes < 16)).all()
    # (N, clips, M, T, V, C): one sentence per clip, in order
    clips = torch.randn(2, 3, M, 32, V, C)
    codes = model(clips, mode='tensor')
    assert codes.shape == (6, 8)
    assert torch.equal(codes[4], model(clips[1, 1:2])[0])
    # down_t sets the length
    assert build(down_t=3).eval()(x).shape == (3, 4)


def test_clip_length_is_padded_and_decode_crops():
    torch.manual_seed(0)
    model = build(down_t=2).eval()
    x = torch.randn(2, M, 30, V, C)
    codes = model(x)
    assert codes.shape == (2, 8)  # 30 frames -> 32 -> 8 steps
    assert model.decode(codes, frames=30).shape == (2, M, 30, V, C)
    assert model.decode(codes).shape == (2, M, 32, V, C)  # W * 2**down_t
    # the padding replicates the last frame: same codes as explicit padding
    padded = torch.cat([x, x[:, :, -1:].expand(-1, -1, 2, -1, -1)], 2)
    assert torch.equal(model(padded), codes)


def test_loss_keys_and_weights():
    torch.manual_seed(0)
    model = build()
    losses = model(torch.randn(2, 1, M, 16, V, C), None, mode='loss')
    assert set(losses) == LOSS_KEYS | STAT_KEYS
    for key, value in losses.items():
        assert value.dim() == 0 and torch.isfinite(value), key
    assert 1 <= float(losses['perplexity']) <= 16
    assert 0 < float(losses['code_usage']) <= 1
    assert float(losses['mpjpe']) > 0 and float(losses['restarts']) >= 0

    off = build(
        loss_weights=dict(recon=1, embed=1, commit=0.25, zipf=0, context=0))
    losses = off(torch.randn(2, M, 16, V, C), mode='loss')
    assert set(losses) == (LOSS_KEYS -
                           {'loss_zipf', 'loss_context'}) | STAT_KEYS
    with pytest.raises(ValueError, match=r"unknown keys \['kl'\]"):
        build(loss_weights=dict(recon=1.0, kl=1.0))


def test_loss_weights_scale_the_terms():
    x = torch.randn(2, M, 16, V, C)
    out = []
    for scale in (1.0, 3.0):
        torch.manual_seed(0)
        model = build(loss_weights={
            k: scale
            for k in ('recon', 'embed', 'commit', 'zipf', 'context')
        }).eval()
        out.append(model.loss(x))
    for key in LOSS_KEYS:
        torch.testing.assert_close(out[1][key], 3 * out[0][key], msg=key)
    torch.testing.assert_close(out[1]['mpjpe'], out[0]['mpjpe'])


def test_bad_inputs_raise_clear_errors():
    model = build()
    with pytest.raises(ValueError, match=r'\(M, V, C\) = \(2, 25, 3\)'):
        model(torch.randn(2, M, 16, 17, C))
    with pytest.raises(ValueError, match=r'got \(2, 1, 16, 25, 3\)'):
        model(torch.randn(2, 1, 16, V, C))
    with pytest.raises(ValueError, match=r'\(N, M, T, V, C\)'):
        model(torch.randn(M, 16, V, C))
    bad = torch.randn(2, M, 16, V, C)
    bad[1, 0, 3, 4, 2] = float('nan')
    with pytest.raises(ValueError, match='NaN or inf'):
        model(bad, mode='loss')
    bad[1, 0, 3, 4, 2] = float('inf')
    with pytest.raises(ValueError, match='NaN or inf'):
        model(bad)
    with pytest.raises(RuntimeError, match='Invalid mode'):
        model(torch.randn(2, M, 16, V, C), mode='features')
    with pytest.raises(ValueError, match='latent_dim'):
        build(codebook=dict(num_codes=16, dim=4))


def test_train_step_reduces_the_reconstruction_loss():
    torch.manual_seed(0)
    model = build()
    model.train()
    x = smooth_clips(2)
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), 1e-3))
    history = []
    for _ in range(30):
        data = dict(
            inputs=[clip[None] for clip in x],  # (1, M, T, V, C) each
            data_samples=[ActionDataSample() for _ in x])
        logs = model.train_step(data, optim)
        assert all(math.isfinite(float(v)) for v in logs.values())
        history.append(float(logs['loss_recon']))
    assert bool(model.codebook.initialised)
    assert history[-1] < 0.85 * history[0], history
    assert min(history[-5:]) < min(history[:5])


def test_predict_records_codes_and_errors_averaged_over_clips():
    torch.manual_seed(0)
    model = build().eval()
    clips = torch.randn(2, 3, M, 16, V, C) * 0.3  # 2 samples, 3 clips each
    clips[1, :, 1] = 0  # sample 1 has one person only
    samples = [ActionDataSample() for _ in range(2)]
    out = model(clips, samples, mode='predict')
    assert out is samples

    flat = clips.flatten(0, 1)
    codes = model(flat)  # (6, W)
    errors = ActionVQVAE.joint_error(model.decode(codes, 16), flat)
    for i, sample in enumerate(out):
        assert sample.pred_codes.shape == (4, )
        assert torch.equal(sample.pred_codes, codes[3 * i])  # first clip
        assert isinstance(sample.recon_mpjpe, float)
        assert sample.recon_mpjpe >= 0
        assert sample.recon_mpjpe == pytest.approx(
            float(errors[3 * i:3 * i + 3].mean()), rel=1e-5)
        assert sample.num_codes == 16

    # (N, M, T, V, C): one clip each
    single = model(
        clips[:, 0], [ActionDataSample() for _ in range(2)], mode='predict')
    assert single[1].recon_mpjpe == pytest.approx(float(errors[3]), rel=1e-5)
    with pytest.raises(ValueError, match='do not split'):
        model(
            clips.flatten(0, 1)[:5], [ActionDataSample()] * 2, mode='predict')


def test_test_step_runs_the_data_preprocessor_and_predict():
    torch.manual_seed(0)
    model = build().eval()
    x = smooth_clips(2)
    data = dict(
        inputs=[clip[None] for clip in x],
        data_samples=[ActionDataSample() for _ in x])
    out = model.test_step(data)
    assert [s.pred_codes.tolist() for s in out] == model(x).tolist()


def test_joint_error_ignores_absent_persons():
    x = torch.rand(1, M, 4, V, C) + 0.1
    x[:, 1] = 0  # person 1 absent throughout
    recon = x.clone()
    recon[:, 0, ..., 0] += 0.03
    recon[:, 0, ..., 1] += 0.04
    recon[:, 1] = 5.0  # anything for the absent person
    torch.testing.assert_close(
        ActionVQVAE.joint_error(recon, x), torch.tensor([0.05]))

    # person 1 present in frames 0-1 only, with error 0.1 there
    x[:, 1, :2] = 1.0
    recon[:, 1, :2] = 1.0
    recon[:, 1, :2, :, 2] += 0.1
    expected = (4 * 0.05 + 2 * 0.1) / 6  # over the 6 present frames
    torch.testing.assert_close(
        ActionVQVAE.joint_error(recon, x), torch.tensor([expected]))
    # no one at all: zero, not NaN
    empty = torch.zeros(1, M, 4, V, C)
    torch.testing.assert_close(
        ActionVQVAE.joint_error(empty + 1, empty), torch.tensor([0.0]))


def test_context_predictor_never_sees_the_step_itself():
    torch.manual_seed(0)
    predictor = CodeContextPredictor(dim=8, num_codes=16, width=32, radius=2)
    codes = torch.randn(2, 10, 8)
    base = predictor(codes)
    assert base.shape == (2, 10, 16)
    w = 5
    changed = codes.clone()
    changed[:, w] = torch.randn(2, 8) * 10
    out = predictor(changed)
    torch.testing.assert_close(out[:, w], base[:, w])
    for step in (3, 4, 6, 7):  # within the radius
        assert not torch.allclose(out[:, step], base[:, step]), step
    for step in (0, 1, 2, 8, 9):  # beyond it
        torch.testing.assert_close(out[:, step], base[:, step])
    # the mask also zeroes the centre tap's gradient
    base.sum().backward()
    assert predictor.context.weight.grad[..., 2].abs().sum() == 0
    assert predictor.context.weight.grad[..., 1].abs().sum() > 0


def test_zipf_prior_loss():
    # one-hot assignments with Zipf frequencies 12:6:4:3 over 4 codes
    counts = [12, 6, 4, 3]
    indices = torch.cat(
        [torch.full((n, ), k, dtype=torch.long) for k, n in enumerate(counts)])
    zipf = torch.nn.functional.one_hot(indices, 4).double()
    assert float(zipf_prior_loss(zipf)) == pytest.approx(0.0, abs=1e-9)
    # the code order does not matter (frequencies are ranked)
    assert float(zipf_prior_loss(zipf[:, [2, 0, 3, 1]])) == pytest.approx(
        0.0, abs=1e-9)
    # exponent 2: 36:9:4 over 3 codes
    sq = torch.cat([torch.full((n, ), k) for k, n in enumerate([36, 9, 4])])
    assert float(
        zipf_prior_loss(
            torch.nn.functional.one_hot(sq, 3).double(),
            exponent=2.0)) == pytest.approx(
                0.0, abs=1e-9)

    collapsed = torch.zeros(25, 4, dtype=torch.float64)
    collapsed[:, 0] = 1
    uniform_hard = torch.nn.functional.one_hot(torch.arange(24) % 4,
                                               4).double()
    soft = torch.full((25, 4), 0.25, dtype=torch.float64)
    zero = float(zipf_prior_loss(zipf))
    assert float(zipf_prior_loss(collapsed)) > zero + 1
    assert float(zipf_prior_loss(uniform_hard)) > zero
    # soft assignments pay the sharpness term, log(4)
    assert float(zipf_prior_loss(soft)) > math.log(4)
    # differentiable
    logits = torch.randn(25, 4, requires_grad=True)
    zipf_prior_loss(logits.softmax(-1)).backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


def test_perplexity():
    assert float(perplexity(torch.arange(16).repeat(3),
                            16)) == pytest.approx(16.0)
    assert float(perplexity(torch.full((40, ), 7), 16)) == pytest.approx(1.0)
    # two codes used equally: 2, whatever the codebook size
    assert float(perplexity(torch.tensor([[1, 5], [5, 1]]),
                            256)) == pytest.approx(2.0)
