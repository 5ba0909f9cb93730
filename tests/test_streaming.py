"""sepcore.streaming: a causal model streamed block by block gives its offline output."""

import numpy as np
import pytest
import torch

from sepcore.models import build_model
from sepcore.nn.norm import CumulativeLayerNorm
from sepcore.spectral.stft import hann, istft, stft
from sepcore.streaming import NotCausalError, Stream, stream_array, streamer_for
from sepcore.streaming.base import CumulativeNormStep
from sepcore.streaming.engine import block_lengths
from sepcore.streaming.stft import StreamingISTFT, StreamingSTFT

CAUSAL = {"name": "convtasnet", "num_sources": 2, "n_filters": 32, "kernel_size": 16,
          "bn_chan": 16, "hid_chan": 32, "conv_kernel_size": 3, "n_blocks": 4, "n_repeats": 2,
          "skip_chan": 16, "causal": True, "norm": "cLN"}


def causal_model(**kw):
    torch.manual_seed(0)
    model = build_model({**CAUSAL, **kw}).eval()
    # trained-looking norms: the offline == streamed check must not rely on gamma=1, beta=0
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(("gamma", "beta")):
                p.add_(0.3 * torch.randn_like(p))
    return model


def offline(model, x):
    with torch.inference_mode():
        return model(x)


def assert_same(streamed, ref):
    assert streamed.shape == ref.shape
    err = float((streamed - ref).abs().max() / ref.abs().max())
    assert err <= 1e-5, err


@pytest.fixture(scope="module")
def model():
    return causal_model()


@pytest.fixture(scope="module")
def signal():
    return torch.randn(8000, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("sizes", [
    8,               # one encoder hop
    16,              # one window
    5,               # every block ends mid-frame
    1,               # one sample at a time
    [3, 29, 8, 1, 77, 400],  # awkward, changing sizes
    4000,            # half a second
    16000,           # longer than the input: one block
])
def test_streamed_equals_offline_for_any_block_size(model, signal, sizes):
    x = signal[:2000] if sizes in (1, 5) else signal[:4000] if sizes in (8, 16) else signal
    assert_same(stream_array(model, x, sizes), offline(model, x))


def test_random_block_sizes_over_seconds(model):
    rng = np.random.default_rng(0)
    x = torch.randn(3 * 8000, generator=torch.Generator().manual_seed(2))
    sizes = rng.integers(1, 5000, size=50).tolist()
    assert_same(stream_array(model, x, sizes), offline(model, x))


@pytest.mark.parametrize("length", [0, 1, 7, 15, 16, 17, 24, 25, 100])
def test_short_inputs_padded_like_offline(model, signal, length):
    x = signal[:length]
    out = stream_array(model, x, 3)
    assert out.shape == (2, length)
    if length:
        assert_same(out, offline(model, x))


def test_each_step_emits_only_final_samples_and_lags_less_than_a_window(model, signal):
    stream = Stream(model)
    total = 0
    for start in range(0, 800, 5):  # blocks that end mid-frame
        total += stream.process(signal[start:start + 5]).shape[1]
        seen = start + 5
        # every sample up to the newest complete frame's hop is out, nothing later
        assert seen - model.L < total <= seen
        assert total % model.stride == 0


@pytest.mark.parametrize("kw", [
    {"norm": "chanLN"}, {"mask_nonlinear": "softmax"}, {"mask_nonlinear": "sigmoid"},
    {"num_sources": 1}, {"num_sources": 3, "skip_chan": 0},
    {"conv_kernel_size": 2, "kernel_size": 8}, {"kernel_size": 64, "n_filters": 16},
])
def test_model_variants_stream(signal, kw):
    model = causal_model(**kw)
    x = signal[:3000]
    assert_same(stream_array(model, x, [37, 8, 250]), offline(model, x))


def test_reset_starts_an_independent_stream(model, signal):
    stream = Stream(model)
    first = stream_array(model, signal[:3000], 100, stream=stream)
    stream.reset()
    second = stream_array(model, signal[3000:6000], 100, stream=stream)
    assert_same(first, offline(model, signal[:3000]))
    assert_same(second, offline(model, signal[3000:6000]))
    # without the reset the second input would continue the first stream (cLN sums, conv
    # histories, decoder overlap): a different output
    cont = stream_array(model, signal[:6000], 100)
    assert float((cont[:, 3000:] - second).abs().max()) > 1e-3


@pytest.mark.parametrize("make", [causal_model, lambda: crn_model(n_fft=64, hop=32)])
def test_a_reused_block_buffer_does_not_corrupt_the_state(signal, make):
    model = make()
    stream, buf, outs = Stream(model), torch.zeros(5), []
    for s in range(0, 2000, 5):  # one buffer, overwritten for every block (a sound card's)
        buf.copy_(signal[s:s + 5])
        outs.append(stream.process(buf))
    assert_same(torch.cat(outs + [stream.finish()], 1), offline(model, signal[:2000]))


def test_interleaved_streams_keep_their_own_state(model, signal):
    a, b = Stream(model), Stream(model)
    xa, xb = signal[:2000], signal[4000:6000].flip(0)
    outs_a, outs_b = [], []
    for s in range(0, 2000, 123):
        outs_a.append(a.process(xa[s:s + 123]))
        outs_b.append(b.process(xb[s:s + 123]))
    assert_same(torch.cat(outs_a + [a.finish()], 1), offline(model, xa))
    assert_same(torch.cat(outs_b + [b.finish()], 1), offline(model, xb))


def test_cumulative_norm_statistics_are_carried_across_blocks():
    torch.manual_seed(0)
    norm = CumulativeLayerNorm(64)
    with torch.no_grad():
        norm.gamma.add_(torch.randn_like(norm.gamma))
        norm.beta.add_(torch.randn_like(norm.beta))
    x = torch.randn(1, 64, 5000) * 3 + 1
    with torch.inference_mode():
        ref = norm(x)[0]
        step = CumulativeNormStep(norm)
        st = step.init_state()
        parts, start = [], 0
        for n in block_lengths(5000, [1, 2, 700, 3, 1999]):
            parts.append(step(x[0, :, start:start + n], st))
            start += n
    assert_same(torch.cat(parts, 1), ref)
    # the statistics of the first block alone would be wrong for the later frames
    with torch.inference_mode():
        fresh = step(x[0, :, 4000:], step.init_state())
    assert float((fresh - ref[:, 4000:]).abs().max()) > 1e-2


def test_gln_model_is_refused_by_name():
    model = build_model({**CAUSAL, "causal": False, "norm": "gLN"})
    with pytest.raises(NotCausalError, match=r"exp/a/model.pt \(ConvTasNet\).*not causal.*"
                                              r"pads on both sides.*gLN"):
        streamer_for(model, "exp/a/model.pt")


def test_non_causal_padding_is_refused_even_with_cln():
    model = build_model({**CAUSAL, "causal": False, "norm": "cLN"})
    with pytest.raises(NotCausalError, match=r"ConvTasNet.*causal: false"):
        Stream(model)


def test_dprnn_is_refused_with_the_reason():
    model = build_model({"name": "dprnn", "n_filters": 8, "kernel_size": 4, "bn_chan": 8,
                         "hid_size": 8, "chunk_size": 10, "n_repeats": 1})
    with pytest.raises(NotCausalError, match=r"DPRNN: cannot run as a stream: .*BLSTM"):
        Stream(model)


def test_sudormrf_is_refused_with_the_reason():
    model = build_model({"name": "sudormrf", "n_filters": 8, "kernel_size": 4, "bn_chan": 4,
                         "hid_chan": 4, "num_blocks": 1})
    with pytest.raises(NotCausalError, match=r"SuDORMRF: cannot run as a stream: .*future"):
        Stream(model)


def test_unknown_model_is_refused():
    with pytest.raises(NotCausalError, match=r"Linear: cannot run as a stream: no streaming"):
        Stream(torch.nn.Linear(2, 2))


def test_block_lengths():
    assert block_lengths(10, 4) == [4, 4, 2]
    assert block_lengths(10, [1, 6]) == [1, 6, 1, 2]
    assert block_lengths(0, 3) == []
    with pytest.raises(Exception, match="block sizes must be >= 1"):
        block_lengths(10, [0])


def crn_model(**kw):
    torch.manual_seed(0)
    model = build_model({"name": "crn", "causal": True, **kw}).eval()
    with torch.no_grad():  # trained-looking BatchNorm statistics
        for mod in model.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.normal_()
                mod.running_var.uniform_(0.5, 2.0)
    return model


@pytest.mark.parametrize("kw", [
    {},                                                       # complex mask, GRU
    {"mask": "magnitude", "rnn_type": "lstm", "kernel_time": 3, "rnn_layers": 2},
    {"n_fft": 128, "hop": 32, "num_sources": 2, "kernel_time": 1},
])
def test_crn_streamed_equals_offline(signal, kw):
    model = crn_model(**kw)
    x = signal[:6000]
    ref = offline(model, x)
    for sizes in ([64], [37], [5, 1000, 77, 1], [10**6]):
        assert_same(stream_array(model, x, sizes), ref)
    short = x[:700]  # sample by sample
    assert_same(stream_array(model, short, 1), offline(model, short))


@pytest.mark.parametrize("length", [1, 100, 129, 256, 300])
def test_crn_short_inputs(signal, length):
    model = crn_model(n_fft=128, hop=64)
    assert_same(stream_array(model, signal[:length], 50), offline(model, signal[:length]))


def test_crn_reset_between_streams(signal):
    model = crn_model()
    stream = Stream(model)
    stream_array(model, signal, 333, stream=stream)
    stream.reset()
    assert_same(stream_array(model, signal.flip(0), 333, stream=stream),
                offline(model, signal.flip(0)))


def test_bidirectional_crn_is_refused():
    model = build_model({"name": "crn", "causal": False})
    with pytest.raises(NotCausalError, match=r"CRN: cannot run as a stream: .*bidirectional"):
        Stream(model)


@pytest.mark.parametrize("n_fft, hop", [(256, 128), (256, 64), (32, 8)])
@pytest.mark.parametrize("length", [1, 100, 129, 1000])
@pytest.mark.parametrize("sizes", [1, 37, [3, 200, 64], 10**6])
def test_streamed_stft_and_inverse_equal_the_offline_transforms(n_fft, hop, length, sizes):
    window = hann(n_fft)
    x = torch.randn(length, generator=torch.Generator().manual_seed(length))
    ref = stft(x, n_fft, hop)
    gain = torch.linspace(0.5, 1.5, ref.shape[0]).unsqueeze(1)  # a fixed per-bin "mask"
    target = istft(torch.stack((ref * gain, -2 * ref)), n_fft, hop, length)
    ana, syn = StreamingSTFT(n_fft, hop, window), StreamingISTFT(n_fft, hop, window)
    sa, ss = ana.init_state(), syn.init_state((2,))
    frames, outs, start = [], [], 0

    def process(X):
        if X is not None:
            frames.append(X)
            outs.append(syn.step(torch.stack((X * gain, -2 * X)), ss))

    for n in block_lengths(length, sizes):
        process(ana.step(x[start:start + n], sa))
        start += n
    process(ana.flush(sa))
    outs.append(syn.flush(ss, length))
    X, y = torch.cat(frames, 1), torch.cat(outs, 1)
    assert X.shape == ref.shape and y.shape == target.shape
    assert float((X - ref).abs().max()) <= 1e-5 * float(ref.abs().max())
    assert float((y - target).abs().max()) <= 1e-5 * float(target.abs().max())
