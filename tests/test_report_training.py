"""What training saves for the report: training.examples (the same utterances at every
validation, continued by a resumed run) and training.tensorboard (event files)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
from helpers.configs import TINY_CONVTASNET, as_yaml_flow
from helpers.datadirs import make_datadir
from PIL import Image

from sepcore.config import load_config
from sepcore.errors import ConfigError
from sepcore.report import build_report
from sepcore.report.monitor import example_indices, summary_writer

ROOT = Path(__file__).resolve().parents[1]
TINY = f"""\
model: {as_yaml_flow(TINY_CONVTASNET)}
data: {{segment: 0.25, dynamic_mixing: true, epoch_size: 8}}
training: {{batch_size: 2, max_epochs: 2, num_threads: 1, log_interval: 0, examples: 2}}
"""


def env():
    return {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "PYTHONPATH": str(ROOT),
            "OMP_NUM_THREADS": "1"}


def train(tmp_path, exp, *extra):
    cmd = [sys.executable, "-m", "sepcore.bin.train", "--config", str(tmp_path / "tiny.yaml"),
           "--train-dir", str(tmp_path / "data/train"), "--valid-dir",
           str(tmp_path / "data/dev"), "--exp-dir", str(exp), *extra]
    return subprocess.run(cmd, env=env(), capture_output=True, text=True)


def history_steps(exp: Path) -> list[int]:
    return [int(r.split("\t")[1]) for r in (exp / "history.tsv").read_text().splitlines()[1:]]


def test_example_indices_are_spread_and_fixed():
    assert example_indices(3, 10) == [0, 4, 9]
    assert example_indices(5, 2) == [0, 1]
    assert example_indices(0, 10) == []
    for bad in ("-1", "1.5", "true", "two"):
        with pytest.raises(ConfigError, match="training.examples must be a number"):
            load_config(None, ["--training.examples", bad])
    with pytest.raises(ConfigError, match="training.tensorboard must be true or false"):
        load_config(None, ["--training.tensorboard", "sometimes"])
    assert load_config(None, ["--training.examples", "3"])["training"]["examples"] == 3


def test_missing_tensorboard_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails
    with pytest.raises(ConfigError, match="needs the tensorboard package.*pip install"):
        summary_writer(tmp_path, None)


@pytest.mark.slow
def test_examples_every_validation_and_resume_continues(tmp_path):
    make_datadir(tmp_path, "train", num_utts=6, seed=1)
    make_datadir(tmp_path, "dev", num_utts=5, seed=2)
    (tmp_path / "tiny.yaml").write_text(TINY)
    exp = tmp_path / "exp" / "a"
    tb = pytest.importorskip("tensorboard")  # noqa: F841 - tested when installed
    proc = train(tmp_path, exp, "--training.tensorboard", "true")
    assert proc.returncode == 0, proc.stderr
    ex = exp / "examples"
    utts = (ex / "utts").read_text().split()
    assert utts == ["dev_utt000", "dev_utt004"]  # spread over the 5 dev utterances
    steps = history_steps(exp)
    assert steps == [4, 8]

    def series():
        return sorted(int(d.name[4:]) for d in ex.glob("step*") if d.is_dir())

    def check(step):
        d = ex / f"step{step}"
        names = sorted(p.name for p in d.iterdir())
        assert names == sorted(["metrics.tsv"] + [f"{u}_{s}.{e}" for u in utts
                                                 for s in ("spk1", "spk2")
                                                 for e in ("wav", "png")])
        rows = [r.split("\t") for r in (d / "metrics.tsv").read_text().splitlines()[1:]]
        assert [r[:2] for r in rows] == [[u, s] for u in utts for s in ("spk1", "spk2")]
        data, rate = sf.read(d / f"{utts[0]}_spk1.wav")
        ref, _ = sf.read(ex / "reference" / f"{utts[0]}_spk1.wav")
        assert rate == 8000 and data.shape == ref.shape
        with Image.open(d / f"{utts[1]}_spk2.png") as im:
            assert im.format == "PNG" and im.size[0] > 1

    assert series() == steps
    for s in steps:
        check(s)
    first = (ex / "step4" / "metrics.tsv").read_text()

    # resume: a longer run continues the series in the same exp dir
    (exp / ".train.done").unlink()
    proc = train(tmp_path, exp, "--training.max_epochs", "3", "--training.tensorboard", "true")
    assert proc.returncode == 0, proc.stderr
    assert "resumed from" in proc.stderr
    assert history_steps(exp) == [4, 8, 12] and series() == [4, 8, 12]
    assert (ex / "utts").read_text().split() == utts
    check(12)
    assert (ex / "step4" / "metrics.tsv").read_text() == first  # earlier steps kept
    assert not list(ex.glob(".step*"))

    # the event files: scalars at every validation, the examples' audio and images
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(exp / "tensorboard"), size_guidance={"audio": 0, "images": 0})
    acc.Reload()
    tags = acc.Tags()
    assert {"loss/train", "loss/valid", "valid/si_sdri", "lr"} <= set(tags["scalars"])
    assert [e.step for e in acc.Scalars("valid/si_sdri")] == [4, 8, 12]
    hist = [r.split("\t") for r in (exp / "history.tsv").read_text().splitlines()[1:]]
    assert [round(e.value, 3) for e in acc.Scalars("valid/si_sdri")] == \
        [round(float(r[4]), 3) for r in hist]
    assert f"examples/{utts[0]}_spk1" in tags["audio"]
    assert f"spectrograms/{utts[1]}_spk2" in tags["images"]
    assert [e.step for e in acc.Audio(f"examples/{utts[0]}_spk1")] == [4, 8, 12]

    # the report shows the evolution: the references, then one row per validation
    index = build_report(exp)
    html = index.read_text()
    assert "Examples during training" in html
    for step in (4, 8, 12):
        assert f"<td>step {step}</td>" in html
    assert html.count("SI-SDRi") >= 2 * 3 * 2


def test_examples_of_stereo_tracks_are_excerpts(tmp_path):
    """A music validation set ([C, T] mixtures, [S, C, T] sources, whole tracks): the
    examples are stereo files of the loudest EXAMPLE_SECONDS."""
    import numpy as np
    import torch

    from sepcore.report.monitor import EXAMPLE_SECONDS, TrainingMonitor

    rate, seconds = 8000, 12.0
    n = int(rate * seconds)
    rng = np.random.default_rng(0)

    class Tracks:
        sample_rate = rate

        class datadir:
            utts = ["song_a", "song_b"]

        def __len__(self):
            return 2

        def __getitem__(self, i):
            src = (0.1 * rng.standard_normal((2, 2, n))).astype(np.float32)
            src[:, :, : n // 2] *= 0.01  # a quiet first half
            return self.datadir.utts[i], src.sum(0), src

    def model(mix):  # [B, C, T] -> [B, S, C, T]
        return torch.stack([0.6 * mix, 0.4 * mix], dim=1)

    def pit(est, ref):
        return torch.tensor(0.0), torch.tensor([[1, 0]])

    mon = TrainingMonitor(tmp_path, Tracks(), ["vocals", "accompaniment"], 2, False)
    mon.validation(7, model, pit, "cpu", {})
    data, sr = sf.read(tmp_path / "examples" / "step7" / "song_b_vocals.wav")
    assert sr == rate and data.shape == (int(EXAMPLE_SECONDS * rate), 2)
    ref, _ = sf.read(tmp_path / "examples" / "reference" / "song_b_mixture.wav")
    assert ref.shape == data.shape
    # the loudest 10 s of 12 are the last 10: 4 s of the quiet half, then the loud 6 s
    assert np.abs(ref[: 4 * rate - 100]).mean() < 0.01 < 0.05 < np.abs(ref[4 * rate + 100:]).mean()
    rows = (tmp_path / "examples" / "step7" / "metrics.tsv").read_text().splitlines()
    assert [r.split("\t")[:2] for r in rows[1:]] == [
        ["song_a", "vocals"], ["song_a", "accompaniment"],
        ["song_b", "vocals"], ["song_b", "accompaniment"]]


def test_report_shows_at_most_8_validations_first_and_last_kept(tmp_path):
    from sepcore.report.build import MAX_EXAMPLE_STEPS, _step_dirs

    for k in range(1, 21):
        (tmp_path / f"step{100 * k}").mkdir()
    (tmp_path / ".step2100.tmp").mkdir()  # unfinished: never shown
    steps = [s for s, _ in _step_dirs(tmp_path)]
    assert len(steps) == MAX_EXAMPLE_STEPS == 8
    assert steps[0] == 100 and steps[-1] == 2000 and steps == sorted(steps)


def test_music_rate_spectrograms_have_a_log_frequency_axis():
    import numpy as np

    from sepcore.report.plots import MAX_ROWS, spectrogram_db

    rate = 44100
    t = np.arange(rate * 2) / rate
    low = spectrogram_db(np.sin(2 * np.pi * 200 * t), rate)
    high = spectrogram_db(np.sin(2 * np.pi * 6400 * t), rate)
    assert low.shape[0] == MAX_ROWS
    # 200 Hz and 6400 Hz are 5 octaves apart: far apart on a log axis (on a linear one
    # 200 Hz would be in the bottom 1% of the rows)
    row_low, row_high = int(np.argmax(low.mean(1))), int(np.argmax(high.mean(1)))
    assert 0.2 * MAX_ROWS < row_low < 0.45 * MAX_ROWS < 0.7 * MAX_ROWS < row_high
    speech = spectrogram_db(np.sin(2 * np.pi * 1000 * np.arange(16000) / 8000), 8000)
    assert speech.shape[0] == 129 and int(np.argmax(speech.mean(1))) == 32  # linear, 31.25 Hz
