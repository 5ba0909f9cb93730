"""A literal, slow transcription of museval's BSS Eval v4 (framewise_filters=False, images).

Written from museval.metrics (time-domain Toeplitz Gram matrix, one solve per estimate,
scipy.signal.fftconvolve per filter), used only to check sepcore.metrics.music in tests,
because museval itself is not a sepcore dependency (it needs ffmpeg and an old NumPy).
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
