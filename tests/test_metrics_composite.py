"""SSNR, LLR, WSS and CSIG/CBAK/COVL against the reference implementation (Loizou's
composite.m as ported by pysepm), plus closed forms; DNSMOS when its optional extra is
installed.

The frozen values were computed once with pysepm (package ``pysepm-evo`` 0.1.1: ``SNRseg``,
``llr(used_for_composite=True)``, ``wss``) on the deterministic signals below. The same code
also reproduces, to 1e-11, the MATLAB values pysepm's own tests hold for its example files
(SegSNR -0.2168617, LLR 1.2530766, WSS 44.698614 for 1_noisySpeech_16000_Hz).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import lfilter

from sepcore.metrics import composite as C
from sepcore.metrics import compute_metrics, parse_metrics


def signals(fs, seconds=1.0):
    """A voiced 'vowel' with pauses, and it plus coloured noise (no RNG: fixed formulas)."""
    n = np.arange(int(fs * seconds))
    t = n / fs
    f0 = 120 + 30 * np.sin(2 * np.pi * 1.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / fs
    src = sum(np.cos(k * phase) / k for k in range(1, 30))
    env = 0.01 + np.clip(np.sin(2 * np.pi * 2.0 * t), 0, None) ** 0.5
    pseudo = np.modf(np.abs(np.sin(n * 12.9898 + 1.0) * 43758.5453))[0] - 0.5
    clean = 0.1 * lfilter([1.0], [1.0, -0.9, 0.5], src * env) + 0.003 * pseudo
    noise = lfilter([1.0], [1.0, -0.7], np.roll(pseudo, 777)) * 0.02
    return clean, clean + noise


# fs: (SNRseg, LLR for composite, WSS) by pysepm
PYSEPM = {
    8000: (7.172781679963672, 0.15105175192394238, 24.629351304196838),
    16000: (7.081763155683922, 0.5187186157159092, 24.297017556219295),
}


@pytest.mark.parametrize("fs", [8000, 16000])
def test_components_equal_pysepm(fs):
    clean, noisy = signals(fs)
    ssnr, llr, wss = PYSEPM[fs]
    assert C.segmental_snr(clean, noisy, fs) == pytest.approx(ssnr, rel=1e-9)
    assert C.llr(clean, noisy, fs) == pytest.approx(llr, rel=1e-8)
    assert C.wss(clean, noisy, fs) == pytest.approx(wss, rel=1e-9)


@pytest.mark.parametrize("fs", [8000, 16000])
def test_composite_is_the_published_combination(fs):
    clean, noisy = signals(fs)
    ssnr, llr, wss = PYSEPM[fs]
    pesq_value = 2.5
    out = C.composite_measures(clean, noisy, fs, pesq_value=pesq_value)
    assert out["csig"] == pytest.approx(3.093 - 1.029 * llr + 0.603 * 2.5 - 0.009 * wss, 1e-8)
    assert out["cbak"] == pytest.approx(1.634 + 0.478 * 2.5 - 0.007 * wss + 0.063 * ssnr, 1e-8)
    assert out["covl"] == pytest.approx(1.594 + 0.805 * 2.5 - 0.512 * llr - 0.007 * wss, 1e-8)
    # clamped to [1, 5]
    low = C.composite_measures(clean, noisy, fs, pesq_value=-20.0)
    high = C.composite_measures(clean, noisy, fs, pesq_value=20.0)
    assert (low["csig"], low["cbak"], low["covl"]) == (1.0, 1.0, 1.0)
    assert (high["csig"], high["cbak"], high["covl"]) == (5.0, 5.0, 5.0)


def test_composite_with_pesq_wideband():
    clean, noisy = signals(16000)
    out = C.composite_measures(clean, noisy, 16000)
    from sepcore.metrics.speech import pesq

    assert out["pesq"] == pytest.approx(pesq(clean, noisy, 16000))
    assert 1.0 <= out["covl"] <= 5.0


def test_raw_pesq_inverts_p862_1_mapping():
    for raw in (0.5, 1.7, 3.2, 4.4):
        lqo = 0.999 + 4.0 / (1.0 + math.exp(-1.4945 * raw + 4.6607))
        assert C.raw_pesq_from_lqo(lqo) == pytest.approx(raw, abs=1e-9)


def test_identical_signals():
    clean, _ = signals(16000)
    assert C.llr(clean, clean, 16000) == pytest.approx(0.0, abs=1e-9)
    assert C.wss(clean, clean, 16000) == pytest.approx(0.0, abs=1e-9)
    assert C.segmental_snr(clean, clean, 16000) == 35.0  # every frame at the upper clamp


def test_ssnr_closed_form():
    fs, win, hop, n_frames = 8000, 240, 60, 40
    T = n_frames * hop + win + 30  # floor((T - W) / hop) frames, as snr.m
    rng = np.random.default_rng(0)
    ref = rng.standard_normal(T)
    # a scaled copy: every frame's error is (1 - g) s, so its SNR is -20 log10|1 - g|
    for g in (0.9, 0.5, 1.2, 1.01, 5.0):
        want = float(np.clip(-20 * math.log10(abs(1 - g)), -10, 35))
        assert C.segmental_snr(ref, g * ref, fs) == pytest.approx(want, abs=1e-9)
    assert C.segmental_snr(ref, 1.01 * ref, fs) == 35.0
    assert C.segmental_snr(ref, 5.0 * ref, fs) == -10.0
    # half the frames exact (35 dB after the clamp), the other half zero (0 dB)
    window = 0.5 * (1 - np.cos(2 * np.pi * np.arange(1, win + 1) / (win + 1)))
    half = T // 2
    deg = np.concatenate([ref[:half], np.zeros(T - half)])
    starts = np.arange(n_frames) * hop
    per_frame = []
    for s0 in starts:
        r, d = ref[s0:s0 + win] * window, deg[s0:s0 + win] * window
        e = np.sum((r - d) ** 2)
        per_frame.append(35.0 if e == 0 else np.clip(10 * np.log10(np.sum(r**2) / e), -10, 35))
    assert C.segmental_snr(ref, deg, fs) == pytest.approx(np.mean(per_frame), abs=1e-9)


def test_digital_silence_and_short_input():
    fs = 16000
    clean, noisy = signals(fs)
    clean[:4000] = 0.0
    out = C.composite_measures(clean, noisy, fs, pesq_value=2.0)
    assert all(np.isfinite(out[k]) for k in ("csig", "cbak", "covl", "llr", "wss", "ssnr"))
    with pytest.raises(ValueError, match="shorter than two"):
        C.segmental_snr(np.ones(500), np.ones(500), fs)
    with pytest.raises(ValueError, match="8 or 16 kHz"):
        C.composite_measures(clean, noisy, 22050)


def test_scoring_enhancement_set():
    assert parse_metrics("enhancement") == ["si_sdr", "pesq", "stoi", "estoi", "ssnr", "csig",
                                            "cbak", "covl"]
    fs = 16000
    clean, noisy = signals(fs)
    est = clean + 0.3 * (noisy - clean)
    row = compute_metrics(est[None], clean[None], noisy, fs, "enhancement")[0]
    direct = C.composite_measures(clean, est, fs)
    for m in ("csig", "cbak", "covl"):
        assert row[m] == pytest.approx(direct[m], abs=1e-9)
    assert row["ssnr"] == pytest.approx(C.segmental_snr(clean, est, fs))
    assert row["input_ssnr"] == pytest.approx(PYSEPM[fs][0], rel=1e-9)
    assert row["ssnr_i"] > 5 and row["csig_i"] > 0 and row["pesq_i"] > 0


def test_scoring_composite_at_8k_uses_raw_pesq():
    fs = 8000
    clean, noisy = signals(fs)
    row = compute_metrics(noisy[None], clean[None], None, fs, "pesq,csig")[0]
    ssnr, llr, wss = PYSEPM[fs]
    raw = C.raw_pesq_from_lqo(row["pesq"])
    want = float(np.clip(3.093 - 1.029 * llr + 0.603 * raw - 0.009 * wss, 1, 5))
    assert row["csig"] == pytest.approx(want, abs=1e-7)


@pytest.mark.slow
def test_dnsmos_when_installed():
    from sepcore.metrics import dnsmos as D

    if not D.available():
        pytest.skip(f"optional DNSMOS not installed ({D.INSTALL})")
    clean, noisy = signals(16000, seconds=2.0)
    a = D.dnsmos(clean, 16000)
    assert set(a) == {"dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl"}
    row = compute_metrics(clean[None], clean[None], noisy, 16000, "dnsmos_bak,dnsmos_ovrl")[0]
    assert row["dnsmos_bak"] == pytest.approx(a["dnsmos_bak"])
    for v in (*a.values(), row["input_dnsmos_bak"], row["input_dnsmos_ovrl"]):
        assert 1.0 <= v <= 5.0
    assert row["dnsmos_bak_i"] > 0  # the added noise is heard as background
