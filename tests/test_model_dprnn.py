"""DPRNN: the same contract as every model (shapes, sources, gradients, lengths) + training."""

import pytest
import torch
from helpers.configs import TINY_DPRNN

from sepcore.errors import ConfigError
from sepcore.losses import PITLoss, pairwise_neg_si_sdr
from sepcore.models import MODELS, build_model, count_parameters
from sepcore.models.dprnn import DPRNN

torch.set_num_threads(1)

# the shared tiny DPRNN, with a shorter filterbank, a wider bottleneck and two blocks
TINY = {**{k: v for k, v in TINY_DPRNN.items() if k not in ("name", "hop_size")},
        "kernel_size": 8, "bn_chan": 16, "n_repeats": 2}


def tiny(**kw):
    torch.manual_seed(0)
    return DPRNN(**{**TINY, **kw})


def test_registered_and_built_by_name():
    assert MODELS["dprnn"] is DPRNN
    m = build_model({"name": "dprnn", "num_sources": 3, **TINY})
    assert isinstance(m, DPRNN) and m.num_sources == 3 and m.stride == 4


@pytest.mark.parametrize("T", [1, 5, 8, 9, 37, 40, 41, 203, 1000])
def test_output_length_equals_input_length(T):
    y = tiny()(torch.randn(2, T))
    assert y.shape == (2, 2, T)
    assert torch.isfinite(y).all()


@pytest.mark.parametrize("S", [1, 2, 3, 4])
def test_any_number_of_sources(S):
    y = tiny(num_sources=S)(torch.randn(3, 321))
    assert y.shape == (3, S, 321)


def test_one_dimensional_input():
    y = tiny()(torch.randn(123))
    assert y.shape == (2, 123)


def test_batch_items_are_independent():
    m = tiny().eval()
    x = torch.randn(3, 500)
    with torch.no_grad():
        batched = m(x)
        single = m(x[1:2])
    assert torch.allclose(batched[1:2], single, atol=1e-5)


def test_global_context_inter_chunk():
    """The inter-chunk RNN carries information across the whole input."""
    m = tiny().eval()
    x = torch.randn(1, 2000)
    x2 = x.clone()
    x2[0, -100:] += 1.0  # change only the end
    with torch.no_grad():
        d = (m(x) - m(x2))[0, :, :100].abs().max()
    assert d > 0  # the start of the output changed


@pytest.mark.parametrize("mask", ["sigmoid", "relu", "softmax", "tanh", "linear"])
def test_gradient_flows_to_every_parameter(mask):
    m = tiny(num_sources=2, mask_nonlinear=mask, encoder_activation="relu")
    y = m(torch.randn(2, 300))
    y.pow(2).mean().backward()
    for name, p in m.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_published_configs_parameter_count():
    # Asteroid's DPRNNTasNet defaults: 3.65 M parameters (shared/ANCHORS.md)
    assert count_parameters(DPRNN()) == 3_652_865
    ks2 = DPRNN(kernel_size=2, chunk_size=250)
    assert ks2.stride == 1 and ks2.hop_size == 125
    assert count_parameters(ks2) == 3_652_865 - 64 * 16 * 2 + 64 * 2 * 2


def test_receptive_field_and_stride():
    m = DPRNN()
    assert m.stride == 8
    assert m.receptive_field() == 2**31 - 1  # global: unbounded
    assert m.local_context() == 100 * 8 + 16


def test_chunked_inference_plan_treats_dprnn_as_global():
    from sepcore.inference import model_receptive_field

    assert model_receptive_field(DPRNN(), 8000) == 2 * 8000  # the inference's cap


@pytest.mark.parametrize(
    "kw",
    [
        {"num_sources": 0},
        {"kernel_size": 3},
        {"chunk_size": 10, "hop_size": 11},
        {"mask_nonlinear": "bogus"},
        {"norm": "cLN"},
        {"rnn_type": "transformer"},
        {"encoder_activation": "gelu"},
    ],
)
def test_bad_options_are_config_errors(kw):
    with pytest.raises(ConfigError):
        DPRNN(**{**TINY, **kw})


def test_unknown_option_through_build_model():
    with pytest.raises(ConfigError, match="bogus"):
        build_model({"name": "dprnn", "bogus": 1})


@pytest.mark.slow
def test_training_steps_reduce_pit_loss():
    torch.manual_seed(0)
    m = tiny(num_sources=2, mask_nonlinear="sigmoid")
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    pit = PITLoss(pairwise_neg_si_sdr)
    t = torch.arange(800) / 8000
    s1 = torch.sin(2 * torch.pi * 220 * t).repeat(2, 1)
    s2 = torch.sign(torch.sin(2 * torch.pi * 1500 * t)).repeat(2, 1) * 0.3
    refs = torch.stack([s1, s2], 1)
    mix = refs.sum(1)
    losses = []
    for _ in range(25):
        loss, perm = pit(m(mix), refs)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 5.0)
        opt.step()
        losses.append(loss.item())
    assert perm.shape == (2, 2)
    assert losses[-1] < losses[0] - 3.0, losses  # at least 3 dB better SI-SDR
