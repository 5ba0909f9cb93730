"""Training losses: SI-SDR and permutation-invariant training over any pairwise loss, and
per-source losses for named stems (music) scored in a fixed order."""

from sepcore.losses.music import FixedOrderLoss, magnitude_mse, neg_sdr, neg_si_sdr
from sepcore.losses.pit import PITLoss, reorder_sources
from sepcore.losses.sisdr import pairwise_neg_si_sdr, si_sdr

LOSSES = {"si_sdr": pairwise_neg_si_sdr}
# loss.pit false: estimate k against reference k ([B, S, ...] x [B, S, ...] -> [B, S])
SOURCE_LOSSES = {"si_sdr": neg_si_sdr, "sdr": neg_sdr, "mag_mse": magnitude_mse}

__all__ = [
    "LOSSES", "SOURCE_LOSSES", "FixedOrderLoss", "PITLoss", "magnitude_mse", "neg_sdr",
    "neg_si_sdr", "pairwise_neg_si_sdr", "reorder_sources", "si_sdr",
]
