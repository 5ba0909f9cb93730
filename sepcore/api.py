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
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import torch

from sepcore.errors import ConfigError, DataError, ModelFileError
from sepcore.inference import (
    ChunkPlan,
    best_permutation,
    plan_chunks,
    separate_chunked,
)
from sepcore.io.audio import fit_to_range
from sepcore.resample import resample


def resolve_device(device: str | torch.device | None) -> torch.device:
    device = torch.device(device or "cpu")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA device is available here (use --device cpu)")
    return device


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
        self.to(device)

    def __repr__(self) -> str:
        return (
            f"SeparationModel({self.model_cfg.get('name', type(self.model).__name__)}, "
            f"sample_rate={self.sample_rate}, sources={self.sources}, path={self.path!r})"
        )

    @property
    def num_sources(self) -> int:
        return len(self.sources)

    def to(self, device: str | torch.device) -> SeparationModel:
        self.device = resolve_device(device)
        self.model.to(self.device)
        return self

    @property
    def align_sources(self) -> bool:
        """Reorder chunk outputs to match their neighbours, unless trained without PIT."""
        loss = (self.config or {}).get("loss") or {}
        return bool(loss.get("pit", True)) if isinstance(loss, dict) else True

    def plan(
        self, window_seconds: float | None = None, hop_seconds: float | None = None,
        whole_seconds: float | None = None,
    ) -> ChunkPlan:
        """Chunking for this model (see :func:`sepcore.inference.plan_chunks`)."""
        return plan_chunks(self.model, self.sample_rate, window_seconds, hop_seconds,
                           whole_seconds)

    def separate_array(
        self, data: np.ndarray, sample_rate: int, *, plan: ChunkPlan | None = None,
    ) -> np.ndarray:
        """Unscaled estimates of ``data`` ([T] or [T, C], float32) at ``sample_rate``.

        Returns float32 ``[S, T]`` or ``[S, T, C]``: each channel is separated on its
        own (the models are mono), resampled to the model's rate and back; the
        sources of every channel are put in the order of the first channel's.
        """
        data = np.asarray(data, dtype=np.float32)
        if data.ndim not in (1, 2):
            raise DataError(f"expected audio of shape [time] or [time, channels], got {data.shape}")
        plan = plan or self.plan()
        frames = data.shape[0]
        channels = 1 if data.ndim == 1 else data.shape[1]
        out = np.zeros((self.num_sources, frames) + (() if data.ndim == 1 else (channels,)),
                       dtype=np.float32)
        if data.ndim == 1 and sample_rate == self.sample_rate:  # no copies for the common case
            separate_chunked(self.model, data, plan=plan, device=self.device,
                             align=self.align_sources, out=out)
            return out
        for c in range(channels):
            x = data if data.ndim == 1 else np.ascontiguousarray(data[:, c])
            model_len = frames if sample_rate == self.sample_rate else int(
                round(frames * self.sample_rate / sample_rate))
            x = resample(x, sample_rate, self.sample_rate, model_len)
            est = separate_chunked(
                self.model, x, plan=plan, device=self.device, align=self.align_sources,
            )
            if est.shape[0] != self.num_sources:
                raise ModelFileError(
                    f"{self.path}: model produced {est.shape[0]} sources, its file names "
                    f"{self.num_sources} ({' '.join(self.sources)})"
                )
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
        first. Each channel is separated on its own, sources in the order of the
        first channel's. ``sample_rate`` defaults to the model's; other rates are
        resampled (soxr) to the model's and back. With ``rescale`` the estimates
        are brought to the mixture's level and kept below full scale (see
        :func:`sepcore.io.fit_to_range`). Long inputs are separated in chunks
        (``window_seconds``/``hop_seconds``; defaults from the receptive field);
        inputs up to ``whole_seconds`` (default 20 s) in one pass.
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
            fit_to_range(est, data, "FLOAT")
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
    from sepcore.pack import MANIFEST, unpack, verify_dir

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
    try:
        is_tar = tarfile.is_tarfile(p)
    except OSError as e:
        raise ModelFileError(f"{p}: cannot read ({e.strerror or e})") from None
    if is_tar:
        with tempfile.TemporaryDirectory(prefix="sepcore-pack-") as tmp:
            root = unpack(p, tmp)
            try:
                return _from_model_file(
                    root / "model.pt", read_exp_config(root / "config.yaml"), device, str(p)
                )
            except ModelFileError as e:  # name the pack, not the temporary folder
                raise ModelFileError(f"{p}: {str(e).replace(str(root) + '/', '')}") from None
    return _from_model_file(p, read_exp_config(p.parent / "config.yaml"), device, str(p))
