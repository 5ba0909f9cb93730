"""Training losses: SI-SDR and permutation-invariant training over any pairwise loss, and
per-source losses for named stems (music) scored in a fixed order."""

from sepcore.errors import ConfigError
from sepcore.losses.music import FixedOrderLoss, l1, magnitude_mse, neg_sdr, neg_si_sdr
from sepcore.losses.pit import PITLoss, reorder_sources
from sepcore.losses.sisdr import pairwise_neg_si_sdr, si_sdr

LOSSES = {"si_sdr": pairwise_neg_si_sdr}
# loss.pit false: estimate k against reference k ([B, S, ...] x [B, S, ...] -> [B, S])
SOURCE_LOSSES = {"si_sdr": neg_si_sdr, "sdr": neg_sdr, "mag_mse": magnitude_mse, "l1": l1}


def build_loss(lcfg: dict):
    """``loss, perm = f(estimates, references)``: PIT over a pairwise loss, or (``pit``
    false) each estimate against the reference of the same index; ``name`` may be a sum
    such as ``mag_mse+sdr`` weighted by ``weights`` (X-UMX's multi-domain loss)."""
    names = str(lcfg["name"]).split("+")
    if lcfg["pit"]:
        if len(names) != 1 or names[0] not in LOSSES:
            raise ConfigError(f"loss.name must be one of {', '.join(LOSSES)} with loss.pit "
                              f"true (with loss.pit false: {', '.join(SOURCE_LOSSES)} or a "
                              f"sum such as mag_mse+sdr), got {lcfg['name']!r}")
        return PITLoss(LOSSES[names[0]])
    unknown = [n for n in names if n not in SOURCE_LOSSES]
    if unknown:
        raise ConfigError(f"loss.name must be one of {', '.join(SOURCE_LOSSES)} or a sum "
                          f"such as mag_mse+sdr with loss.pit false, got {lcfg['name']!r}")
    weights = lcfg.get("weights") or [1.0] * len(names)
    if (not isinstance(weights, list) or len(weights) != len(names)
            or not all(isinstance(w, (int, float)) for w in weights)):
        raise ConfigError(f"loss.weights must be null or {len(names)} numbers (one per term "
                          f"of {lcfg['name']!r}), got {weights!r}")
    n_fft, hop = lcfg.get("n_fft", 4096), lcfg.get("hop_length", 1024)
    if "mag_mse" in names and not (isinstance(n_fft, int) and isinstance(hop, int)
                                   and 0 < 2 * hop <= n_fft):
        raise ConfigError(f"loss.n_fft / loss.hop_length must be integers with "
                          f"0 < hop_length <= n_fft / 2, got {n_fft!r} / {hop!r}")

    def term(name):
        fn = SOURCE_LOSSES[name]
        return (lambda e, r: fn(e, r, n_fft, hop)) if name == "mag_mse" else fn

    terms = [(float(w), term(n)) for w, n in zip(weights, names)]
    if len(terms) == 1 and terms[0][0] == 1.0:
        return FixedOrderLoss(terms[0][1])
    return FixedOrderLoss(lambda e, r: sum(w * fn(e, r) for w, fn in terms))


__all__ = [
    "LOSSES", "SOURCE_LOSSES", "FixedOrderLoss", "PITLoss", "build_loss", "l1", "magnitude_mse",
    "neg_sdr", "neg_si_sdr", "pairwise_neg_si_sdr", "reorder_sources", "si_sdr",
]
