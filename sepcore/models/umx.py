"""Open-Unmix (Stöter, Uhlich, Liutkus & Mitsufuji, "Open-Unmix - A Reference Implementation
for Music Source Separation", JOSS 2019) and its joint variant CrossNet-Open-Unmix (X-UMX:
Sawata, Uhlich, Takahashi & Mitsufuji, "All for One and One for All: Improving Music
Separation by Bridging Networks", ICASSP 2021).

Per target: the mixture's magnitude STFT (``n_fft`` 4096, hop 1024), cut at ``bandwidth``
(16 kHz: 1487 of 2049 bins at 44.1 kHz), with the channels of each frame side by side;
a learnable input mean and scale per bin (:meth:`UMX.fit_input_statistics` sets them
from training data); fc → BatchNorm → tanh to ``hidden_size``; a ``num_layers`` BLSTM
(``hidden_size / 2`` per direction, dropout 0.4 between layers); the BLSTM's input and
output concatenated (skip); fc → BatchNorm → ReLU; fc → BatchNorm to every bin and
channel; a learnable output scale and mean per bin; ReLU: a non-negative mask that
multiplies the mixture's magnitude. The estimate takes the mixture's phase (ISTFT) or,
at separation time, goes through the multichannel Wiener filter
(sepcore/spectral/wiener.py; ``wiener_iterations``, ``softmask``, ``residual`` are the
defaults the separator uses, Open-Unmix's: one iteration, no softmask, no residual).

``joint`` selects how the targets share weights:

* ``"separate"`` — Open-Unmix: one independent network per target (umxhq: 4 × 8.9 M).
* ``"bridge"`` — X-UMX: one network per target, but the encoders' outputs are averaged
  over targets before every target's BLSTM, and the skip-concatenated BLSTM outputs are
  averaged before every target's decoder (the paper's bridging paths).
* ``"shared"`` — one network whose last fc layer outputs every target's mask (cheapest;
  the 3.4 M-parameter mini-corpus model of issue 10: n_fft 2048, hop 512, hidden 256,
  2 layers).

Defaults are the paper's (umxhq). ``forward`` maps ``[batch, channels, time]`` to
``[batch, sources, channels, time]``, any length; :meth:`UMX.spectrogram_estimates`
returns the masked magnitudes for the Wiener filter and for spectrogram losses.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from sepcore.errors import ConfigError
from sepcore.spectral.stft import STFT

JOINT_MODES = ("separate", "bridge", "shared")


def bandwidth_to_bins(sample_rate: int, n_fft: int, bandwidth: float | None) -> int:
    """Bins whose centre frequency is at most ``bandwidth`` Hz (all bins for None)."""
    bins = n_fft // 2 + 1
    if bandwidth is None:
        return bins
    return min(bins, int(bandwidth * n_fft / sample_rate) + 1)


class _Encoder(nn.Module):
    """fc → BatchNorm → tanh over the cut, normalised magnitudes of all channels."""

    def __init__(self, in_features: int, hidden: int):
        super().__init__()
        self.fc = nn.Linear(in_features, hidden, bias=False)
        self.bn = nn.BatchNorm1d(hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [N, B, in] → [N, B, hidden]
        n, b, _ = x.shape
        return torch.tanh(self.bn(self.fc(x.reshape(n * b, -1))).reshape(n, b, -1))


class _Decoder(nn.Module):
    """fc → BatchNorm → ReLU → fc → BatchNorm to ``out_features``."""

    def __init__(self, hidden: int, out_features: int):
        super().__init__()
        self.fc2 = nn.Linear(2 * hidden, hidden, bias=False)
        self.bn2 = nn.BatchNorm1d(hidden)
        self.fc3 = nn.Linear(hidden, out_features, bias=False)
        self.bn3 = nn.BatchNorm1d(out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [N, B, 2 hidden] → [N, B, out]
        n, b, _ = x.shape
        y = torch.relu(self.bn2(self.fc2(x.reshape(n * b, -1))))
        return self.bn3(self.fc3(y)).reshape(n, b, -1)


def _blstm(hidden: int, layers: int) -> nn.LSTM:
    return nn.LSTM(hidden, hidden // 2, num_layers=layers, bidirectional=True,
                   dropout=0.4 if layers > 1 else 0.0)


class UMX(nn.Module):
    """Open-Unmix / X-UMX magnitude-mask music separator (stereo by default).

    Args:
        num_sources (int): number of targets (4: drums, bass, other, vocals).
        sample_rate (int): the audio's sample rate (sets the bandwidth cut).
        n_fft (int): STFT size (4096 in the paper).
        hop (int): STFT hop (1024).
        bandwidth (float or None): highest frequency in Hz fed to the network (16000;
            None: every bin). The mask covers all bins.
        hidden_size (int): width of the fc layers and of the BLSTM output (512).
        num_layers (int): BLSTM layers (3).
        audio_channels (int): channels of the audio (2: stereo; 1: mono).
        joint (str): ``"separate"`` (Open-Unmix), ``"bridge"`` (X-UMX) or ``"shared"``
            (one network for all targets); see the module docstring.
        wiener_iterations (int): default EM iterations of the Wiener filter at
            separation time (1, as Open-Unmix; 0: mask × mixture, mixture phase).
        softmask (bool): default Wiener initialisation (see sepcore.spectral.wiener).
        residual (bool): default: add a "residual" source at separation time.

    References:
        Stöter et al., JOSS 4(41) 1667, 2019; Sawata et al., ICASSP 2021.
    """

    def __init__(
        self,
        num_sources: int = 4,
        sample_rate: int = 44100,
        n_fft: int = 4096,
        hop: int = 1024,
        bandwidth: float | None = 16000.0,
        hidden_size: int = 512,
        num_layers: int = 3,
        audio_channels: int = 2,
        joint: str = "separate",
        wiener_iterations: int = 1,
        softmask: bool = False,
        residual: bool = False,
    ):
        super().__init__()
        if joint not in JOINT_MODES:
            raise ConfigError(f"model.joint: expected one of {', '.join(JOINT_MODES)}, "
                              f"got {joint!r}")
        if hidden_size % 2 or hidden_size < 2:
            raise ConfigError(f"model.hidden_size must be even (two LSTM directions), "
                              f"got {hidden_size}")
        for name, value in (("num_sources", num_sources), ("num_layers", num_layers),
                            ("audio_channels", audio_channels)):
            if int(value) < 1:
                raise ConfigError(f"model.{name} must be >= 1, got {value}")
        self.num_sources, self.sample_rate = int(num_sources), int(sample_rate)
        self.audio_channels, self.joint = int(audio_channels), joint
        self.wiener_iterations, self.softmask, self.residual = wiener_iterations, softmask, residual
        self.stride = 1
        self.stft = STFT(n_fft, hop)
        self.num_bins = self.stft.num_bins
        self.max_bin = bandwidth_to_bins(sample_rate, n_fft, bandwidth)
        C, H = self.audio_channels, hidden_size
        nets = 1 if joint == "shared" else self.num_sources
        out_per_net = C * self.num_bins * (self.num_sources if joint == "shared" else 1)
        self.encoders = nn.ModuleList(_Encoder(C * self.max_bin, H) for _ in range(nets))
        self.lstms = nn.ModuleList(_blstm(H, num_layers) for _ in range(nets))
        self.decoders = nn.ModuleList(_Decoder(H, out_per_net) for _ in range(nets))
        # Open-Unmix's convention: x ← (x + input_mean) · input_scale
        self.input_mean = nn.Parameter(torch.zeros(nets, self.max_bin))
        self.input_scale = nn.Parameter(torch.ones(nets, self.max_bin))
        self.output_scale = nn.Parameter(torch.ones(self.num_sources, self.num_bins))
        self.output_mean = nn.Parameter(torch.ones(self.num_sources, self.num_bins))

    # the chunker's default window (sepcore.inference.plan_chunks) is capped at this: the
    # spectrogram estimates and the Wiener EM of a chunk take ~20 MB per second of stereo
    # 44.1 kHz audio at full size, the 10-minute song's stems another 0.85 GB
    chunk_seconds = 10.0

    def receptive_field(self) -> int:
        """The BLSTM sees the whole input; 1 s of context per side is what the chunker keeps.

        Chunked separation then uses 10 s windows (:attr:`chunk_seconds`) cross-faded over
        2.5 s (Demucs separates in segments of about that length): memory per chunk stays
        small.
        """
        return self.sample_rate

    @torch.no_grad()
    def fit_input_statistics(self, mixtures: Iterable[torch.Tensor]) -> tuple[torch.Tensor,
                                                                              torch.Tensor]:
        """Set the input mean and scale from training mixtures, as Open-Unmix does.

        ``mixtures``: tensors ``[C, T]`` or ``[B, C, T]`` (e.g. every training track, or a
        few hundred excerpts). Each is downmixed to mono, its magnitude STFT cut at the
        bandwidth; the mean and standard deviation per bin over all frames give
        ``input_mean = -mean`` and ``input_scale = 1 / max(std, 1e-4)``. Returns
        ``(mean, std)`` ``[max_bin]``.
        """
        count, total, total_sq = 0, None, None
        for x in mixtures:
            x = torch.as_tensor(x, dtype=torch.float32)
            if x.dim() == 2:
                x = x.unsqueeze(0)
            if x.dim() != 3:
                raise ConfigError(f"fit_input_statistics: expected [C, T] or [B, C, T] "
                                  f"mixtures, got shape {tuple(x.shape)}")
            mag = self.stft(x.mean(1).to(self.input_mean.device)).abs()[:, :self.max_bin]
            mag = mag.transpose(1, 2).reshape(-1, self.max_bin).double()
            total = mag.sum(0) if total is None else total + mag.sum(0)
            total_sq = (mag ** 2).sum(0) if total_sq is None else total_sq + (mag ** 2).sum(0)
            count += mag.shape[0]
        if not count:
            raise ConfigError("fit_input_statistics: no mixtures given")
        mean = total / count
        std = (total_sq / count - mean ** 2).clamp_min(0).sqrt()
        self.input_mean.copy_((-mean).float().expand_as(self.input_mean))
        self.input_scale.copy_((1.0 / std.clamp_min(1e-4)).float().expand_as(self.input_scale))
        return mean.float(), std.float()

    def _check_input(self, mixture: torch.Tensor) -> torch.Tensor:
        if self.audio_channels == 1 and mixture.dim() == 2:
            mixture = mixture.unsqueeze(1)
        if mixture.dim() != 3 or mixture.shape[1] != self.audio_channels:
            raise ValueError(f"UMX with audio_channels={self.audio_channels} expects "
                             f"[batch, {self.audio_channels}, time], got {tuple(mixture.shape)}")
        return mixture

    def _masks(self, mixture: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Non-negative masks ``[B, S, C, F, N]`` and the mixture's STFT ``[B, C, F, N]``.

        The masks are a view of the decoders' frames-major output (no copy of the
        spectrogram-sized tensor); :func:`sepcore.spectral.stft.istft` reads it in place.
        """
        X = self.stft(self._check_input(mixture))  # [B, C, F, N]
        mag = X.abs()
        B, C, F, N = mag.shape
        feats = mag[:, :, :self.max_bin].permute(3, 0, 1, 2)  # [N, B, C, max_bin]
        nets = len(self.encoders)
        encoded = []
        for k in range(nets):
            x = (feats + self.input_mean[k]) * self.input_scale[k]
            encoded.append(self.encoders[k](x.reshape(N, B, -1)))
        if self.joint == "bridge":
            avg = torch.stack(encoded).mean(0)
            encoded = [avg] * nets
        skips = [torch.cat([e, self.lstms[k](e)[0]], -1) for k, e in enumerate(encoded)]
        if self.joint == "bridge":
            avg = torch.stack(skips).mean(0)
            skips = [avg] * nets
        out = torch.stack([self.decoders[k](s) for k, s in enumerate(skips)], 2)
        out = out.reshape(N, B, self.num_sources, C, F)  # net k (or the shared net's k-th block)
        # expanded to [S, C, F] first: the gradient's sum over frames and batch is then over
        # leading dims only (torch's reduction over dims 0, 1 and 3 at once is ~10x slower)
        scale = self.output_scale[:, None].expand(-1, C, -1)
        shift = self.output_mean[:, None].expand(-1, C, -1)
        if torch.is_grad_enabled():
            out = torch.relu(torch.addcmul(shift, out, scale))
        else:  # separation: no copies of the track's spectrograms
            out = out.mul_(scale).add_(shift).relu_()
        return out.permute(1, 2, 3, 4, 0), X

    def spectrogram_estimates(self, mixture: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Masked magnitudes ``[B, S, C, F, N]`` and the mixture's STFT ``[B, C, F, N]``.

        (Mono models, ``audio_channels = 1``: ``[B, S, F, N]`` and ``[B, F, N]``.)
        """
        masks, X = self._masks(mixture)
        mag = X.abs().unsqueeze(1)
        v = masks * mag if torch.is_grad_enabled() else masks.mul_(mag)
        if mixture.dim() == 2:
            return v.squeeze(2), X.squeeze(1)
        return v, X

    def forward(self, mixture: torch.Tensor) -> torch.Tensor:
        """``[B, C, T]`` → ``[B, S, C, T]``: the masks applied to the mixture's STFT.

        (A mask times the complex STFT: the masked magnitude with the mixture's phase.)
        """
        masks, X = self._masks(mixture)
        y = self.stft.inverse(masks * X.unsqueeze(1), mixture.shape[-1])
        return y.squeeze(2) if mixture.dim() == 2 else y
