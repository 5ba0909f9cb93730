"""What a training run shows of itself at every validation (``training.examples N``,
``training.tensorboard true``); the trainer calls :class:`TrainingMonitor` once per
validation.

Examples layout, under the exp dir::

    examples/utts                          the N validation utterances, fixed for the run
    examples/reference/<utt>_mixture.wav   mixture and references (+ .png spectrograms)
    examples/reference/<utt>_<source>.wav
    examples/step<k>/<utt>_<source>.wav    the estimates after k optimizer steps (+ .png),
    examples/step<k>/metrics.tsv           ordered as the references; utt source si_sdri

A ``step<k>`` folder is written under a temporary name and renamed, so it is complete or
absent; a resumed run reads ``examples/utts`` and continues the series.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from sepcore.errors import ConfigError
from sepcore.io import atomic_write_text, fit_to_range, write_audio
from sepcore.report import plots
from sepcore.report.assets import excerpt_window

EXAMPLES_DIR = "examples"
TENSORBOARD_DIR = "tensorboard"
# an example is the loudest this-many seconds of its utterance (whole music tracks would
# make every step folder hundreds of MB)
EXAMPLE_SECONDS = 10.0


def summary_writer(log_dir: Path, purge_step: int | None):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as e:
        raise ConfigError(
            "training.tensorboard true needs the tensorboard package, which is not installed "
            f"({e}); install it (tools/venv/bin/pip install tensorboard, or pip install "
            "'sepcore[tensorboard]') or set --training.tensorboard false"
        ) from None
    return SummaryWriter(str(log_dir), purge_step=purge_step)


def example_indices(count: int, total: int) -> list[int]:
    """``count`` validation utterances spread evenly over the (sorted) set."""
    if count <= 0 or total <= 0:
        return []
    return sorted({int(round(x)) for x in np.linspace(0, total - 1, min(count, total))})


class TrainingMonitor:
    def __init__(self, exp_dir: Path, valid_set, source_names: list[str], examples: int,
                 tensorboard: bool, steps: int = 0):
        self.dir = Path(exp_dir) / EXAMPLES_DIR
        self.valid_set = valid_set
        self.rate = valid_set.sample_rate
        self.names = list(source_names)
        self.indices = self._fixed_utterances(examples) if examples else []
        self.scales: dict[str, tuple[float, float]] = {}
        # a resumed run drops the events written after its checkpoint (at step `steps`),
        # so curves never fold back
        self.writer = (summary_writer(Path(exp_dir) / TENSORBOARD_DIR, steps + 1 if steps else None)
                       if tensorboard else None)

    def _fixed_utterances(self, count: int) -> list[int]:
        utts = list(self.valid_set.datadir.utts)
        listed = self.dir / "utts"
        if listed.is_file():
            chosen = listed.read_text(encoding="utf-8").split()
            if chosen and all(u in utts for u in chosen):
                return [utts.index(u) for u in chosen]
        indices = example_indices(count, len(utts))
        atomic_write_text(listed, "".join(f"{utts[i]}\n" for i in indices))
        return indices

    def validation(self, step: int, model, pit, device, scalars: dict[str, float]) -> None:
        """After the validation at ``step``: the examples' estimates and the scalars."""
        if self.writer is not None:
            for name, value in scalars.items():
                self.writer.add_scalar(name, value, step)
        if self.indices:
            self._write_examples(step, model, pit, device)
        if self.writer is not None:
            self.writer.flush()

    def _write_examples(self, step: int, model, pit, device) -> None:
        import torch

        from sepcore.losses import reorder_sources, si_sdr

        final = self.dir / f"step{step}"
        tmp = self.dir / f".step{step}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        rows = ["utt\tsource\tsi_sdr\tsi_sdri\n"]
        with torch.inference_mode():
            for index in self.indices:
                utt, mixture, sources = self.valid_set[index]
                # mono [T] / [S, T], or multichannel [C, T] / [S, C, T] (music)
                mixture, sources = torch.as_tensor(mixture), torch.as_tensor(sources)
                window = excerpt_window(mixture.numpy().T, self.rate, EXAMPLE_SECONDS)
                mixture, sources = mixture[..., window], sources[..., window]
                mix = mixture.unsqueeze(0).to(device)
                refs = sources.unsqueeze(0).to(device)
                est = model(mix)
                _, perm = pit(est, refs)
                est = reorder_sources(est, perm)
                sdr = si_sdr(est, refs)[0].reshape(len(self.names), -1).mean(-1)
                gain = sdr - si_sdr(mix.unsqueeze(1), refs)[0].reshape(len(self.names), -1) \
                    .mean(-1)
                # numpy [T] or [T, C], as audio files are
                mix_np = mixture.numpy().T
                src_np = [s.numpy().T for s in sources]
                scale = self._reference(utt, mix_np, src_np)
                ests = fit_to_range(np.stack([e.cpu().numpy().T for e in est[0]]), mix_np,
                                    "PCM_16")
                for k, name in enumerate(self.names):
                    self._signal(tmp, f"{utt}_{name}", ests[k], scale, step)
                    rows.append(f"{utt}\t{name}\t{float(sdr[k]):.3f}\t{float(gain[k]):.3f}\n")
        (tmp / "metrics.tsv").write_text("".join(rows), encoding="utf-8")
        if final.exists():  # validated again at the same step after a crash
            shutil.rmtree(final)
        os.replace(tmp, final)

    def _reference(self, utt: str, mixture: np.ndarray, sources: list[np.ndarray]):
        """Write the mixture and references once; the row's colour scale, kept for the run."""
        if utt not in self.scales:
            specs = [plots.spectrogram_db(x, self.rate) for x in [mixture, *sources]]
            self.scales[utt] = plots.row_scale(specs)
            ref = self.dir / "reference"
            ref.mkdir(parents=True, exist_ok=True)
            for name, x, spec in zip(["mixture", *self.names], [mixture, *sources], specs):
                if not (ref / f"{utt}_{name}.wav").is_file():
                    write_audio(ref / f"{utt}_{name}.wav", np.clip(x, -1, 1), self.rate)
                    plots.save_spectrogram(spec, self.scales[utt], ref / f"{utt}_{name}.png")
        return self.scales[utt]

    def _signal(self, folder: Path, name: str, x: np.ndarray, scale, step: int) -> None:
        spec = plots.spectrogram_db(x, self.rate)
        write_audio(folder / f"{name}.wav", x, self.rate)
        plots.save_spectrogram(spec, scale, folder / f"{name}.png")
        if self.writer is not None:
            from PIL import Image

            mono = x if x.ndim == 1 else x.mean(axis=1)  # TensorBoard's audio is mono
            self.writer.add_audio(f"examples/{name}", mono, step, sample_rate=self.rate)
            rgb = np.asarray(Image.open(folder / f"{name}.png").convert("RGB"))
            self.writer.add_image(f"spectrograms/{name}", rgb, step, dataformats="HWC")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
