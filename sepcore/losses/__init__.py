"""Training losses: SI-SDR and permutation-invariant training over any pairwise loss."""

from sepcore.losses.pit import PITLoss, reorder_sources
from sepcore.losses.sisdr import pairwise_neg_si_sdr, si_sdr

LOSSES = {"si_sdr": pairwise_neg_si_sdr}

__all__ = ["LOSSES", "PITLoss", "pairwise_neg_si_sdr", "reorder_sources", "si_sdr"]
