"""sepcore.spectral.wiener: the multichannel Wiener filter (EM of Open-Unmix / norbert)."""

from __future__ import annotations

import pytest
import torch

from sepcore.errors import ConfigError
from sepcore.spectral.wiener import wiener


def sdr(ref: torch.Tensor, est: torch.Tensor) -> float:
    return float(10 * torch.log10((ref.abs() ** 2).sum() / ((ref - est).abs() ** 2).sum()))


def test_a_perfect_estimate_is_left_unchanged():
    # sources on disjoint time-frequency bins: their true magnitudes are a perfect estimate
    g = torch.Generator().manual_seed(0)
    S, C, F, N = 3, 2, 64, 300
    owner = torch.randint(0, S, (F, N), generator=g)
    src = torch.randn(S, C, F, N, dtype=torch.complex64, generator=g)
    src = src * (owner == torch.arange(S)[:, None, None])[:, None]
    x = src.sum(0)
    for iterations, softmask in [(0, False), (1, False), (3, False), (2, True)]:
        y = wiener(src.abs(), x, iterations, softmask)
        assert y.shape == src.shape
        for j in range(S):
            assert sdr(src[j], y[j]) > 60.0, (iterations, softmask, j)


def spatial_case(seed=0):
    """Overlapping sources, each from its own direction (rank-1 spatial covariance),
    and magnitude estimates off by a log-normal factor (σ = 0.5) in every bin."""
    g = torch.Generator().manual_seed(seed)
    S, C, F, N = 3, 2, 64, 400
    steer = torch.randn(S, C, 1, 1, dtype=torch.complex64, generator=g)
    psd = torch.rand(S, 1, F, N, generator=g) ** 4
    src = steer * torch.randn(S, 1, F, N, dtype=torch.complex64, generator=g) * psd.sqrt()
    noisy = src.abs() * torch.exp(0.5 * torch.randn(S, C, F, N, generator=g))
    return src, src.sum(0), noisy


def test_a_noisy_estimate_improves_with_each_of_the_first_iterations():
    src, x, v = spatial_case()
    scores = {it: [sdr(src[j], y) for j, y in enumerate(wiener(v, x, it))] for it in (0, 1, 2)}
    # measured: 0 iterations 2.5 / 0.5 / 0.2 dB, 1 iteration 8.8 / 4.8 / 6.4, 2: 9.3 / 4.9 / 7.8
    for j in range(3):
        assert scores[1][j] > scores[0][j] + 3.0
        assert scores[2][j] > scores[1][j] - 0.1
    assert sum(scores[1]) / 3 > 6.0


def test_residual_adds_the_rest_of_the_mixture_and_batches_are_independent():
    src, x, v = spatial_case(1)
    y = wiener(v[:2], x, 0, residual=True)
    assert y.shape == (3,) + x.shape
    torch.testing.assert_close(y.sum(0), x, atol=1e-5, rtol=0)
    both = wiener(torch.stack([v, v * 2]), torch.stack([x, x]), 1)
    torch.testing.assert_close(both[0], wiener(v, x, 1), atol=1e-5, rtol=1e-4)


def test_softmask_initialisation_sums_to_the_mixture():
    src, x, v = spatial_case(2)
    torch.testing.assert_close(wiener(v, x, 0, softmask=True).sum(0), x, atol=1e-5, rtol=0)


def test_block_size_does_not_change_the_result():
    src, x, v = spatial_case(3)
    torch.testing.assert_close(wiener(v, x, 2, block_frames=37), wiener(v, x, 2, block_frames=400),
                               atol=1e-5, rtol=1e-4)


def test_bad_arguments_are_config_errors():
    src, x, v = spatial_case()
    with pytest.raises(ConfigError, match="non-negative integer"):
        wiener(v, x, -1)
    with pytest.raises(ConfigError, match="do not fit the mixture"):
        wiener(v[:, :1], x, 1)
