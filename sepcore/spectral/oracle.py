"""The ideal ratio mask oracle: the best a magnitude-mask model with this STFT could do.

For sources ``s_j`` with spectrograms ``S_j`` and the mixture ``X`` (not necessarily their
sum: MUSDB18's AAC mixture is not), the estimate of source ``j`` is

    ŝ_j = ISTFT(M_j · X),   M_j = |S_j|^p / Σ_k |S_k|^p

computed per channel, time-frequency bin by bin; where every source is silent the mask
is ``1/N``. ``p = 1`` is the "IRM1" oracle of SiSEC 2018 / sigsep-mus-oracle (magnitude
ratio, what Open-Unmix's ReLU magnitude mask can reach), ``p = 2`` is "IRM2" (power
ratio, a single-channel Wiener filter). Default: IRM1. The masks sum to one, so the
estimates sum to the mixture. A data dir with a single reference (enhancement: the
speech) has the noise as its second source, the mixture minus the speech; otherwise the
speech's mask would be 1 everywhere and the oracle the unprocessed mixture.
"""

from __future__ import annotations

import math

import torch

from sepcore.errors import ConfigError
from sepcore.spectral.stft import tf_apply


def default_stft(sample_rate: int) -> tuple[int, int]:
    """``n_fft`` = the largest power of two within 93 ms (4096 at 44.1 kHz, 512 at 8 kHz),
    hop ``n_fft / 4``."""
    n_fft = 2 ** int(math.floor(math.log2(0.0929 * sample_rate)))
    return n_fft, n_fft // 4


def ideal_ratio_mask(source_specs: torch.Tensor, power: float = 1.0) -> torch.Tensor:
    """Masks ``[N, ...]`` (real, summing to one over N) from complex ``[N, ...]`` spectrograms."""
    if power <= 0:
        raise ConfigError(f"ideal ratio mask: power must be > 0, got {power}")
    p = source_specs.abs() ** power
    total = p.sum(0, keepdim=True)
    n = source_specs.shape[0]
    return torch.where(total > 0, p / total.clamp_min(1e-30), torch.full_like(p, 1.0 / n))


def oracle_separate(
    mixture: torch.Tensor, sources: torch.Tensor, n_fft: int, hop: int, power: float = 1.0,
    block_frames: int = 256,
) -> torch.Tensor:
    """IRM estimates ``[N, ..., time]`` of ``mixture`` ``[..., time]`` from ``sources``
    ``[N, ..., time]`` (same trailing shape), processed in blocks of frames."""
    if sources.shape[1:] != mixture.shape:
        raise ConfigError(f"oracle: sources {tuple(sources.shape)} do not match the mixture "
                          f"{tuple(mixture.shape)} (expected [N, *mixture.shape])")
    signals = torch.cat([mixture.unsqueeze(0), sources], 0)

    def mask(spec: torch.Tensor) -> torch.Tensor:
        return ideal_ratio_mask(spec[1:], power) * spec[:1]

    return tf_apply(signals, mask, n_fft, hop, block_frames)


def oracle_data_dir(
    data_dir, out_dir, *, job: int = 1, num_jobs: int = 1, power: float = 1.0,
    n_fft: int | None = None, hop: int | None = None, force: bool = False,
) -> int:
    """Write IRM estimates of a data dir in separated-dir form (as steps/separate.sh does).

    Utterance ``i`` (0-based, sorted) goes to job ``i % num_jobs + 1``; it writes
    ``out_dir/wav/<utt>_<source>.wav`` (the mixture's rate and sample format, clipped
    to full scale for PCM), ``out_dir/.parts/spk<n>.<job>.scp``, ``out_dir/sources`` and
    ``out_dir/oracle.json`` (the method; a second run with other settings into the same
    folder is refused). Returns the number of utterances that failed.
    """
    import logging

    from sepcore.data.datadir import DataDir
    from sepcore.errors import DataError
    from sepcore.io.separated import write_separated_dir

    data = DataDir.load(data_dir)
    method = {"method": f"IRM{power:g}" if power in (1, 2) else "IRM", "power": power,
              "n_fft": n_fft, "hop": hop, "data_dir": str(data_dir)}

    def estimate(utt, mix):
        refs = []
        for k, table in enumerate(data.sources, 1):
            ref = data.read_audio(utt, k - 1)
            if ref.sample_rate != mix.sample_rate or ref.data.shape != mix.data.shape:
                raise DataError(
                    f"{table[utt]} (spk{k}.scp, utterance {utt}): "
                    f"{ref.sample_rate} Hz, shape {ref.data.shape}; the mixture "
                    f"{data.wav[utt]} is {mix.sample_rate} Hz, shape {mix.data.shape}")
            refs.append(torch.from_numpy(ref.data.T.copy()))
        mixture = torch.from_numpy(mix.data.T.copy())
        if len(refs) == 1:  # enhancement: the other source is the noise, mixture - speech
            refs.append(mixture - refs[0])
        nf, hp = default_stft(mix.sample_rate)
        est = oracle_separate(mixture, torch.stack(refs), n_fft or nf, hop or hp, power)
        return [(e.T if e.dim() == 2 else e).numpy() for e in est[: len(data.sources)]]

    return write_separated_dir(data, out_dir, data.source_names, estimate,
                               stamp_name="oracle.json", stamp=method, job=job,
                               num_jobs=num_jobs, force=force,
                               log=logging.getLogger("sepcore.oracle"))
