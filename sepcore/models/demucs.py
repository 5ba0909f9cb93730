"""Demucs, a waveform U-Net for music separation (Défossez, Usunier, Bottou & Bach, "Music
Source Separation in the Waveform Domain", arXiv:1911.13254, 2019; v2 2021, the Demucs of
the MDX 2021 baselines).

The stereo waveform, normalised by the mean and standard deviation of its mono downmix,
goes through ``depth`` encoder layers (Conv1d kernel ``kernel_size`` stride ``stride`` →
ReLU → 1×1 Conv1d to twice the channels → GLU; the channels start at ``channels`` and
grow by ``growth`` per layer), a ``lstm_layers`` BLSTM with a linear layer back to the
bottleneck's width, and ``depth`` decoder layers, each adding the matching encoder
output (U-Net skip), then Conv1d kernel ``context`` → GLU → ConvTranspose1d kernel
``kernel_size`` stride ``stride`` → ReLU (not after the last, which outputs every
source's channels). The output is de-normalised. Convolutions are initialised with
Demucs's weight rescaling (``rescale``: standard deviation brought towards 0.1).

One difference from the paper: convolutions are zero-padded to keep lengths exact
(``stride**depth`` divides the padded input) instead of Demucs's valid convolutions
with a centre crop, so any input length maps to itself without a ``valid_length``.

Why this model as the second one (rather than CWS-PResUNet's subband complex-mask
ResUNet): it complements Open-Unmix where Open-Unmix is weak — it works on the
waveform, estimates phase itself and needs no Wiener filter — with few moving parts
(no PQMF filter bank, no complex masks), and its small configurations train on a CPU.

Full size (``channels`` 64, ``depth`` 6, ``lstm_layers`` 2, kernel 8, stride 4): the
MUSDB18-HQ configuration of Demucs v2 (without its ×2 input upsampling). Small:
``channels`` 16, ``depth`` 4, ``lstm_layers`` 1 (egs/.../conf).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sepcore.errors import ConfigError


def _rescale(module: nn.Module, reference: float) -> None:
    """Demucs's init: divide each conv's weight and bias by sqrt(std / reference)."""
    for sub in module.modules():
        if isinstance(sub, (nn.Conv1d, nn.ConvTranspose1d)):
            std = sub.weight.std().detach()
            scale = (std / reference) ** 0.5
            sub.weight.data /= scale
            if sub.bias is not None:
                sub.bias.data /= scale


class _BLSTM(nn.Module):
    def __init__(self, dim: int, layers: int):
        super().__init__()
        self.lstm = nn.LSTM(dim, dim, num_layers=layers, bidirectional=True)
        self.linear = nn.Linear(2 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C, T] → [B, C, T]
        y = self.lstm(x.permute(2, 0, 1))[0]
        return self.linear(y).permute(1, 2, 0)


class Demucs(nn.Module):
    """Demucs (v2) waveform U-Net with a BLSTM bottleneck.

    Args:
        num_sources (int): number of stems (4: drums, bass, other, vocals).
        audio_channels (int): channels of the audio (2: stereo).
        sample_rate (int): the audio's sample rate (only for the chunking context).
        channels (int): channels of the first encoder layer (64 in the paper).
        growth (float): channel growth per layer (2).
        depth (int): encoder/decoder layers (6).
        kernel_size (int): kernel of the strided convolutions (8).
        stride (int): their stride (4).
        context (int): kernel of the decoder's first convolution (3).
        lstm_layers (int): BLSTM layers at the bottleneck (2; 0: none).
        rescale (float): reference standard deviation of the weight rescaling (0.1;
            0: off).

    References:
        Défossez et al., arXiv:1911.13254 (2019, v2 2021).
    """

    def __init__(
        self,
        num_sources: int = 4,
        audio_channels: int = 2,
        sample_rate: int = 44100,
        channels: int = 64,
        growth: float = 2.0,
        depth: int = 6,
        kernel_size: int = 8,
        stride: int = 4,
        context: int = 3,
        lstm_layers: int = 2,
        rescale: float = 0.1,
    ):
        super().__init__()
        if kernel_size < stride or (kernel_size - stride) % 2:
            raise ConfigError(f"model.kernel_size ({kernel_size}) must be >= stride ({stride}) "
                              f"and differ from it by an even number (exact lengths)")
        if context % 2 == 0:
            raise ConfigError(f"model.context must be odd, got {context}")
        for name, value in (("num_sources", num_sources), ("audio_channels", audio_channels),
                            ("channels", channels), ("depth", depth), ("stride", stride)):
            if int(value) < 1:
                raise ConfigError(f"model.{name} must be >= 1, got {value}")
        self.num_sources, self.audio_channels = int(num_sources), int(audio_channels)
        self.sample_rate, self.depth, self.kernel_size = int(sample_rate), depth, kernel_size
        self.conv_stride = stride
        self.stride = 1  # any input length (padded inside)
        pad = (kernel_size - stride) // 2
        self.encoder = nn.ModuleList()
        self.decoder = nn.ModuleList()
        ch_in = self.audio_channels
        width = channels
        for i in range(depth):
            ch = int(round(width))
            self.encoder.append(nn.Sequential(
                nn.Conv1d(ch_in, ch, kernel_size, stride, padding=pad), nn.ReLU(),
                nn.Conv1d(ch, 2 * ch, 1), nn.GLU(dim=1)))
            out = self.num_sources * self.audio_channels if i == 0 else ch_in
            layers = [nn.Conv1d(ch, 2 * ch, context, padding=context // 2), nn.GLU(dim=1),
                      nn.ConvTranspose1d(ch, out, kernel_size, stride, padding=pad)]
            if i > 0:
                layers.append(nn.ReLU())
            self.decoder.insert(0, nn.Sequential(*layers))
            ch_in = ch
            width *= growth
        self.lstm = _BLSTM(ch_in, lstm_layers) if lstm_layers else None
        if rescale:
            _rescale(self, rescale)

    def receptive_field(self) -> int:
        """The BLSTM sees the whole input; 1 s of context per side is what the chunker keeps.

        Chunked separation then uses 10 s windows cross-faded over 2.5 s (Demucs
        separates in segments of about that length): memory per chunk stays small.
        """
        return self.sample_rate

    def forward(self, mixture: torch.Tensor) -> torch.Tensor:
        """``[B, C, T]`` → ``[B, S, C, T]`` (mono models: ``[B, T]`` → ``[B, S, T]``)."""
        mono_io = mixture.dim() == 2 and self.audio_channels == 1
        x = mixture.unsqueeze(1) if mono_io else mixture
        if x.dim() != 3 or x.shape[1] != self.audio_channels:
            raise ValueError(f"Demucs with audio_channels={self.audio_channels} expects "
                             f"[batch, {self.audio_channels}, time], got {tuple(mixture.shape)}")
        length = x.shape[-1]
        mono = x.mean(1, keepdim=True)
        mean = mono.mean(-1, keepdim=True)
        std = mono.std(-1, keepdim=True) if length > 1 else torch.ones_like(mean)
        x = (x - mean) / (1e-5 + std)
        total = self.conv_stride ** self.depth
        x = F.pad(x, (0, -length % total))
        skips = []
        for enc in self.encoder:
            x = enc(x)
            skips.append(x)
        if self.lstm is not None:
            x = self.lstm(x)
        for dec in self.decoder:
            x = dec(x + skips.pop())
        x = x[..., :length].reshape(x.shape[0], self.num_sources, self.audio_channels, length)
        x = x * std.unsqueeze(1) + mean.unsqueeze(1)
        return x.squeeze(2) if mono_io else x
