"""Segmental SNR and the composite measures CSIG / CBAK / COVL (Hu & Loizou 2008).

Y. Hu and P. C. Loizou, "Evaluation of objective quality measures for speech enhancement",
IEEE TASLP 16(1), 2008: three linear combinations of PESQ, the log-likelihood ratio (LLR),
the weighted-spectral-slope distance (WSS) and the segmental SNR, fitted to the ratings of
signal distortion (CSIG), background intrusiveness (CBAK) and overall quality (COVL):

    CSIG = 3.093 - 1.029 LLR + 0.603 PESQ - 0.009 WSS
    CBAK = 1.634 + 0.478 PESQ - 0.007 WSS + 0.063 SegSNR
    COVL = 1.594 + 0.805 PESQ - 0.512 LLR - 0.007 WSS        (each clamped to [1, 5])

This follows Loizou's MATLAB ``composite.m`` (the book "Speech Enhancement: Theory and
Practice") as ported to Python by ``pysepm`` (``SNRseg``, ``llr(used_for_composite=True)``,
``wss``, ``composite``), the implementation behind the CSIG/CBAK/COVL that
VoiceBank+DEMAND papers (SEGAN, MetricGAN+, CMGAN) report: 30 ms Hann frames
(``0.5 (1 - cos(2 pi n / (W + 1)))``, n = 1..W) with a quarter-frame hop; LLR and WSS
averaged over the best 95 % of frames; SegSNR clamped to [-10, 35] dB per frame; PESQ is
wide-band MOS-LQO at 16 kHz and, at 8 kHz, the raw P.862 score (narrow-band MOS-LQO mapped
back, as pysepm does). Other rates are not defined by the reference: callers resample to
16 kHz first (``sepcore.metrics.speech.resample_for_pesq``). Everything is vectorized
over frames (numpy, float64); it agrees with pysepm to ~1e-10 and with the MATLAB values
pysepm tests against (tests/test_metrics_composite.py).

Caveats inherited from the reference: WSS depends on the signals' scale through its
1e-10 energy floor (we score full-scale ±1 floats, as the Python ports do); inside the
composite the LLR is not clamped per frame, so frames of digital silence in the clean
reference (eps after composite.m's ``+ eps``) score LLR ≈ 20 and push CSIG/COVL to 1.
"""

from __future__ import annotations

import math

import numpy as np

EPS = np.finfo(np.float64).eps
FRAME_SECONDS = 0.030
SSNR_RANGE = (-10.0, 35.0)
TRIM_FRACTION = 0.95  # LLR and WSS: mean over the 95 % lowest frame distortions
COMPOSITE_RANGE = (1.0, 5.0)

# Klatt's 25 critical bands (centre, bandwidth in Hz), as in Loizou's wss.m
_CENT = np.array([
    50.0, 120.0, 190.0, 260.0, 330.0, 400.0, 470.0, 540.0, 617.372, 703.378, 798.717,
    904.128, 1020.38, 1148.30, 1288.72, 1442.54, 1610.70, 1794.16, 1993.93, 2211.08,
    2446.71, 2701.97, 2978.04, 3276.17, 3597.63])
_BW = np.array([
    70.0, 70.0, 70.0, 70.0, 70.0, 70.0, 70.0, 77.3724, 86.0056, 95.3398, 105.411, 116.256,
    127.914, 140.423, 153.823, 168.154, 183.457, 199.776, 217.153, 235.631, 255.255,
    276.072, 298.126, 321.465, 346.136])
WSS_KMAX, WSS_KLOCMAX = 20.0, 1.0


def _frame_params(sample_rate: int) -> tuple[int, int]:
    win = int(math.floor(FRAME_SECONDS * sample_rate + 0.5))
    return win, win // 4


def _frames(x: np.ndarray, win: int, hop: int) -> np.ndarray:
    """Hann-windowed frames ``[F, win]``; F = floor((T - win) / hop) as the MATLAB loops."""
    n = (len(x) - win) // hop
    if n < 1:
        raise ValueError(f"signal of {len(x)} samples is shorter than two {win}-sample frames "
                         "(the composite measures need at least ~40 ms)")
    window = 0.5 * (1.0 - np.cos(2.0 * np.pi * np.arange(1, win + 1) / (win + 1)))
    idx = np.arange(n)[:, None] * hop + np.arange(win)[None, :]
    return x[idx] * window


def _prepare(ref, deg) -> tuple[np.ndarray, np.ndarray]:
    ref = np.asarray(ref, dtype=np.float64)
    deg = np.asarray(deg, dtype=np.float64)
    if ref.ndim != 1 or ref.shape != deg.shape:
        raise ValueError(f"expected two 1-D signals of one length, got {ref.shape} and "
                         f"{deg.shape}")
    return ref, deg


def _trimmed_mean(d: np.ndarray) -> float:
    keep = int(math.floor(len(d) * TRIM_FRACTION + 0.5))  # MATLAB round (half away from 0)
    return float(np.mean(np.sort(d)[:keep]))


def segmental_snr(ref: np.ndarray, deg: np.ndarray, sample_rate: int) -> float:
    """SegSNR in dB (Loizou's ``snr.m``): per 30 ms frame, 10 log10(|s|² / |s - ŝ|²) clamped
    to [-10, 35] dB, averaged over frames."""
    ref, deg = _prepare(ref, deg)
    win, hop = _frame_params(sample_rate)
    fr, fd = _frames(ref, win, hop), _frames(deg, win, hop)
    signal = np.sum(fr**2, axis=1)
    noise = np.sum((fr - fd) ** 2, axis=1)
    snr = 10.0 * np.log10(signal / (noise + EPS) + EPS)
    return float(np.mean(np.clip(snr, *SSNR_RANGE)))


def _lpc(frames: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Autocorrelation ``R [F, order+1]`` and LPC polynomial ``[1, -a] [F, order+1]``
    (Levinson-Durbin, as Loizou's ``lpcoeff``)."""
    win = frames.shape[1]
    R = np.stack([np.sum(frames[:, : win - k] * frames[:, k:], axis=1)
                  for k in range(order + 1)], axis=1)
    a = np.ones((len(frames), order))
    E = R[:, 0].copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(order):
            past = a[:, :i].copy()
            total = np.sum(past * R[:, i:0:-1], axis=1)
            r = (R[:, i + 1] - total) / E
            a[:, i] = r
            if i:
                a[:, :i] = past - r[:, None] * past[:, ::-1]
            E = (1.0 - r * r) * E
    return R, np.concatenate([np.ones((len(frames), 1)), -a], axis=1)


def _llr_frames(ref: np.ndarray, deg: np.ndarray, sample_rate: int) -> np.ndarray:
    win, hop = _frame_params(sample_rate)
    order = 10 if sample_rate < 10000 else 16
    R_ref, A_ref = _lpc(_frames(ref, win, hop), order)
    _, A_deg = _lpc(_frames(deg, win, hop), order)
    lag = np.abs(np.arange(order + 1)[:, None] - np.arange(order + 1)[None, :])
    toeplitz = R_ref[:, lag]  # [F, P+1, P+1]
    num = np.einsum("fi,fij,fj->f", A_deg, toeplitz, A_deg)
    den = np.einsum("fi,fij,fj->f", A_ref, toeplitz, A_ref)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = num / den
    frac[np.isnan(frac)] = np.inf
    frac[frac <= 0] = 1000.0  # as pysepm: a degenerate frame is a large distortion
    return np.log(frac)


def llr(ref: np.ndarray, deg: np.ndarray, sample_rate: int) -> float:
    """Log-likelihood ratio of LPC models (order 10 below 10 kHz, else 16), mean of the best
    95 % of frames, without the per-frame clamp at 2 of the stand-alone ``llr.m`` (the
    composite measures use it unclamped). Like the reference, eps is added to both signals
    so that frames of digital silence have an LPC model."""
    ref, deg = _prepare(ref, deg)
    return _trimmed_mean(_llr_frames(ref + EPS, deg + EPS, sample_rate))


def _crit_filters(sample_rate: int, half: int) -> np.ndarray:
    max_freq = sample_rate / 2.0
    j = np.arange(half)
    f0 = np.floor(_CENT / max_freq * half)
    bw = _BW / max_freq * half
    norm = np.log(_BW[0]) - np.log(_BW)
    filt = np.exp(-11.0 * ((j[None, :] - f0[:, None]) / bw[:, None]) ** 2 + norm[:, None])
    return filt * (filt > np.exp(-30.0 / (2.0 * 2.303)))  # cut below the -30 dB points


def _band_energies_db(frames: np.ndarray, n_fft: int, filt: np.ndarray) -> np.ndarray:
    spec = np.abs(np.fft.rfft(frames, n_fft, axis=1)[:, : n_fft // 2]) ** 2
    return 10.0 * np.log10(np.maximum(spec @ filt.T, 1e-10))


def _local_peaks(energy: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """Per band, the nearest spectral peak as Loizou's wss.m finds it (its index quirks
    included): rising slope → energy just before the next non-rising band, else energy just
    after the previous rising band."""
    F, nb = slope.shape
    rising = slope > 0
    nxt = np.empty((F, nb), dtype=int)  # first m >= i with slope[m] <= 0 (nb if none)
    cur = np.full(F, nb)
    for m in range(nb - 1, -1, -1):
        cur = np.where(~rising[:, m], m, cur)
        nxt[:, m] = cur
    prv = np.empty((F, nb), dtype=int)  # last m <= i with slope[m] > 0 (-1 if none)
    cur = np.full(F, -1)
    for m in range(nb):
        cur = np.where(rising[:, m], m, cur)
        prv[:, m] = cur
    idx = np.where(rising, nxt - 1, prv + 1)
    return np.take_along_axis(energy, idx, axis=1)


def _wss_frames(ref: np.ndarray, deg: np.ndarray, sample_rate: int) -> np.ndarray:
    win, hop = _frame_params(sample_rate)
    n_fft = 1 << int(math.ceil(math.log2(2 * win)))
    filt = _crit_filters(sample_rate, n_fft // 2)
    weights, slopes = [], []
    for x in (ref, deg):
        e = _band_energies_db(_frames(x, win, hop), n_fft, filt)
        slope = np.diff(e, axis=1)
        peak = _local_peaks(e, slope)
        w_max = WSS_KMAX / (WSS_KMAX + e.max(axis=1, keepdims=True) - e[:, :-1])
        w_loc = WSS_KLOCMAX / (WSS_KLOCMAX + peak - e[:, :-1])
        weights.append(w_max * w_loc)
        slopes.append(slope)
    w = (weights[0] + weights[1]) / 2.0
    return np.sum(w * (slopes[0] - slopes[1]) ** 2, axis=1) / np.sum(w, axis=1)


def wss(ref: np.ndarray, deg: np.ndarray, sample_rate: int) -> float:
    """Weighted spectral slope distance (Klatt 1982) over 25 critical bands, mean of the best
    95 % of frames."""
    ref, deg = _prepare(ref, deg)
    return _trimmed_mean(_wss_frames(ref + EPS, deg + EPS, sample_rate))


def pesq_for_composite(ref: np.ndarray, deg: np.ndarray, sample_rate: int) -> float:
    """The PESQ the composite measures use: wide-band MOS-LQO at 16 kHz, raw P.862 at 8 kHz."""
    from sepcore.metrics.speech import pesq

    if sample_rate not in (8000, 16000):
        raise ValueError(f"composite measures are defined at 8 or 16 kHz, got {sample_rate} Hz "
                         "(resample first)")
    mos = pesq(ref, deg, sample_rate, resampled=True)
    return raw_pesq_from_lqo(mos) if sample_rate == 8000 else mos


def raw_pesq_from_lqo(mos_lqo: float) -> float:
    """Invert P.862.1's mapping (MOS-LQO = 0.999 + 4 / (1 + exp(-1.4945 x + 4.6607)))."""
    return 46607 / 14945 - 2000 * math.log(1 / (mos_lqo / 4 - 999 / 4000) - 1) / 2989


def composite_measures(ref: np.ndarray, deg: np.ndarray, sample_rate: int,
              pesq_value: float | None = None) -> dict[str, float]:
    """``{"csig", "cbak", "covl", "llr", "wss", "ssnr", "pesq"}`` of ``deg`` against the clean
    ``ref`` (1-D, 8 or 16 kHz). ``pesq_value``: a PESQ already computed as
    :func:`pesq_for_composite` does (saves the second PESQ run when scoring both)."""
    ref, deg = _prepare(ref, deg)
    if sample_rate not in (8000, 16000):
        raise ValueError(f"composite measures are defined at 8 or 16 kHz, got {sample_rate} Hz "
                         "(resample first)")
    # composite.m adds eps to both signals first (keeps digital-silence frames finite)
    ref_e, deg_e = ref + EPS, deg + EPS
    l_ = _trimmed_mean(_llr_frames(ref_e, deg_e, sample_rate))
    w_ = _trimmed_mean(_wss_frames(ref_e, deg_e, sample_rate))
    s_ = segmental_snr(ref_e, deg_e, sample_rate)
    p_ = pesq_for_composite(ref, deg, sample_rate) if pesq_value is None else pesq_value
    lo, hi = COMPOSITE_RANGE
    return {
        "csig": float(np.clip(3.093 - 1.029 * l_ + 0.603 * p_ - 0.009 * w_, lo, hi)),
        "cbak": float(np.clip(1.634 + 0.478 * p_ - 0.007 * w_ + 0.063 * s_, lo, hi)),
        "covl": float(np.clip(1.594 + 0.805 * p_ - 0.512 * l_ - 0.007 * w_, lo, hi)),
        "llr": l_, "wss": w_, "ssnr": s_, "pesq": float(p_),
    }


# ---- the registry's compute functions (sepcore/metrics/registry.py)


def compute_ssnr(u, est: list[str], mix: list[str]):
    """ssnr of the estimates and of the mixture, at the audio's own rate."""
    num, rate, nan = u.refs.shape[0], u.sample_rate, float("nan")

    def scores(signal_of) -> list[float]:
        return [nan if u.silent[j] else segmental_snr(u.refs[j, :, 0], signal_of(j), rate)
                for j in range(num)]

    return ({"ssnr": scores(lambda j: u.ests[j, :, 0])} if est else {},
            {"ssnr": scores(lambda j: u.mix[:, 0])} if mix else {})


def compute_composite(u, est: list[str], mix: list[str]):
    """csig, cbak, covl at PESQ's rate (8 kHz, else 16 kHz: resampled, with a note). Runs
    its own PESQ (the pesq metric's is not shared: ~50 ms per 4 s signal)."""
    from sepcore.metrics.speech import pesq_mode, resample_for_pesq

    num, rate = u.refs.shape[0], u.sample_rate
    _, prate, note = pesq_mode(rate)
    if note and note not in u.notes:
        u.notes.append(note)
    refs = [None if u.silent[j] else resample_for_pesq(u.refs[j, :, 0], rate)
            for j in range(num)]

    def scores(names, signal_of) -> dict[str, list[float]]:
        out = {m: [] for m in names}
        for j in range(num):
            c = None if u.silent[j] else composite_measures(refs[j], signal_of(j), prate)
            for m in names:
                out[m].append(float("nan") if c is None else c[m])
        return out

    out_est = scores(est, lambda j: resample_for_pesq(u.ests[j, :, 0], rate)) if est else {}
    if not mix:
        return out_est, {}
    mixture = resample_for_pesq(u.mix[:, 0], rate)
    return out_est, scores(mix, lambda j: mixture)
