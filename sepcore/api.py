"""The Python API: ``sepcore.load(path)`` and ``SeparationModel.separate``.

    import sepcore, soundfile as sf, torch
    model = sepcore.load("exp/convtasnet/convtasnet.tar.gz")   # a pack, an exp dir or a model.pt
    mix, sr = sf.read("mixture.wav", dtype="float32")
    est = model.separate(torch.from_numpy(mix), sr)            # [sources, time] at rate sr
    print(model.sources, est.shape)

Loading never runs code from the file (``torch.load(weights_only=True)``), and a
pack is checked against its MANIFEST of sha256 sums before anything is used.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from sepcore.errors import ConfigError, DataError, ModelFileError
from sepcore.inference import (
    ChunkPlan,
    audio_channels,
    best_permutation,
    plan_chunks,
    separate_chunked,
)
from sepcore.io.audio import fit_to_range
from sepcore.precision import resolve_precision
from sepcore.resample import resample
from sepcore.shift_average import ShiftAveraged, shift_offsets
from sepcore.stems import residual_stem_name


def resolve_device(device: str | torch.device | None) -> torch.device:
    device = torch.device(device or "cpu")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA device is available here (use --device cpu)")
    return device


def base_sources(model: SeparationModel) -> int:
    """Sources the network itself outputs (without a Wiener ``residual``)."""
    return int(getattr(model.model, "num_sources", len(model.sources)))


class SeparationModel:
    """A loaded separation model with its sample rate and source names."""

    def __init__(
        self, model: torch.nn.Module, sample_rate: int, sources: list[str], *,
        info: dict | None = None, config: dict | None = None, path: str | None = None,
        format_version: int | None = None, model_cfg: dict | None = None,
        device: str | torch.device = "cpu",
    ):
        self.model = model.eval()
        self.sample_rate = int(sample_rate)
        self.sources = list(sources)
        self.info = dict(info or {})
        self.config = config
        self.path = path
        self.format_version = format_version
        self.model_cfg = dict(model_cfg or {})
        self.device = torch.device("cpu")
        self._filtered: torch.nn.Module | None = None  # the model (+ Wiener filter)
        self._runner: torch.nn.Module | None = None  # ... (+ shifts) + post-filter
        self.shifts = 1
        self.set_postfilter()
        self.precision = "fp32"
        self.to(device)

    def __repr__(self) -> str:
        return (
            f"SeparationModel({self.model_cfg.get('name', type(self.model).__name__)}, "
            f"sample_rate={self.sample_rate}, sources={self.sources}, path={self.path!r})"
        )

    @property
    def num_sources(self) -> int:
        return len(self.sources)

    @property
    def audio_channels(self) -> int:
        """Channels the model takes (1: mono, any input is separated channel by channel)."""
        return audio_channels(self.model)

    def to(self, device: str | torch.device) -> SeparationModel:
        self.device = resolve_device(device)
        self.model.to(self.device)
        return self

    def set_precision(self, precision: str) -> SeparationModel:
        """``fp32`` or ``bf16`` (autocast where native, see sepcore/precision.py)."""
        self.precision = resolve_precision(precision, self.device, "--precision")
        return self

    @property
    def align_sources(self) -> bool:
        """Reorder chunk outputs to match their neighbours, unless trained without PIT.

        Without a config: yes for mono models, no for multichannel (music) models,
        whose stems have a fixed order.
        """
        loss = (self.config or {}).get("loss")
        if isinstance(loss, dict) and "pit" in loss:
            return bool(loss["pit"])
        return self.audio_channels == 1

    @property
    def match_levels(self) -> bool:
        """Bring each estimate to the mixture's level (:func:`sepcore.io.fit_to_range`)?

        Only for models trained with a scale-invariant loss (output gain arbitrary): every
        term of ``loss.name`` starts with ``si_`` (not ``si_sdr+mrstft``: MR-STFT fixes the
        level); without a config, mono models are, multichannel (music) models are not.
        """
        loss = (self.config or {}).get("loss")
        if isinstance(loss, dict) and loss.get("name"):
            return all(term.startswith("si_") for term in str(loss["name"]).split("+"))
        return self.audio_channels == 1

    def output_names(self, stems: list[str] | None = None,
                     residual_name: str | None = None) -> list[str]:
        """What :func:`sepcore.separate.separate_to_files` writes: every source, or
        ``stems`` and their residual."""
        if not stems:
            return list(self.sources)
        unknown = [s for s in stems if s not in self.sources]
        if unknown or len(set(stems)) != len(stems):
            raise ConfigError(f"--stems {','.join(stems)}: expected distinct names among the "
                              f"model's sources ({' '.join(self.sources)})")
        return list(stems) + [residual_stem_name(stems, residual_name or self.residual_name)]

    @property
    def residual_name(self) -> str | None:
        """The name of "mixture minus the kept stems": its config's, else its class's."""
        name = self.info.get("residual_name") or getattr(self.model, "residual_name", None)
        return str(name) if name else None

    def set_wiener(
        self, iterations: int | None = None, softmask: bool | None = None,
        residual: bool | None = None,
    ) -> SeparationModel:
        """Choose the multichannel Wiener filter used by :meth:`separate` (TF models only).

        ``None`` keeps the model's default (its ``wiener_iterations``, ``softmask`` and
        ``residual`` attributes). ``residual`` adds a last source named ``residual``.
        Raises ConfigError for a model without spectrogram estimates (unless nothing
        is asked of it).
        """
        from sepcore.spectral.wiener import WienerFiltered

        base = self.model
        tf = callable(getattr(base, "spectrogram_estimates", None))
        it = iterations if iterations is not None else (
            getattr(base, "wiener_iterations", 0) if tf else 0)
        soft = softmask if softmask is not None else bool(getattr(base, "softmask", False))
        res = residual if residual is not None else bool(getattr(base, "residual", False))
        self.sources = self.sources[:base_sources(self)]
        self._runner = None
        if not (it or soft or res):
            self._filtered = base
            return self
        if not tf:
            raise ConfigError(
                f"{self.path}: {self.model_cfg.get('name', type(base).__name__)} is not a "
                f"time-frequency model: Wiener filtering (iterations {it}, softmask {soft}, "
                f"residual {res}) needs spectrogram estimates; use --wiener-iterations 0")
        self._filtered = WienerFiltered(base, it, soft, res)
        if res:
            self.sources = self.sources + ["residual"]
        return self

    def wiener_settings(self) -> dict:
        """The Wiener filter :meth:`separate_array` applies (iterations 0: none)."""
        if self._filtered is None:
            self.set_wiener()
        r = self._filtered
        if r is self.model:
            return {"iterations": 0, "softmask": False, "residual": False}
        return {"iterations": r.iterations, "softmask": r.softmask, "residual": r.residual}

    def set_postfilter(self, enabled: bool | None = None) -> SeparationModel:
        """Turn the post-filter of one-source models on or off (None: the config's
        ``postfilter.enabled``); its settings are the config's ``postfilter`` section
        (sepcore/spectral/postfilter.py). Raises ConfigError for a model of several sources.
        """
        from sepcore.config import DEFAULTS, postfilter_settings

        own = (self.config or {}).get("postfilter")
        cfg = {**DEFAULTS["postfilter"], **(own if isinstance(own, dict) else {})}
        on = bool(cfg["enabled"]) if enabled is None else bool(enabled)
        if on and self.num_sources != 1:
            raise ConfigError(f"{self.path}: the post-filter is for one-source (enhancement) "
                              f"models; this one has {self.num_sources} sources "
                              f"({' '.join(self.sources)}); use --postfilter false")
        self.postfilter = postfilter_settings(cfg) if on else None
        self._runner = None
        return self

    def set_shifts(self, shifts: int = 1) -> SeparationModel:
        """Average the estimates of ``shifts`` copies of the input delayed by fractions of
        the model's frame hop (1: off; :class:`sepcore.shift_average.ShiftAveraged`). Costs
        ``shifts`` forward passes. Raises ConfigError outside ``[1, hop]``."""
        shift_offsets(shifts, int(getattr(self.model, "stride", 1) or 1))
        self.shifts = shifts
        self._runner = None
        return self

    @property
    def runner(self) -> torch.nn.Module:
        """What :meth:`separate_array` runs: the model (+ Wiener filter) (+ shifts)
        (+ post-filter)."""
        if self._filtered is None:
            self.set_wiener()
        if self._runner is None:
            from sepcore.spectral.postfilter import PostFiltered

            net = self._filtered
            if self.shifts > 1:
                net = ShiftAveraged(net, self.shifts, align=self.align_sources)
            pf = self.postfilter
            self._runner = PostFiltered(net, **pf) if pf else net
        return self._runner

    def plan(
        self, window_seconds: float | None = None, hop_seconds: float | None = None,
        whole_seconds: float | None = None,
    ) -> ChunkPlan:
        """Chunking for this model (see :func:`sepcore.inference.plan_chunks`)."""
        return plan_chunks(self.runner, self.sample_rate, window_seconds, hop_seconds,
                           whole_seconds)

    def separate_array(
        self, data: np.ndarray, sample_rate: int, *, plan: ChunkPlan | None = None,
    ) -> np.ndarray:
        """Unscaled estimates of ``data`` ([T] or [T, C], float32) at ``sample_rate``.

        Returns float32 ``[S, T]`` or ``[S, T, C]``, resampled to the model's rate and
        back. A mono model separates each channel on its own, the sources of every
        channel put in the order of the first channel's. A model with
        ``audio_channels = C > 1`` takes the C channels together; a mono input is
        duplicated to C channels and its estimates averaged back to mono.
        """
        data = np.asarray(data, dtype=np.float32)
        if data.ndim not in (1, 2):
            raise DataError(f"expected audio of shape [time] or [time, channels], got {data.shape}")
        plan = plan or self.plan()
        if self.audio_channels > 1:
            return self._separate_multichannel(data, sample_rate, plan)
        frames = data.shape[0]
        channels = 1 if data.ndim == 1 else data.shape[1]
        out = np.zeros((self.num_sources, frames) + (() if data.ndim == 1 else (channels,)),
                       dtype=np.float32)
        if data.ndim == 1 and sample_rate == self.sample_rate:  # no copies for the common case
            separate_chunked(self.runner, data, plan=plan, device=self.device,
                             align=self.align_sources, out=out, precision=self.precision)
            return out
        for c in range(channels):
            x = data if data.ndim == 1 else np.ascontiguousarray(data[:, c])
            x = resample(x, sample_rate, self.sample_rate, self._model_length(frames, sample_rate))
            est = separate_chunked(self.runner, x, plan=plan, device=self.device,
                                   align=self.align_sources, precision=self.precision)
            self._check_count(est)
            del x
            if data.ndim == 1:
                for i in range(self.num_sources):
                    out[i] = resample(est[i], self.sample_rate, sample_rate, frames)
                continue
            for i in range(self.num_sources):
                out[i, :, c] = resample(est[i], self.sample_rate, sample_rate, frames)
            del est
            if c > 0 and self.align_sources and self.num_sources > 1:
                perm = best_permutation(out[:, :, 0], out[:, :, c])
                out[:, :, c] = out[perm, :, c]
        return out

    def _model_length(self, frames: int, sample_rate: int) -> int:
        if sample_rate == self.sample_rate:
            return frames
        return int(round(frames * self.sample_rate / sample_rate))

    def _check_count(self, est: np.ndarray) -> None:
        if est.shape[0] != self.num_sources:
            raise ModelFileError(
                f"{self.path}: model produced {est.shape[0]} sources, its file names "
                f"{self.num_sources} ({' '.join(self.sources)})"
            )

    def _separate_multichannel(self, data: np.ndarray, sample_rate: int,
                               plan: ChunkPlan) -> np.ndarray:
        C = self.audio_channels
        frames = data.shape[0]
        mono = data.ndim == 1 or data.shape[1] == 1
        if not mono and data.shape[1] != C:
            raise DataError(f"this model separates {C}-channel audio (or mono, duplicated); "
                            f"the input has {data.shape[1]} channels")
        x = np.repeat(data.reshape(frames, 1), C, axis=1) if mono else data
        same_rate = sample_rate == self.sample_rate
        x = resample(x, sample_rate, self.sample_rate, self._model_length(frames, sample_rate))
        est = separate_chunked(self.runner, x, plan=plan, device=self.device,
                               align=self.align_sources, precision=self.precision)  # [S, T', C]
        self._check_count(est)
        del x
        if not same_rate:
            out = np.empty((est.shape[0], frames, C), dtype=np.float32)
            for i in range(est.shape[0]):
                out[i] = resample(est[i], self.sample_rate, sample_rate, frames)
            est = out
        if mono:
            est = est.mean(axis=2, dtype=np.float32)
            if data.ndim == 2:
                est = est[:, :, None]
        return est

    def separate(
        self, waveform: torch.Tensor | np.ndarray, sample_rate: int | None = None, *,
        window_seconds: float | None = None, hop_seconds: float | None = None,
        whole_seconds: float | None = None, rescale: bool = True,
    ) -> torch.Tensor:
        """Separate ``waveform``; returns float32 sources first, at the input's rate and length.

        ``[time]`` → ``[sources, time]``. Multichannel input in either layout:
        ``[channels, time]`` (torch's) → ``[sources, channels, time]``, or
        ``[time, channels]`` (what ``soundfile.read`` returns) → ``[sources, time,
        channels]``; the layout with fewer rows than columns is taken as channels
        first. A mono model separates each channel on its own, sources in the order
        of the first channel's; a multichannel model (``audio_channels``, e.g. stereo
        music) takes them together, and a mono input is duplicated to its channels
        and averaged back. ``sample_rate`` defaults to the model's; other rates are
        resampled (soxr) to the model's and back. With ``rescale`` the estimates are
        kept below full scale and, for scale-invariant models (:attr:`match_levels`),
        brought to the mixture's level (see :func:`sepcore.io.fit_to_range`). The
        Wiener filter of TF models is chosen with :meth:`set_wiener`. Long inputs are
        separated in chunks (``window_seconds``/``hop_seconds``; defaults from the
        receptive field);
        inputs up to ``whole_seconds`` (default 60 s) in one pass.
        """
        x = waveform.detach().cpu().numpy() if isinstance(waveform, torch.Tensor) else waveform
        x = np.asarray(x, dtype=np.float32)
        if x.ndim not in (1, 2):
            raise DataError(f"expected a waveform of shape [time], [channels, time] or "
                            f"[time, channels], got {x.shape}")
        sr = int(sample_rate or self.sample_rate)
        plan = self.plan(window_seconds, hop_seconds, whole_seconds)
        channels_first = x.ndim == 2 and x.shape[0] < x.shape[1]
        data = np.ascontiguousarray(x.T) if channels_first else x  # [time(, channels)]
        est = self.separate_array(data, sr, plan=plan)
        if rescale:
            fit_to_range(est, data, "FLOAT", match_levels=self.match_levels)
        if channels_first:
            est = np.ascontiguousarray(est.transpose(0, 2, 1))
        return torch.from_numpy(est)


def _from_model_file(model_pt: Path, config: dict | None, device, origin: str) -> SeparationModel:
    from sepcore.modelfile import load_model_file

    loaded = load_model_file(model_pt, map_location="cpu")
    return SeparationModel(
        loaded.model, loaded.sample_rate, loaded.sources, info=loaded.info, config=config,
        path=origin, format_version=loaded.format_version, model_cfg=loaded.model_cfg,
        device=device,
    )


def load(path: str | os.PathLike, device: str | torch.device = "cpu") -> SeparationModel:
    """Load a model from an exp dir, a ``model.pt`` or a pack (``<tag>.tar.gz``).

    A pack is verified against its MANIFEST (sha256 of every member) and unpacked
    safely into a temporary folder that is removed afterwards; an exp dir that
    holds a MANIFEST (an unpacked pack) is verified too. Raises ModelFileError
    with the file's name on anything missing, tampered with or unreadable.
    """
    from sepcore.modelfile import read_exp_config
    from sepcore.pack import MANIFEST, is_pack, unpack, verify_dir

    p = Path(path)
    if p.is_dir():
        model_pt = p / "model.pt"
        if not model_pt.is_file():
            raise ModelFileError(f"{p}: no model.pt in this folder (expected an exp dir)")
        if (p / MANIFEST).is_file():
            verify_dir(p, allow_extra=True)
        return _from_model_file(model_pt, read_exp_config(p / "config.yaml"), device, str(p))
    if not p.exists():
        raise ModelFileError(f"{p}: no such file or folder (expected a pack, exp dir or model.pt)")
    if is_pack(p):
        with tempfile.TemporaryDirectory(prefix="sepcore-pack-") as tmp:
            root = unpack(p, tmp)
            try:
                return _from_model_file(
                    root / "model.pt", read_exp_config(root / "config.yaml"), device, str(p)
                )
            except ModelFileError as e:  # name the pack, not the temporary folder
                raise ModelFileError(f"{p}: {str(e).replace(str(root) + '/', '')}") from None
    return _from_model_file(p, read_exp_config(p.parent / "config.yaml"), device, str(p))
