"""Training losses: SI-SDR, the multi-resolution STFT loss, their sum, and
permutation-invariant training over any pairwise loss; per-source losses for named stems.

``build_loss(cfg["loss"])`` returns the pairwise loss ``(est [B,S,T], ref [B,S,T]) →
[B, S_est, S_ref]`` that ``loss.name`` selects: ``si_sdr`` (−SI-SDR in dB), ``mrstft``
(Yamamoto et al. 2020), or ``si_sdr+mrstft`` (−SI-SDR + ``mrstft_weight`` · MR-STFT).

``build_criterion(cfg["loss"])`` is what training calls: ``loss, perm = f(est, ref)``,
PIT over that pairwise loss (the identity with ``loss.pit: false``), or, with
``loss.pit: false``, a per-source loss of sepcore/losses/music.py for named stems
(``sdr``, ``mag_mse``, ``l1``, ``si_sdr``) or a weighted sum such as ``mag_mse+sdr``
(``loss.weights``; X-UMX's multi-domain loss), estimate k against reference k.
"""

from __future__ import annotations

from sepcore.errors import ConfigError
from sepcore.losses.mrstft import MultiResolutionSTFTLoss
from sepcore.losses.music import FixedOrderLoss, l1, magnitude_mse, neg_sdr, neg_si_sdr
from sepcore.losses.pit import PITLoss, reorder_sources
from sepcore.losses.sisdr import pairwise_neg_si_sdr, si_sdr

LOSS_NAMES = ("si_sdr", "mrstft", "si_sdr+mrstft")
# loss.pit false: estimate k against reference k ([B, S, ...] x [B, S, ...] -> [B, S])
SOURCE_LOSSES = {"si_sdr": neg_si_sdr, "sdr": neg_sdr, "mag_mse": magnitude_mse, "l1": l1}


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


def build_criterion(cfg: dict):
    """``loss, perm = f(estimates, references)`` for the ``loss`` config section."""
    name = str(cfg.get("name"))
    if cfg["pit"] and name not in LOSS_NAMES:
        raise ConfigError(f"loss.name must be one of {', '.join(LOSS_NAMES)} with loss.pit "
                          f"true (with loss.pit false also {', '.join(SOURCE_LOSSES)} or a "
                          f"sum such as mag_mse+sdr), got {name!r}")
    if cfg["pit"]:
        return PITLoss(build_loss(cfg))
    if name in LOSS_NAMES and name not in SOURCE_LOSSES:  # mrstft terms: k against k
        pairwise = build_loss(cfg)
        return FixedOrderLoss(lambda e, r: pairwise(e, r).diagonal(dim1=1, dim2=2))
    names = name.split("+")
    unknown = [n for n in names if n not in SOURCE_LOSSES]
    if unknown:
        raise ConfigError(f"loss.name must be one of {', '.join(LOSS_NAMES)}, or with "
                          f"loss.pit false {', '.join(SOURCE_LOSSES)} or a sum such as "
                          f"mag_mse+sdr, got {name!r}")
    weights = cfg.get("weights") or [1.0] * len(names)
    if (not isinstance(weights, list) or len(weights) != len(names)
            or not all(isinstance(w, (int, float)) for w in weights)):
        raise ConfigError(f"loss.weights must be null or {len(names)} numbers (one per term "
                          f"of {name!r}), got {weights!r}")
    n_fft, hop = cfg.get("n_fft", 4096), cfg.get("hop_length", 1024)
    if "mag_mse" in names and not (isinstance(n_fft, int) and isinstance(hop, int)
                                   and 0 < 2 * hop <= n_fft):
        raise ConfigError(f"loss.n_fft / loss.hop_length must be integers with "
                          f"0 < hop_length <= n_fft / 2, got {n_fft!r} / {hop!r}")

    def term(n):
        fn = SOURCE_LOSSES[n]
        return (lambda e, r: fn(e, r, n_fft, hop)) if n == "mag_mse" else fn

    terms = [(float(w), term(n)) for w, n in zip(weights, names)]
    if len(terms) == 1 and terms[0][0] == 1.0:
        return FixedOrderLoss(terms[0][1])
    return FixedOrderLoss(lambda e, r: sum(w * fn(e, r) for w, fn in terms))


__all__ = ["LOSS_NAMES", "SOURCE_LOSSES", "FixedOrderLoss", "MultiResolutionSTFTLoss",
           "PITLoss", "build_criterion", "build_loss", "l1", "magnitude_mse", "neg_sdr",
           "neg_si_sdr", "pairwise_neg_si_sdr", "reorder_sources", "si_sdr"]
