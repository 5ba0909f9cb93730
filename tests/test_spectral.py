"""sepcore.spectral: the STFT, block processing, the IRM oracle and steps/oracle.sh."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from sepcore.errors import ConfigError
from sepcore.metrics.music import sdr_mdx
from sepcore.spectral import STFT, istft, oracle_separate, stft, tf_apply
from sepcore.spectral.oracle import default_stft, ideal_ratio_mask, oracle_data_dir

ROOT = Path(__file__).resolve().parents[1]


def test_stft_shapes_and_perfect_reconstruction_over_leading_dims():
    x = torch.randn(2, 3, 5001)
    X = stft(x, 256, 64)
    assert X.shape == (2, 3, 129, 1 + 5001 // 64) and X.is_complex()
    torch.testing.assert_close(istft(X, 256, 64, 5001), x, atol=2e-6, rtol=0)
    m = STFT(256, 64)
    assert m.num_bins == 129 and "window" not in m.state_dict()
    torch.testing.assert_close(m.inverse(m(x), 5001), x, atol=2e-6, rtol=0)


def test_istft_matches_torch_in_groups_and_views_with_the_same_gradients(monkeypatch):
    stft_mod = sys.modules["sepcore.spectral.stft"]  # the package's `stft` is the function
    def torch_istft(Z):
        return torch.istft(Z.reshape(-1, 129, Z.shape[-1]), 256, 64, window=torch.hann_window(
            256, dtype=torch.float64), center=True, length=3100).reshape(3, 2, 3100)

    X = stft(torch.randn(3, 2, 3000, dtype=torch.float64), 256, 64)  # a frames-major view
    want = torch_istft(X)
    torch.testing.assert_close(istft(X, 256, 64, 3100), want, atol=1e-12, rtol=0)
    # a buffer for one signal at a time: six groups, the same samples
    monkeypatch.setattr(stft_mod, "_FRAME_BUFFER_BYTES", 1)
    torch.testing.assert_close(istft(X, 256, 64, 3100), want, atol=1e-12, rtol=0)
    # gradients: those of torch.istft
    Y = X.detach().clone().requires_grad_()
    probe = torch.randn(3, 2, 3100, dtype=torch.float64)
    (istft(Y, 256, 64, 3100) * probe).sum().backward()
    theirs = Y.detach().clone().requires_grad_()
    (torch_istft(theirs) * probe).sum().backward()
    torch.testing.assert_close(Y.grad, theirs.grad, atol=1e-12, rtol=0)
    with pytest.raises(ValueError, match="expected 33 bins for n_fft=64, got 129"):
        istft(X, 64, 16, 100)


def test_bad_stft_geometry_is_a_config_error():
    with pytest.raises(ConfigError, match="hop <= n_fft/2"):
        stft(torch.randn(100), 64, 40)


@pytest.mark.parametrize("block", [1, 7, 1000])
def test_tf_apply_in_blocks_equals_whole_signal_processing(block):
    x = torch.randn(2, 2, 4000, dtype=torch.float64)
    gain = torch.rand(129, 1, dtype=torch.float64)
    want = istft(stft(x, 256, 64) * gain, 256, 64, 4000)
    got = tf_apply(x, lambda S: S * gain, 256, 64, block_frames=block)
    torch.testing.assert_close(got, want, atol=1e-12, rtol=0)


def test_irm_masks_sum_to_one_and_silence_gets_one_over_n():
    specs = torch.zeros(3, 4, 5, dtype=torch.complex64)
    specs[0, 0, 0] = 3.0
    specs[1, 0, 0] = 1j
    m1, m2 = ideal_ratio_mask(specs, 1.0), ideal_ratio_mask(specs, 2.0)
    torch.testing.assert_close(m1.sum(0), torch.ones(4, 5))
    assert m1[:, 0, 0].tolist() == pytest.approx([0.75, 0.25, 0.0])
    assert m2[:, 0, 0].tolist() == pytest.approx([0.9, 0.1, 0.0])
    assert m1[:, 1, 1].tolist() == pytest.approx([1 / 3] * 3)


def _tones(n=3, length=16000, channels=2, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(length) / 16000
    out = []
    for j in range(n):
        f = 200.0 * (j + 1) * 1.37
        s = np.sin(2 * np.pi * f * t)[None] * rng.uniform(0.2, 0.5, (channels, 1))
        out.append(s + 0.01 * rng.standard_normal((channels, length)))
    return torch.tensor(np.stack(out), dtype=torch.float32)


def test_oracle_sums_to_the_mixture_and_separates_tones():
    src = _tones()
    mix = src.sum(0)
    est = oracle_separate(mix, src, 512, 128)
    assert est.shape == src.shape
    torch.testing.assert_close(est.sum(0), mix, atol=1e-5, rtol=0)
    for j in range(3):
        assert sdr_mdx(src[j].numpy(), est[j].numpy()) > 20.0
        assert sdr_mdx(src[j].numpy(), mix.numpy()) < 5.0
    with pytest.raises(ConfigError, match="do not match the mixture"):
        oracle_separate(mix[:1], src, 512, 128)


def test_default_stft_is_4096_1024_at_44k():
    assert default_stft(44100) == (4096, 1024) and default_stft(8000) == (512, 128)


def make_stereo_datadir(root: Path, names=("drums", "bass", "vocals"), n_utts=2, sr=16000):
    data = root / "data"
    (data / "wav").mkdir(parents=True)
    scp = {k: [] for k in ["wav"] + [f"spk{j + 1}" for j in range(len(names))]}
    for i in range(n_utts):
        src = _tones(len(names), sr, seed=i).numpy()
        utt = f"song{i}"
        sf.write(data / "wav" / f"{utt}.wav", src.sum(0).T, sr, subtype="PCM_16")
        scp["wav"].append(f"{utt} {data}/wav/{utt}.wav\n")
        for j, name in enumerate(names):
            sf.write(data / "wav" / f"{utt}_{name}.wav", src[j].T, sr, subtype="PCM_16")
            scp[f"spk{j + 1}"].append(f"{utt} {data}/wav/{utt}_{name}.wav\n")
    for k, lines in scp.items():
        (data / f"{k}.scp").write_text("".join(lines))
    (data / "sources").write_text(" ".join(names) + "\n")
    return data


def test_oracle_data_dir_writes_separated_dir_parts(tmp_path):
    data = make_stereo_datadir(tmp_path)
    out = tmp_path / "oracle"
    assert oracle_data_dir(data, out, job=1, num_jobs=2) == 0
    assert (out / "sources").read_text() == "drums bass vocals\n"
    assert (out / ".parts" / "spk3.1.scp").read_text() == "song0 wav/song0_vocals.wav\n"
    info = sf.info(out / "wav" / "song0_bass.wav")
    assert (info.channels, info.frames, info.samplerate, info.subtype) == (2, 16000, 16000,
                                                                           "PCM_16")
    assert json.loads((out / "oracle.json").read_text())["method"] == "IRM1"
    with pytest.raises(ConfigError, match="made with"):
        oracle_data_dir(data, out, power=2.0)


def test_oracle_names_a_reference_of_the_wrong_shape(tmp_path, caplog):
    data = make_stereo_datadir(tmp_path, n_utts=1)
    bad = data / "wav" / "song0_bass.wav"
    sf.write(bad, np.zeros(16000), 16000)
    assert oracle_data_dir(data, tmp_path / "o") == 1
    assert f"{bad} (spk2.scp, utterance song0)" in caplog.text and "shape (16000,)" in caplog.text


@pytest.mark.slow
def test_steps_oracle_then_score_beats_the_mixture(tmp_path):
    data = make_stereo_datadir(tmp_path, n_utts=3)
    out = tmp_path / "exp" / "oracle" / "separate" / "test"
    env = dict(os.environ, LC_ALL="C", OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT),
               PATH=f"{Path(sys.executable).parent}:{ROOT / 'utils'}:{os.environ['PATH']}")
    p = subprocess.run([str(ROOT / "steps/oracle.sh"), "--nj", "2", str(data), str(out)],
                       env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr + p.stdout
    assert not (out / ".parts").exists()
    assert (out / "spk2.scp").read_text().splitlines()[2] == "song2 wav/song2_bass.wav"
    p = subprocess.run([str(ROOT / "steps/score.sh"), "--metrics", "sdr_mdx",
                        "--compute-permutation", "false", str(data), str(out)],
                       env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr + p.stdout
    summary = json.loads((out / "scores" / "summary.json").read_text())
    for name in ("drums", "bass", "vocals"):
        assert summary["by_source"][name]["sdr_mdx_i"]["median"] > 15.0
