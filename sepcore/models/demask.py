"""DeMask: an STFT magnitude mask from a small frame-wise network, for speech muffled by
a face mask.

In the spirit of Asteroid's DeMask (M. Pariente, S. Cornell et al., Asteroid's
``egs/demask`` recipe and ``asteroid.models.DeMask``, 2020: restoring speech recorded
through a surgical mask with a mask over the STFT magnitude predicted frame by frame by
a small MLP, gLN-normalised, ReLU output so that the mask may amplify). This is an
independent implementation on ``sepcore.spectral.STFT``; it adds an optional temporal
kernel to the hidden layers (a small conv net instead of a per-frame MLP) and
power-law compression of the input magnitudes.

Pipeline: STFT → features ``|X|^compress`` ``[B, F, T]`` → norm over (bins, frames) →
``len(hidden)`` Conv1d layers over frames (``kernel_size`` frames wide, centred; 1 is
Asteroid's per-frame MLP), each followed by the norm, the activation and dropout →
Conv1d to ``num_sources × F`` → ``mask_act`` → each mask times the complex STFT (noisy
phase) → inverse STFT. A face mask attenuates frequencies above ~1 kHz by up to 20 dB,
so the mask must be able to exceed 1: ``mask_act: relu`` (default) is unbounded,
``softplus`` too; ``sigmoid`` caps it at 1 (for noise only).
"""

from __future__ import annotations

import torch
from torch import nn

from sepcore.errors import ConfigError
from sepcore.nn.norm import CAUSAL_NORMS, make_norm
from sepcore.spectral import STFT

ACTIVATIONS = {"relu": nn.ReLU, "prelu": nn.PReLU, "gelu": nn.GELU, "tanh": nn.Tanh}
MASK_ACTS = {"relu": nn.ReLU, "softplus": nn.Softplus, "sigmoid": nn.Sigmoid}


class DeMask(nn.Module):
    """STFT magnitude-mask network (Asteroid's DeMask, with an optional temporal kernel).

    ``residual_name`` ("residual"): what ``sepcore-separate --stems speech`` calls the
    input minus the restored speech.

    Args:
        num_sources (int): masks to estimate (1: the restored speech).
        n_fft (int): STFT window and FFT size in samples (Asteroid: 512 at 16 kHz).
        hop (int): STFT hop in samples (at most ``n_fft // 2``; Asteroid: 256).
        hidden (list of int): channels of the hidden layers (Asteroid: ``[1024]``).
        kernel_size (int): odd number of frames each hidden layer sees (1: per-frame MLP).
        activation (str): ``relu``, ``prelu``, ``gelu`` or ``tanh`` after each hidden layer.
        mask_act (str): ``relu`` (unbounded, Asteroid's), ``softplus`` or ``sigmoid``.
        norm (str): ``gLN`` (Asteroid's; whole-utterance statistics), ``cLN``, ``chanLN``
            or ``BN``; applied to the input features and after each hidden layer.
        dropout (float): dropout after each hidden layer.
        compress (float): power-law compression ``c`` of the input magnitudes (1: none,
            Asteroid's).
    """

    residual_name = "residual"

    def __init__(
        self,
        num_sources: int = 1,
        n_fft: int = 512,
        hop: int = 256,
        hidden: list[int] | tuple[int, ...] = (1024,),
        kernel_size: int = 1,
        activation: str = "relu",
        mask_act: str = "relu",
        norm: str = "gLN",
        dropout: float = 0.0,
        compress: float = 1.0,
    ):
        super().__init__()
        if num_sources < 1:
            raise ConfigError(f"num_sources must be >= 1, got {num_sources}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ConfigError(f"kernel_size must be an odd number >= 1, got {kernel_size}")
        if activation not in ACTIVATIONS:
            raise ConfigError(f"activation must be one of {', '.join(ACTIVATIONS)}, got "
                              f"{activation!r}")
        if mask_act not in MASK_ACTS:
            raise ConfigError(f"mask_act must be one of {', '.join(MASK_ACTS)}, got {mask_act!r}")
        hidden = [int(h) for h in hidden]
        if min(hidden, default=1) < 1:
            raise ConfigError(f"hidden must be a list of positive ints, got {hidden}")
        if not 0 < compress <= 1:
            raise ConfigError(f"compress must be in (0, 1], got {compress}")
        if not 0 <= dropout < 1:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        self.stft = STFT(n_fft, hop)
        self.num_sources, self.n_fft, self.hop, self.stride = num_sources, n_fft, hop, hop
        self.kernel_size, self.num_layers, self.norm_name = kernel_size, len(hidden), norm
        self.compress = compress
        bins = self.stft.num_bins
        layers: list[nn.Module] = [make_norm(norm, bins)]
        cin = bins
        for h in hidden:
            layers += [nn.Conv1d(cin, h, kernel_size, padding=kernel_size // 2),
                       make_norm(norm, h), ACTIVATIONS[activation](), nn.Dropout(dropout)]
            cin = h
        layers += [nn.Conv1d(cin, num_sources * bins, 1), MASK_ACTS[mask_act]()]
        self.masker = nn.Sequential(*layers)

    def receptive_field(self) -> int | None:
        """Samples of context per side: the STFT window and the hidden layers' frames;
        unbounded (None) with gLN or BN in training (statistics of the whole input)."""
        if self.norm_name not in CAUSAL_NORMS and self.norm_name != "BN":
            return None
        return self.n_fft + self.num_layers * (self.kernel_size // 2) * self.hop

    def forward(self, mixture: torch.Tensor) -> torch.Tensor:
        """``[batch, time]`` (or ``[time]``) → ``[batch, sources, time]``."""
        squeeze = mixture.dim() == 1
        x = mixture.unsqueeze(0) if squeeze else mixture
        if x.dim() != 2:
            raise ValueError(f"expected [batch, time], got {tuple(mixture.shape)}")
        X = self.stft(x)  # [B, F, T]
        feats = X.abs().clamp_min(1e-8).pow(self.compress)
        masks = self.masker(feats).reshape(x.shape[0], self.num_sources, X.shape[1], -1)
        y = self.stft.inverse(masks * X.unsqueeze(1), x.shape[-1])
        return y.squeeze(0) if squeeze else y
