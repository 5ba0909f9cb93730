"""Multichannel Wiener filtering: the EM of Open-Unmix / norbert, in torch, in blocks of frames.

Each source ``j`` is modelled as a zero-mean complex Gaussian per time-frequency bin
with covariance ``v_j(f, n) R_j(f)``: a power spectral density ``v_j`` and a
frequency-dependent ``C×C`` spatial covariance ``R_j`` (Duong, Vincent & Gribonval 2010;
Nugraha, Liutkus & Vincent 2016; the post-processing of Open-Unmix, Stöter et al. 2019,
from sigsep's ``norbert``). Starting from the model's magnitude estimates, each of the
``iterations`` EM rounds

* M-step: ``v_j = mean over channels |y_j|²`` and
  ``R_j(f) = Σ_n y_j y_jᴴ / (ε + Σ_n v_j)`` from the current estimates ``y_j``,
* E-step: ``y_j = v_j R_j (Σ_k v_k R_k + √ε I)⁻¹ x`` (the multichannel Wiener filter).

Initial estimates: the model's magnitudes with the mixture's phase, or with
``softmask`` the mixture times the ratio ``v_j / Σ_k v_k``; ``residual`` adds one more
source, the mixture minus the sum of the others (for a model that does not cover
every instrument). With ``iterations = 0`` the initial estimates are returned.

Memory: the estimates ``y`` are the size of the output; the E-step's per-bin matrices
(which make norbert need tens of GB on a whole track) are built ``block_frames``
frames at a time, and the M-step's sums are accumulated over the same blocks. The
E-step applies ``v_j R_j`` to the whitened mixture ``(Σ_k v_k R_k)⁻¹ x`` instead of
building every source's ``C×C`` gain per bin. The
separator also processes a long track in chunks (sepcore/inference.py), so memory does
not grow with the track. Like norbert, signals are divided by ``max(1, max|x| / 10)``
during the EM to keep the covariances in float range.
"""

from __future__ import annotations

import torch

from sepcore.errors import ConfigError
from sepcore.inference import ModelWrapper


def _inverse(m: torch.Tensor) -> torch.Tensor:
    """Inverse of ``[..., C, C]`` matrices; closed form for C ≤ 2."""
    c = m.shape[-1]
    if c == 1:
        return 1.0 / m
    if c == 2:
        a, b, cc, d = m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1]
        inv_det = 1.0 / (a * d - b * cc)
        return torch.stack([torch.stack([d, -b], -1), torch.stack([-cc, a], -1)], -2) * \
            inv_det[..., None, None]
    return torch.linalg.inv(m)


def initial_estimates(v: torch.Tensor, x: torch.Tensor, softmask: bool, residual: bool,
                      eps: float) -> torch.Tensor:
    """``[S(+1), C, F, N]`` complex from magnitudes ``v`` ``[S, C, F, N]`` and mixture ``x``."""
    if softmask:
        y = x.unsqueeze(0) * (v / (eps + v.sum(0, keepdim=True)))
    else:
        mag = x.abs()
        phase = torch.where(mag > 0, x / mag.clamp_min(1e-30), torch.zeros_like(x))
        y = v * phase.unsqueeze(0)
    if residual:
        y = torch.cat([y, (x - y.sum(0)).unsqueeze(0)], 0)
    return y


def expectation_maximization(y: torch.Tensor, x: torch.Tensor, iterations: int,
                             eps: float, block_frames: int = 200) -> torch.Tensor:
    """Refine estimates ``y`` ``[S, C, F, N]`` of mixture ``x`` ``[C, F, N]`` in place."""
    S, C, F, N = y.shape
    eye = torch.eye(C, dtype=y.dtype, device=y.device)
    for _ in range(iterations):
        # M-step: PSDs and spatial covariances of the current estimates
        v = (y.real ** 2 + y.imag ** 2).mean(1)  # [S, F, N]
        R = torch.zeros(S, F, C, C, dtype=y.dtype, device=y.device)
        for n0 in range(0, N, block_frames):
            yb = y[..., n0:n0 + block_frames]
            R += torch.einsum("scfn,sdfn->sfcd", yb, yb.conj())
        R /= (eps + v.sum(-1)).to(y.dtype)[..., None, None]
        # E-step: the multichannel Wiener filter, a block of frames at a time;
        # y_j = v_j R_j (Cxx^-1 x): the mixture is whitened once, never a gain per source
        for n0 in range(0, N, block_frames):
            vb = v[..., n0:n0 + block_frames].to(y.dtype)  # [S, F, nb]
            cxx = torch.einsum("sfn,sfcd->fncd", vb, R) + (eps ** 0.5) * eye
            z = torch.einsum("fncd,dfn->fnc", _inverse(cxx), x[..., n0:n0 + block_frames])
            y[..., n0:n0 + block_frames] = torch.einsum("sfcd,fnd->scfn", R, z) * vb[:, None]
    return y


def wiener(
    v: torch.Tensor, x: torch.Tensor, iterations: int = 1, softmask: bool = False,
    residual: bool = False, eps: float | None = None, block_frames: int = 200,
) -> torch.Tensor:
    """Multichannel Wiener filter of the mixture STFT given magnitude estimates.

    Args:
        v (Tensor): non-negative magnitude estimates ``[..., S, C, F, N]`` (sources,
            channels, bins, frames), e.g. a mask times the mixture's magnitude.
        x (Tensor): the mixture's complex STFT ``[..., C, F, N]``.
        iterations (int): EM rounds (0: the initial estimates only).
        softmask (bool): initialise with the mixture times ``v_j / Σ v`` instead of
            ``v`` with the mixture's phase.
        residual (bool): add a source, the mixture minus the sum of the estimates.
        eps (float): regularisation; default: the float's machine epsilon.
        block_frames (int): frames per block of the EM (bounds the memory).

    Returns:
        complex ``[..., S (+1 with residual), C, F, N]``.
    """
    if iterations < 0 or int(iterations) != iterations:
        raise ConfigError(f"wiener iterations must be a non-negative integer, got {iterations}")
    if v.shape[:-4] != x.shape[:-3] or v.shape[-3:] != x.shape[-3:]:
        raise ConfigError(f"wiener: estimates {tuple(v.shape)} do not fit the mixture "
                          f"{tuple(x.shape)} (expected [..., S, C, F, N] and [..., C, F, N])")
    if eps is None:
        eps = float(torch.finfo(v.dtype).eps)
    lead = x.shape[:-3]
    vf = v.reshape((-1,) + v.shape[-4:])
    xf = x.reshape((-1,) + x.shape[-3:])
    outs = []
    for b in range(xf.shape[0]):
        y = initial_estimates(vf[b], xf[b], softmask, residual, eps)
        if iterations:
            scale = max(1.0, float(xf[b].abs().max()) / 10.0)
            y = expectation_maximization(y.div_(scale), xf[b] / scale, int(iterations), eps,
                                         block_frames).mul_(scale)
        outs.append(y)
    # one signal (separation): no copy of the largest tensor of the chunk
    y = outs[0].unsqueeze(0) if len(outs) == 1 else torch.stack(outs)
    return y.reshape(lead + y.shape[1:])


class WienerFiltered(ModelWrapper):
    """A TF model followed by :func:`wiener`, with the model's interface.

    The model must have ``spectrogram_estimates(mixture)`` returning the magnitude
    estimates ``[B, S, C, F, N]`` and the mixture's STFT ``[B, C, F, N]`` (mono models:
    ``[B, S, F, N]`` and ``[B, F, N]``), and ``stft`` (a :class:`sepcore.spectral.STFT`).
    With ``residual`` the output has one more source (the last).

    Args:
        model (nn.Module): the TF model.
        iterations (int): EM rounds.
        softmask (bool): see :func:`wiener`.
        residual (bool): see :func:`wiener`.
        block_frames (int): frames per block of the EM.
    """

    def __init__(self, model: torch.nn.Module, iterations: int = 1, softmask: bool = False,
                 residual: bool = False, block_frames: int = 200):
        super().__init__(model)
        if not callable(getattr(model, "spectrogram_estimates", None)):
            raise ConfigError(f"Wiener filtering needs a time-frequency model with "
                              f"spectrogram_estimates(); {type(model).__name__} has none "
                              f"(use --wiener-iterations 0)")
        if iterations < 0 or int(iterations) != iterations:
            raise ConfigError(f"--wiener-iterations: expected an integer >= 0, got {iterations}")
        self.iterations, self.softmask, self.residual = int(iterations), softmask, residual
        self.block_frames = block_frames
        self.num_sources = int(model.num_sources) + int(residual)

    def forward(self, mixture: torch.Tensor) -> torch.Tensor:
        v, X = self.model.spectrogram_estimates(mixture)
        mono = X.dim() == 3
        if mono:
            v, X = v.unsqueeze(2), X.unsqueeze(1)
        y = wiener(v, X, self.iterations, self.softmask, self.residual,
                   block_frames=self.block_frames)
        out = self.model.stft.inverse(y, mixture.shape[-1])
        return out.squeeze(2) if mono else out
