"""Music metrics: BSS Eval v4 image metrics (museval) and the MDX/ISMIR 2021 utterance SDR.

BSS Eval v4 (``museval.evaluate(..., mode="v4")``, SiSEC 2018): the distortion filters
(512 taps, multichannel) are computed ONCE on the whole track; then, for every window of
``win`` samples (hop ``hop``, museval's default 1 s / 1 s), the windowed references are
filtered with them and the energy ratios are computed on that window:

    s_true = r_j,   P_j = filters of r_j applied to r_j,   P = all filters applied to all r
    SDR = |s_true|² / |ŝ - s_true|²,   ISR = |s_true|² / |P_j - s_true|²
    SIR = |P_j|² / |P - P_j|²,         SAR = |P|² / |ŝ - P|²

A window where any reference or any estimate is all zeros gives NaN (as museval). A track's
score per source is the median over its windows (NaN ignored); a data set's score per source
is the median over tracks (``summary.json`` ``by_source``).

Unlike museval (one Gram-matrix solve per estimate and a time-domain convolution per
filter) the Gram matrix is factored once per track and all filtering is done in the
frequency domain, window blocks at a time.

MDX 2021 SDR (``sdr_mdx``): ``10 log10((Σ s² + δ) / (Σ (s - ŝ)² + δ))`` over the whole
track and all channels, δ = 1e-7 as in the challenge's scoring code.
"""

from __future__ import annotations

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

from sepcore.metrics.bss_eval import FILTER_LEN, psd_solver

MDX_DELTA = 1e-7
_EPS = np.finfo(np.float64).eps  # museval adds eps * I to the Gram matrix


def sdr_mdx(ref: np.ndarray, est: np.ndarray) -> float:
    """MDX 2021 challenge SDR of one source, any shape (all samples and channels summed)."""
    ref = np.asarray(ref, dtype=np.float64)
    est = np.asarray(est, dtype=np.float64)
    num = np.sum(ref**2) + MDX_DELTA
    den = np.sum((ref - est) ** 2) + MDX_DELTA
    return float(10.0 * np.log10(num / den))


def xcorr_lags(a: np.ndarray, b: np.ndarray, flen: int, block: int = 16384) -> np.ndarray:
    """``out[p, q, flen - 1 + k] = sum_n a_p[n + k] b_q[n]`` for ``|k| < flen``.

    ``a`` ``[P, T]``, ``b`` ``[Q, T]``. The signals are cut into blocks whose cross-spectra
    are summed, so only ``P*Q`` short inverse FFTs are needed instead of one of the track's
    length per pair (exact: each block's lags fit without circular wrap).
    """
    P, T = a.shape
    Q = b.shape[0]
    B = min(block, T)
    n = scipy.fft.next_fast_len(B + 2 * flen - 2, real=True)
    nb = -(-T // B)
    pad = np.zeros((P, nb * B + 2 * (flen - 1)))
    pad[:, flen - 1:flen - 1 + T] = a
    acc = np.zeros((P, Q, n // 2 + 1), dtype=np.complex128)
    for i in range(nb):
        s = i * B
        ya = scipy.fft.rfft(pad[:, s:s + B + 2 * flen - 2], n=n, axis=1)  # a[s-(L-1) : s+B+L-1]
        yb = scipy.fft.rfft(b[:, s:s + B], n=n, axis=1)
        acc += ya[:, None, :] * np.conj(yb[None, :, :])
    return scipy.fft.irfft(acc, n=n, axis=2)[:, :, :2 * flen - 1]


def framing(num_samples: int, win: int, hop: int) -> list[tuple[int, int]]:
    """museval's windows: ``floor((T - win + hop) / hop)`` full windows, or the whole signal."""
    if win >= num_samples:
        return [(0, num_samples)]
    nwin = int(np.floor((num_samples - win + hop) / hop))
    return [(t * hop, min(t * hop + win, num_samples)) for t in range(nwin)]


def _silent(x: np.ndarray) -> bool:
    """museval's ``_any_source_silent`` for ``[N, T, C]``: a source whose channel sum is all 0."""
    return bool(np.any(np.all(np.sum(x, axis=2) == 0, axis=1)))


def bss_eval_v4_images(
    refs: np.ndarray,
    targets: np.ndarray,
    pairs: list[tuple[int, int]],
    groups: list[list[int]] | None = None,
    win: int = 44100,
    hop: int = 44100,
    flen: int = FILTER_LEN,
    block: int = 8,
) -> np.ndarray:
    """Framewise v4 image metrics of ``targets[k]`` as an estimate of ``refs[j]`` per ``(k, j)``.

    ``refs`` ``[S, T, C]``, ``targets`` ``[K, T, C]`` (the estimates, plus e.g. the mixture).
    ``groups`` partitions the targets for museval's silent-window rule (a window is NaN when
    a reference or any target of the pair's group is silent); default: one group.
    Returns ``[len(pairs), 4, nwin]``: SDR, ISR, SIR, SAR per window.
    Equal to ``museval.metrics.bss_eval(refs, targets, win, hop, framewise_filters=False,
    bsseval_sources_version=False, compute_permutation=False)`` for ``pairs = [(j, j)]``.
    """
    refs = np.asarray(refs, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    if refs.ndim == 2:
        refs = refs[:, :, None]
    if targets.ndim == 2:
        targets = targets[:, :, None]
    S, T, C = refs.shape
    K = targets.shape[0]
    L = flen
    groups = groups or [list(range(K))]
    group_of = {k: g for g, members in enumerate(groups) for k in members}

    # --- whole-track filters -------------------------------------------------------------
    M = S * C
    r2 = refs.transpose(0, 2, 1).reshape(M, T)
    x2 = targets.transpose(0, 2, 1).reshape(K * C, T)
    xc = xcorr_lags(np.concatenate([r2, x2]), r2, L)  # [M + K*C, M, 2L-1]
    gram = np.empty((M * L, M * L))
    for p in range(M):
        for q in range(p, M):
            # G[(p, a), (q, b)] = <r_p(. - a), r_q(. - b)> = xc_pq[b - a]
            blk = sliding_window_view(xc[p, q], L)[::-1]
            gram[p * L:(p + 1) * L, q * L:(q + 1) * L] = blk
            gram[q * L:(q + 1) * L, p * L:(p + 1) * L] = blk.T
    gram[np.diag_indices_from(gram)] += _EPS
    # d[k, c, m, a] = <r_m(. - a), x_{k,c}> = xc_{(k,c), m}[a]
    d = xc[M:, :, L - 1:].reshape(K, C, M, L)
    used = sorted({k for k, _ in pairs})
    solve_all = psd_solver(gram)
    rhs = d[used].transpose(2, 3, 0, 1).reshape(M * L, len(used) * C)
    c_all = solve_all(rhs).reshape(M, L, len(used), C)  # filter m -> channel c of target k
    c_all = {k: c_all[:, :, n, :] for n, k in enumerate(used)}
    c_one = {}
    for j in sorted({j for _, j in pairs}):
        rows = slice(j * C * L, (j + 1) * C * L)
        solve_j = psd_solver(gram[rows, rows])
        ks = sorted({k for k, jj in pairs if jj == j})
        rhs = d[ks][:, :, j * C:(j + 1) * C, :].transpose(2, 3, 0, 1).reshape(C * L, -1)
        cj = solve_j(rhs).reshape(C, L, len(ks), C)
        for n, k in enumerate(ks):
            c_one[(k, j)] = cj[:, :, n, :]

    # --- framewise energies ----------------------------------------------------------------
    frames = framing(T, win, hop)
    out = np.full((len(pairs), 4, len(frames)), np.nan)
    by_len: dict[int, list[int]] = {}
    for t, (s, e) in enumerate(frames):
        by_len.setdefault(e - s, []).append(t)
    for wlen, tlist in by_len.items():
        nw = scipy.fft.next_fast_len(wlen + L - 1, real=True)
        fa = {k: scipy.fft.rfft(c_all[k], n=nw, axis=1) for k in used}  # [M, F, C]
        fo = {kj: scipy.fft.rfft(c_one[kj], n=nw, axis=1) for kj in c_one}  # [C, F, C]
        for b0 in range(0, len(tlist), block):
            tb = tlist[b0:b0 + block]
            rw = np.stack([refs[:, frames[t][0]:frames[t][1], :] for t in tb])  # [B, S, W, C]
            xw = np.stack([targets[:, frames[t][0]:frames[t][1], :] for t in tb])  # [B, K, W, C]
            rwf = scipy.fft.rfft(rw.transpose(0, 1, 3, 2).reshape(len(tb), M, wlen), n=nw, axis=2)
            pall = {
                k: scipy.fft.irfft(np.einsum("bmf,mfc->bcf", rwf, fa[k]), n=nw, axis=2)[
                    :, :, :wlen + L - 1]
                for k in used
            }
            ref_sil = [_silent(rw[n]) for n in range(len(tb))]
            grp_sil = {
                (n, g): _silent(xw[n][members]) for n in range(len(tb))
                for g, members in enumerate(groups)
            }
            for p, (k, j) in enumerate(pairs):
                rj = rwf[:, j * C:(j + 1) * C, :]  # [B, C, F]
                pj = scipy.fft.irfft(np.einsum("bif,ifc->bcf", rj, fo[(k, j)]), n=nw, axis=2)[
                    :, :, :wlen + L - 1]
                pa = pall[k]
                s_true = np.zeros_like(pj)
                s_true[:, :, :wlen] = rw[:, j].transpose(0, 2, 1)
                est = np.zeros_like(pj)
                est[:, :, :wlen] = xw[:, k].transpose(0, 2, 1)
                e_s = np.sum(s_true**2, axis=(1, 2))
                vals = np.stack([
                    _ratio(e_s, np.sum((est - s_true) ** 2, axis=(1, 2))),
                    _ratio(e_s, np.sum((pj - s_true) ** 2, axis=(1, 2))),
                    _ratio(np.sum(pj**2, axis=(1, 2)), np.sum((pa - pj) ** 2, axis=(1, 2))),
                    _ratio(np.sum(pa**2, axis=(1, 2)), np.sum((est - pa) ** 2, axis=(1, 2))),
                ])  # [4, B]
                for n, t in enumerate(tb):
                    if not (ref_sil[n] or grp_sil[(n, group_of[k])]):
                        out[p, :, t] = vals[:, n]
    return out


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den == 0, np.inf, 10.0 * np.log10(num / np.where(den == 0, 1, den)))


def track_median(framewise: np.ndarray) -> np.ndarray:
    """Median over windows ignoring NaN (museval's per-track aggregate); NaN if all are NaN."""
    framewise = np.asarray(framewise, dtype=np.float64)
    out = np.full(framewise.shape[:-1], np.nan)
    ok = ~np.all(np.isnan(framewise), axis=-1)
    if np.any(ok):
        out[ok] = np.nanmedian(framewise[ok], axis=-1)
    return out


BSS_V4 = ("sdr_v4", "isr_v4", "sir_v4", "sar_v4")


def compute_bss_v4(u, est: list[str], mix: list[str]):
    """The registry's compute function of the v4 metrics: images, 1 s windows, the median
    over windows; the estimates and the mixture share the references' projections."""
    num, rate = u.refs.shape[0], u.sample_rate
    targets = np.concatenate([u.ests] + ([u.mix[None]] if mix else []), axis=0)
    pairs = ([(j, j) for j in range(num)] if est else []) + (
        [(num, j) for j in range(num)] if mix else [])
    groups = [list(range(num))] + ([[num]] if mix else [])
    med = track_median(bss_eval_v4_images(u.refs, targets, pairs, groups=groups, win=rate,
                                          hop=rate))
    first_mix = num if est else 0
    return ({m: med[:num, i] for i, m in enumerate(BSS_V4) if m in est},
            {m: med[first_mix:first_mix + num, i] for i, m in enumerate(BSS_V4) if m in mix})


def compute_sdr_mdx(u, est: list[str], mix: list[str]):
    """The registry's compute function of sdr_mdx."""
    num = u.refs.shape[0]
    return ({"sdr_mdx": [sdr_mdx(u.refs[j], u.ests[j]) for j in range(num)]} if est else {},
            {"sdr_mdx": [sdr_mdx(u.refs[j], u.mix) for j in range(num)]} if mix else {})
