"""Music metrics: BSS Eval v4 images against museval's algorithm and mir_eval; MDX SDR.

museval is not a sepcore dependency (it needs ffmpeg and an older NumPy), so the reference
below is a literal, slow transcription of museval.metrics.bss_eval(framewise_filters=False):
time-domain Toeplitz Gram matrix, one solve per estimate, scipy fftconvolve per filter.
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.fftpack
from scipy.linalg import toeplitz
from scipy.signal import fftconvolve


def _zeropad(sig, n, axis=0):
    sig = np.moveaxis(sig, axis, 0)
    out = np.zeros((sig.shape[0] + n,) + sig.shape[1:])
    out[: sig.shape[0]] = sig
    return np.moveaxis(out, 0, axis)


def _ref_correlations(refs, flen):
    nsrc, nsampl, nchan = refs.shape
    refs = _zeropad(np.moveaxis(refs, 1, 2), flen - 1, axis=2)
    n_fft = int(2 ** np.ceil(np.log2(nsampl + flen - 1.0)))
    sf = scipy.fftpack.fft(refs, n=n_fft, axis=2)
    G = np.zeros((nsrc, nsrc, nchan, nchan, flen, flen))
    pairs = itertools.product(range(nsrc), range(nchan))
    for (i, c1), (j, c2) in itertools.combinations_with_replacement(pairs, 2):
        ssf = np.real(scipy.fftpack.ifft(sf[j, c2] * np.conj(sf[i, c1])))
        ss = toeplitz(np.hstack((ssf[0], ssf[-1:-flen:-1])), r=ssf[:flen])
        G[j, i, c2, c1] = ss
        G[i, j, c1, c2] = ss.T
    return G, sf


def _reshape_g(G):
    G = np.moveaxis(G, (1, 3), (3, 4))
    nsrc, nchan, flen = G.shape[0:3]
    return G.reshape(nsrc * nchan * flen, nsrc * nchan * flen)


def _filters(G, sf, est):
    nsampl, nchan = est.shape
    if G.ndim == 4:
        G, sf = G[None, None], sf[None]
    nsrc, flen = G.shape[0], G.shape[-1]
    est = _zeropad(est.T, flen - 1, axis=1)
    n_fft = int(2 ** np.ceil(np.log2(nsampl + flen - 1.0)))
    sef = scipy.fftpack.fft(est, n=n_fft)
    D = np.zeros((nsrc, nchan, flen, nchan))
    for j, cj, c in itertools.product(range(nsrc), range(nchan), range(nchan)):
        ssef = np.real(scipy.fftpack.ifft(sf[j, cj] * np.conj(sef[c])))
        D[j, cj, :, c] = np.hstack((ssef[0], ssef[-1:-flen:-1]))
    D = D.reshape(nsrc * nchan * flen, nchan)
    G = _reshape_g(G)
    C = np.linalg.solve(G + np.finfo(float).eps * np.eye(G.shape[0]), D)
    C = C.reshape(nsrc, nchan, flen, nchan)
    return C[0] if nsrc == 1 else C


def _project(refs, C):
    if refs.ndim == 2:
        refs, C = refs[None], C[None]
    nsrc, nsampl, nchan = refs.shape
    flen = C.shape[-2]
    refs = _zeropad(refs, flen - 1, axis=1)
    sproj = np.zeros((nchan, nsampl + flen - 1))
    for j, cj, c in itertools.product(range(nsrc), range(nchan), range(nchan)):
        sproj[c] += fftconvolve(C[j, cj, :, c], refs[j, :, cj])[: nsampl + flen - 1]
    return sproj.T


def _db(num, den):
    return np.inf if den == 0 else 10 * np.log10(num / den)


def museval_v4(refs, ests, win, hop, flen=512):
    """``[S, T, C]`` × ``[S, T, C]`` → sdr, isr, sir, sar each ``[S, nwin]`` (no permutation)."""
    refs = np.asarray(refs, dtype=np.float64)
    ests = np.asarray(ests, dtype=np.float64)
    nsrc, nsampl, nchan = ests.shape
    G, sf = _ref_correlations(refs, flen)
    C = np.stack([_filters(G, sf, ests[j]) for j in range(nsrc)])
    Cj = [_filters(G[j, j], sf[j], ests[j]) for j in range(nsrc)]
    if win < nsampl:
        nwin = int(np.floor((nsampl - win + hop) / hop))
        wins = [slice(t * hop, min(t * hop + win, nsampl)) for t in range(nwin)]
    else:
        wins = [slice(0, nsampl)]
    out = np.full((4, nsrc, len(wins)), np.nan)

    def silent(x):
        return np.any(np.all(np.sum(x, axis=2) == 0, axis=1))

    for t, w in enumerate(wins):
        if silent(refs[:, w]) or silent(ests[:, w]):
            continue
        for j in range(nsrc):
            r = refs[:, w]
            s_true = _zeropad(r[j], flen - 1, axis=0)
            e_spat = _project(r[j], Cj[j]) - s_true
            e_interf = _project(r, C[j]) - s_true - e_spat
            e_artif = -s_true - e_spat - e_interf
            e_artif[: ests[j, w].shape[0]] += ests[j, w]
            es = np.sum(s_true**2)
            out[0, j, t] = _db(es, np.sum((e_spat + e_interf + e_artif) ** 2))
            out[1, j, t] = _db(es, np.sum(e_spat**2))
            out[2, j, t] = _db(np.sum((s_true + e_spat) ** 2), np.sum(e_interf**2))
            out[3, j, t] = _db(np.sum((s_true + e_spat + e_interf) ** 2), np.sum(e_artif**2))
    return out


# --------------------------------------------------------------------------------------------

import warnings  # noqa: E402

import pytest  # noqa: E402

from sepcore.metrics import compute_metrics, score_utterance  # noqa: E402
from sepcore.metrics.music import bss_eval_v4_images, framing, sdr_mdx, track_median  # noqa: E402


def stems(seed, n_src=2, seconds=3.3, sr=8000, chans=2):
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    refs = rng.standard_normal((n_src, n, chans))
    # stereo images: a delayed, attenuated copy in the second channel
    refs[:, 3:, 1] = 0.6 * refs[:, :-3, 0] + 0.3 * refs[:, 3:, 1]
    leak = np.roll(refs, 1, axis=0)
    ests = refs + 0.3 * leak + 0.2 * rng.standard_normal(refs.shape)
    return refs, ests


@pytest.mark.slow
def test_v4_framewise_equals_museval_algorithm():
    refs, ests = stems(0)
    ests[1, 8000:16000] = 0.0  # a silent estimate window: NaN for every source there
    sr = 8000
    ref = museval_v4(refs, ests, win=sr, hop=sr)
    mine = bss_eval_v4_images(refs, ests, [(0, 0), (1, 1)], win=sr, hop=sr)
    mine = mine.transpose(1, 0, 2)  # [4, S, nwin]
    assert mine.shape == ref.shape == (4, 2, 3)  # 3.3 s -> 3 full 1 s windows, as museval
    assert np.array_equal(np.isnan(mine), np.isnan(ref))
    assert np.isnan(ref[:, :, 1]).all()
    ok = ~np.isnan(ref)
    assert np.max(np.abs(mine[ok] - ref[ok])) < 0.01
    assert np.max(np.abs(mine[ok] - ref[ok])) < 1e-8  # in fact to rounding


@pytest.mark.slow
def test_v4_single_window_equals_mir_eval_images():
    mir_eval = pytest.importorskip("mir_eval")
    refs, ests = stems(1, n_src=2, seconds=0.6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sdr, isr, sir, sar, _ = mir_eval.separation.bss_eval_images(
            refs, ests, compute_permutation=False)
    mine = bss_eval_v4_images(refs, ests, [(j, j) for j in range(2)], win=8000, hop=8000)
    assert mine.shape == (2, 4, 1)
    assert np.max(np.abs(mine[:, :, 0] - np.stack([sdr, isr, sir, sar], axis=1))) < 0.01


def test_framing_like_museval():
    assert framing(100, 30, 30) == [(0, 30), (30, 60), (60, 90)]
    assert framing(20, 30, 30) == [(0, 20)]


def test_sdr_mdx_formula_and_track_median():
    rng = np.random.default_rng(2)
    ref = rng.standard_normal((500, 2))
    est = ref + 0.1 * rng.standard_normal((500, 2))
    expect = 10 * np.log10((np.sum(ref**2) + 1e-7) / (np.sum((ref - est) ** 2) + 1e-7))
    assert sdr_mdx(ref, est) == pytest.approx(expect, abs=1e-12)
    assert sdr_mdx(ref, ref) == pytest.approx(10 * np.log10((np.sum(ref**2) + 1e-7) / 1e-7))
    assert track_median(np.array([[1.0, np.nan, 3.0, 10.0], [np.nan] * 4])).tolist()[0] == 3.0
    assert np.isnan(track_median(np.array([[np.nan, np.nan]]))[0])


@pytest.mark.slow
def test_music_metrics_through_compute_metrics():
    refs, ests = stems(3)
    mix = refs.sum(0)
    res = compute_metrics(ests, refs, mix, 8000, "music", compute_permutation=False)
    ref = museval_v4(refs, ests, win=8000, hop=8000)
    for j in range(2):
        assert res[j]["estimate"] == j
        assert res[j]["sdr_v4"] == pytest.approx(np.nanmedian(ref[0, j]), abs=0.01)
        assert res[j]["isr_v4"] == pytest.approx(np.nanmedian(ref[1, j]), abs=0.01)
        assert res[j]["sir_v4"] == pytest.approx(np.nanmedian(ref[2, j]), abs=0.01)
        assert res[j]["sar_v4"] == pytest.approx(np.nanmedian(ref[3, j]), abs=0.01)
        assert res[j]["sdr_mdx"] == pytest.approx(sdr_mdx(refs[j], ests[j]))
        assert res[j]["input_sdr_mdx"] == pytest.approx(sdr_mdx(refs[j], mix))
        assert res[j]["sdr_v4_i"] > 3
    # the mixture scored as an estimate of each stem: museval on [mix, mix]
    mref = museval_v4(refs, np.stack([mix, mix]), win=8000, hop=8000)
    assert res[0]["input_sdr_v4"] == pytest.approx(np.nanmedian(mref[0, 0]), abs=0.01)


@pytest.mark.slow
def test_swapped_stems_score_low_without_permutation():
    refs, ests = stems(4)
    good = score_utterance(ests, refs, None, 8000, ["sdr_v4", "sdr_mdx"],
                           compute_permutation=False)
    bad = score_utterance(ests[::-1], refs, None, 8000, ["sdr_v4", "sdr_mdx"],
                          compute_permutation=False)
    assert max(bad.values["sdr_v4"]) < min(good.values["sdr_v4"]) - 5
    assert max(bad.values["sdr_mdx"]) < min(good.values["sdr_mdx"]) - 5


def test_v4_equals_museval_itself_if_installed():
    museval_metrics = pytest.importorskip("museval.metrics")  # not a sepcore dependency
    refs, ests = stems(5, n_src=3)
    ests[2, 8000:16000] = 0.0
    sdr, isr, sir, sar, _ = museval_metrics.bss_eval(
        refs, ests, window=8000, hop=8000, compute_permutation=False,
        framewise_filters=False, bsseval_sources_version=False)
    ref = np.stack([sdr, isr, sir, sar])
    mine = bss_eval_v4_images(refs, ests, [(j, j) for j in range(3)], win=8000, hop=8000)
    mine = mine.transpose(1, 0, 2)
    assert np.array_equal(np.isnan(mine), np.isnan(ref))
    assert np.nanmax(np.abs(mine - ref)) < 0.01
