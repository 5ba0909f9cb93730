"""Training losses: SI-SDR, the multi-resolution STFT loss, their sum, and
permutation-invariant training over any pairwise loss.

``build_loss(cfg["loss"])`` returns the pairwise loss ``(est [B,S,T], ref [B,S,T]) →
[B, S_est, S_ref]`` that ``loss.name`` selects: ``si_sdr`` (−SI-SDR in dB), ``mrstft``
(Yamamoto et al. 2020), or ``si_sdr+mrstft`` (−SI-SDR + ``mrstft_weight`` · MR-STFT).
"""

from __future__ import annotations

from sepcore.errors import ConfigError
from sepcore.losses.mrstft import MultiResolutionSTFTLoss
from sepcore.losses.pit import PITLoss, reorder_sources
from sepcore.losses.sisdr import pairwise_neg_si_sdr, si_sdr

LOSS_NAMES = ("si_sdr", "mrstft", "si_sdr+mrstft")


def build_loss(cfg: dict):
    """The pairwise loss of a ``loss`` config section (see the module doc)."""
    name = cfg.get("name")
    if name not in LOSS_NAMES:
        raise ConfigError(f"loss.name must be one of {', '.join(LOSS_NAMES)}, got {name!r}")
    if name == "si_sdr":
        return pairwise_neg_si_sdr
    mr = MultiResolutionSTFTLoss(cfg.get("mrstft_fft_sizes", (1024, 2048, 512)),
                                 cfg.get("mrstft_hops", (120, 240, 50)),
                                 cfg.get("mrstft_win_lengths", (600, 1200, 240)))
    if name == "mrstft":
        return mr.pairwise
    weight = cfg.get("mrstft_weight", 1.0)
    if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight < 0:
        raise ConfigError(f"loss.mrstft_weight must be a number >= 0, got {weight!r}")

    def combined(estimates, references):
        return pairwise_neg_si_sdr(estimates, references) + weight * mr.pairwise(
            estimates, references)

    return combined


__all__ = ["LOSS_NAMES", "MultiResolutionSTFTLoss", "PITLoss", "build_loss",
           "pairwise_neg_si_sdr", "reorder_sources", "si_sdr"]
