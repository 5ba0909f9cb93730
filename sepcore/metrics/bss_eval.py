"""BSS Eval v3 ``bss_eval_sources`` (SDR, SIR, SAR), float64 numpy, equal to mir_eval.

mir_eval (``mir_eval.separation.bss_eval_sources``) decomposes an estimate ``e`` with the
least-squares projections onto delayed copies (0..511 samples) of the reference of
interest (``P_j e``) and of all references (``P e``):

    s_target = P_j e,  e_interf = P e - P_j e,  e_artif = e - P e
    SDR = |P_j e|² / |e - P_j e|²,  SIR = |P_j e|² / |P e - P_j e|²,  SAR = |P e|² / |e - P e|²

It builds the projections as signals, one estimate and one reference at a time. Because the
projections are orthogonal, each energy is a quadratic form of the correlations alone:
``|P e|² = dᵀ G⁻¹ d`` with ``G`` the (block-Toeplitz) Gram matrix of the delayed references
and ``d`` the correlations of ``e`` with them; ``|e - P e|² = |e|² - |P e|²`` and
``|P e - P_j e|² = |P e|² - |P_j e|²``. So here the references are transformed once, ``G`` is
factored once (Cholesky) for every estimate of an utterance *and* for the unprocessed mixture
(scored as an estimate of each source), and nothing is convolved. Values agree with mir_eval
to ~1e-10 dB on ordinary signals (tested to 0.01 dB).
"""

from __future__ import annotations

import numpy as np
import scipy.fft
import scipy.linalg
from numpy.lib.stride_tricks import sliding_window_view

FILTER_LEN = 512
_DB_FLOOR = 1e-15  # relative floor for an energy difference: caps a ratio at ~150 dB


def _db(num: np.ndarray, den: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """10 log10(num / den) with den floored at ``_DB_FLOOR * scale`` (cancellation guard)."""
    den = np.maximum(den, _DB_FLOOR * scale)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 10.0 * np.log10(num / den)


def toeplitz_block(xc: np.ndarray, flen: int) -> np.ndarray:
    """``block[a, b] = xc[(b - a) mod n]`` for a circular correlation ``xc`` (a strided view)."""
    v = np.concatenate([xc[len(xc) - flen + 1:], xc[:flen]])  # lags -(L-1)..(L-1)
    return sliding_window_view(v, flen)[::-1]


class ReferenceProjector:
    """Correlations and factored Gram matrices of a set of references, reusable for targets.

    ``refs``: ``[S, T]``; silent references (all zeros) are left out of the span (the
    least-squares solution mir_eval falls back to); metrics against them are NaN.
    """

    def __init__(self, refs: np.ndarray, flen: int = FILTER_LEN):
        refs = np.asarray(refs, dtype=np.float64)
        if refs.ndim != 2:
            raise ValueError(f"references must be [sources, samples], got shape {refs.shape}")
        self.num_sources, self.num_samples = refs.shape
        self.flen = flen
        self.n_fft = scipy.fft.next_fast_len(self.num_samples + flen - 1, real=True)
        self.active = [j for j in range(self.num_sources) if np.any(refs[j] != 0)]
        self.ref_fft = scipy.fft.rfft(refs, n=self.n_fft, axis=1)
        na = len(self.active)
        L = flen
        gram = np.empty((na * L, na * L))
        self._blocks: dict[int, np.ndarray] = {}
        for p, i in enumerate(self.active):
            for q in range(p, na):
                j = self.active[q]
                # xc[k] = sum_n r_i[n+k] r_j[n];  G_ij[a, b] = <r_i(.-a), r_j(.-b)> = xc[b-a]
                xc = scipy.fft.irfft(self.ref_fft[i] * np.conj(self.ref_fft[j]), n=self.n_fft)
                block = toeplitz_block(xc, L)
                gram[p * L:(p + 1) * L, q * L:(q + 1) * L] = block
                gram[q * L:(q + 1) * L, p * L:(p + 1) * L] = block.T
                if p == q:
                    self._blocks[i] = block
        self._energy_all = _energy_fn(gram) if na else None
        self._first_col = {j: self._blocks[j][:, 0].copy() for j in self.active}

    def correlations(self, targets: np.ndarray) -> np.ndarray:
        """``[K, T]`` targets → ``d [K, S, L]``: ``d[k, i, a] = <r_i(. - a), x_k>``."""
        xf = scipy.fft.rfft(np.asarray(targets, dtype=np.float64), n=self.n_fft, axis=1)
        # xc[k, i, m] = sum_n r_i[n + m] x_k[n];  d[a] = xc[-a]
        xc = scipy.fft.irfft(self.ref_fft[None, :, :] * np.conj(xf[:, None, :]), n=self.n_fft)
        lags = (-np.arange(self.flen)) % self.n_fft
        return xc[:, :, lags]

    def sources_metrics(self, targets: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
        """SDR, SIR, SAR of ``targets[k]`` as an estimate of reference ``j`` for each ``(k, j)``.

        Returns ``[len(pairs), 3]`` in dB (NaN where reference ``j`` is silent).
        """
        targets = np.asarray(targets, dtype=np.float64)
        d = self.correlations(targets)  # [K, S, L]
        energy = np.sum(targets**2, axis=1)  # [K]
        out = np.full((len(pairs), 3), np.nan)
        if not self.active:
            return out
        used = sorted({k for k, _ in pairs})
        d_all = d[used][:, self.active, :].reshape(len(used), -1).T  # [na*L, K']
        p_all = dict(zip(used, self._energy_all(d_all)))
        p_one = {}
        for j in sorted({j for _, j in pairs if j in self._first_col}):
            ks = sorted({k for k, jj in pairs if jj == j})
            dj = d[ks, j].T  # [L, K'']
            p_one.update({(k, j): e for k, e in zip(ks, _toeplitz_energy(self._first_col[j], dj))})
        for n, (k, j) in enumerate(pairs):
            if (k, j) not in p_one:
                continue
            pj = float(p_one[(k, j)])
            pa, ee = p_all[k], energy[k]
            out[n, 0] = _db(pj, ee - pj, ee)
            out[n, 1] = _db(pj, pa - pj, ee)
            out[n, 2] = _db(pa, ee - pa, ee)
        return out


def _energy_fn(matrix: np.ndarray):
    """``f(d) = diag(dᵀ G⁻¹ d)`` for symmetric PSD ``G``: ``|L⁻¹ d|²`` with ``G = L Lᵀ``."""
    try:
        low = scipy.linalg.cholesky(matrix, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return lambda b: np.sum(b * np.linalg.lstsq(matrix, b, rcond=None)[0], axis=0)

    def energy(b: np.ndarray) -> np.ndarray:
        z = scipy.linalg.solve_triangular(low, b, lower=True, check_finite=False)
        return np.sum(z * z, axis=0)

    return energy


def _toeplitz_energy(col: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``diag(bᵀ T⁻¹ b)`` for the symmetric Toeplitz ``T`` with first column ``col`` (Levinson)."""
    try:
        x = scipy.linalg.solve_toeplitz(col, b, check_finite=False)
    except np.linalg.LinAlgError:
        x = np.linalg.lstsq(scipy.linalg.toeplitz(col), b, rcond=None)[0]
    return np.sum(b * x.reshape(b.shape), axis=0)


def psd_solver(matrix: np.ndarray):
    """Return ``solve(b)`` for a symmetric PSD matrix: Cholesky, least squares if singular."""
    try:
        factor = scipy.linalg.cho_factor(matrix, lower=True, check_finite=False)
        return lambda b: scipy.linalg.cho_solve(factor, b, check_finite=False)
    except np.linalg.LinAlgError:
        return lambda b: np.linalg.lstsq(matrix, b, rcond=None)[0]


def bss_eval_sources(
    refs: np.ndarray, ests: np.ndarray, perm: np.ndarray | None = None, flen: int = FILTER_LEN
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SDR, SIR, SAR ``[S]`` of ``ests[perm[j]]`` against ``refs[j]`` (identity if no perm).

    Equal to ``mir_eval.separation.bss_eval_sources(refs, ests[perm], compute_permutation=False)``.
    """
    refs = np.atleast_2d(np.asarray(refs, dtype=np.float64))
    ests = np.atleast_2d(np.asarray(ests, dtype=np.float64))
    if refs.shape != ests.shape:
        raise ValueError(f"shapes differ: references {refs.shape}, estimates {ests.shape}")
    perm = np.arange(refs.shape[0]) if perm is None else np.asarray(perm)
    proj = ReferenceProjector(refs, flen)
    res = proj.sources_metrics(ests, [(int(perm[j]), j) for j in range(refs.shape[0])])
    return res[:, 0], res[:, 1], res[:, 2]


def bss_eval_sources_pairwise(
    refs: np.ndarray, ests: np.ndarray, flen: int = FILTER_LEN
) -> np.ndarray:
    """``[3, K(est), S(ref)]``: SDR, SIR, SAR of every estimate against every reference."""
    refs = np.atleast_2d(np.asarray(refs, dtype=np.float64))
    ests = np.atleast_2d(np.asarray(ests, dtype=np.float64))
    proj = ReferenceProjector(refs, flen)
    k, s = ests.shape[0], refs.shape[0]
    pairs = [(a, b) for a in range(k) for b in range(s)]
    return proj.sources_metrics(ests, pairs).T.reshape(3, k, s)


BSS_V3 = ("sdr", "sir", "sar")


def compute_bss_v3(u, est: list[str], mix: list[str]):
    """The registry's compute function of sdr/sir/sar (sepcore/metrics/registry.py): one
    projector (Gram matrix of the references) serves the estimates and the mixture."""
    num = u.refs.shape[0]
    proj = ReferenceProjector(u.refs[:, :, 0])
    targets = [u.ests[j, :, 0] for j in range(num)] + ([u.mix[:, 0]] if mix else [])
    pairs = ([(j, j) for j in range(num)] if est else []) + (
        [(num, j) for j in range(num)] if mix else [])
    out = proj.sources_metrics(np.stack(targets), pairs)
    first_mix = num if est else 0
    return ({m: out[:num, i] for i, m in enumerate(BSS_V3) if m in est},
            {m: out[first_mix:first_mix + num, i] for i, m in enumerate(BSS_V3) if m in mix})
