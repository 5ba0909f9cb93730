"""Time-frequency helpers shared by every TF model: the STFT, the ideal ratio mask oracle,
the multichannel Wiener filter and the post-filter of one-source (enhancement) models."""

from sepcore.spectral.oracle import ideal_ratio_mask, oracle_separate
from sepcore.spectral.stft import STFT, istft, stft, tf_apply

__all__ = ["STFT", "ideal_ratio_mask", "istft", "oracle_separate", "stft", "tf_apply"]
