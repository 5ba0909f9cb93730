"""sepcore-stream / python -m sepcore.bin.stream: files, stdin/stdout, devices, reports."""

import io
import re
import sys
import types

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from sepcore.bin.separate import main as separate_main
from sepcore.bin.stream import main
from sepcore.io import fit_to_range
from sepcore.modelfile import save_model_file
from sepcore.models import build_model
from sepcore.streaming.live import RunningGain

CAUSAL = {"name": "convtasnet", "num_sources": 2, "n_filters": 32, "kernel_size": 16,
          "bn_chan": 16, "hid_chan": 32, "conv_kernel_size": 3, "n_blocks": 3, "n_repeats": 2,
          "skip_chan": 16, "causal": True, "norm": "cLN"}


def make_exp(root, cfg, rate=8000, sources=("spk1", "spk2"), loss=None):
    root.mkdir(parents=True)
    torch.manual_seed(0)
    model = build_model(cfg)
    save_model_file(root / "model.pt", model, cfg, rate, list(sources), {})
    (root / "config.yaml").write_text(yaml.safe_dump(
        {"model": cfg, "data": {"sample_rate": rate}, "loss": loss or {"pit": True}}))
    return root


@pytest.fixture(scope="module")
def exp(tmp_path_factory):
    return make_exp(tmp_path_factory.mktemp("m") / "causal", CAUSAL)


@pytest.fixture(scope="module")
def mixture():
    rng = np.random.default_rng(0)
    t = np.arange(12000) / 8000
    x = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.1 * rng.standard_normal(len(t))
    return x.astype(np.float32)


def run(main_fn, args):
    with pytest.raises(SystemExit) as e:
        main_fn([str(a) for a in args])
    return e.value.code


def read(path):
    return sf.read(path, dtype="float32")[0]


@pytest.mark.parametrize("subtype", ["FLOAT", "PCM_16"])
def test_file_gives_the_samples_of_sepcore_separate(exp, mixture, tmp_path, subtype, capsys):
    sf.write(tmp_path / "mix.wav", mixture, 8000, subtype=subtype)
    assert run(main, ["--model", exp, "--out-dir", tmp_path / "st", "--block-ms", 3,
                      tmp_path / "mix.wav"]) == 0
    err = capsys.readouterr().err
    assert "algorithmic latency 5.0 ms (window 2.0 ms + block 3.0 ms)" in err
    assert "real-time factor" in err and "worst" in err
    assert run(separate_main, ["--model", exp, "--out-dir", tmp_path / "sep", "--no-progress",
                               tmp_path / "mix.wav"]) == 0
    for src in ("spk1", "spk2"):
        a, b = read(tmp_path / "st" / f"mix_{src}.wav"), read(tmp_path / "sep" / f"mix_{src}.wav")
        assert sf.info(tmp_path / "st" / f"mix_{src}.wav").subtype == subtype
        assert a.shape == b.shape == mixture.shape
        if subtype == "FLOAT":
            assert np.abs(a - b).max() <= 1e-5 * np.abs(b).max()
        else:  # float rounding may move a sample across a 16-bit step
            assert np.abs(a - b).max() <= 1.01 / 32768
            assert np.mean(a == b) > 0.99


def test_enhancement_model_keeps_its_levels_like_sepcore_separate(tmp_path, capsys):
    """The causal CRN, trained with a loss that is not scale-invariant: no level matching."""
    exp = make_exp(tmp_path / "crn", {"name": "crn", "causal": True}, rate=16000,
                   sources=("speech",), loss={"name": "mr_stft", "pit": False})
    rng = np.random.default_rng(3)
    noisy = (0.2 * rng.standard_normal(16000)).astype(np.float32)
    sf.write(tmp_path / "noisy.wav", noisy, 16000, subtype="FLOAT")
    assert run(main, ["--model", exp, "--out-dir", tmp_path / "st", "--block-ms", 4,
                      tmp_path / "noisy.wav"]) == 0
    assert "algorithmic latency 20.0 ms (window 16.0 ms + block 4.0 ms)" in capsys.readouterr().err
    assert run(separate_main, ["--model", exp, "--out-dir", tmp_path / "sep", "--no-progress",
                               tmp_path / "noisy.wav"]) == 0
    a, b = read(tmp_path / "st/noisy_speech.wav"), read(tmp_path / "sep/noisy_speech.wav")
    assert a.shape == b.shape == noisy.shape
    assert np.abs(a - b).max() <= 1e-5 * np.abs(b).max()


def test_post_filter_is_said_to_be_off_and_the_output_is_the_model_alone(tmp_path, capsys):
    exp = make_exp(tmp_path / "crn", {"name": "crn", "causal": True}, rate=16000,
                   sources=("speech",), loss={"name": "mr_stft", "pit": False})
    cfg = yaml.safe_load((exp / "config.yaml").read_text())
    (exp / "config.yaml").write_text(yaml.safe_dump({**cfg, "postfilter": {"enabled": True}}))
    noisy = (0.2 * np.random.default_rng(4).standard_normal(16000)).astype(np.float32)
    sf.write(tmp_path / "noisy.wav", noisy, 16000, subtype="FLOAT")
    assert run(main, ["--model", exp, "--out-dir", tmp_path / "st", tmp_path / "noisy.wav"]) == 0
    err = capsys.readouterr().err
    assert "post-filter (postfilter.enabled in its config) is not applied" in err
    assert "looks 1024 samples ahead" in err
    for flag, same in (("false", True), ("true", False)):
        out = tmp_path / f"sep_{flag}"
        assert run(separate_main, ["--model", exp, "--out-dir", out, "--no-progress",
                                   "--postfilter", flag, tmp_path / "noisy.wav"]) == 0
        a, b = read(tmp_path / "st/noisy_speech.wav"), read(out / "noisy_speech.wav")
        assert (np.abs(a - b).max() <= 1e-5 * np.abs(b).max()) == same


def test_stdin_wav_is_streamed_like_the_file(exp, mixture, tmp_path, monkeypatch):
    sf.write(tmp_path / "mix.wav", mixture, 8000, subtype="PCM_16")
    assert run(main, ["--model", exp, "--out-dir", tmp_path / "f", tmp_path / "mix.wav"]) == 0
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(
        (tmp_path / "mix.wav").read_bytes())))
    assert run(main, ["--model", exp, "--out-dir", tmp_path / "s", "-"]) == 0
    for src in ("spk1", "spk2"):
        np.testing.assert_array_equal(read(tmp_path / "s" / f"stdin_{src}.wav"),
                                      read(tmp_path / "f" / f"mix_{src}.wav"))


def test_stdin_wav_from_a_pipe_writer_and_with_trailing_chunks(exp, mixture, monkeypatch):
    from sepcore.streaming.audio import wav_stream_source

    buf = io.BytesIO()
    sf.write(buf, mixture[:1000], 8000, subtype="PCM_16", format="WAV")
    wav = buf.getvalue()
    streamed = bytearray(wav)
    streamed[40:44] = b"\xff\xff\xff\xff"  # data size unknown, as a pipe writer leaves it
    trailing = wav + b"LIST" + (4).to_bytes(4, "little") + b"abcd"  # a chunk after the data
    for data in (bytes(streamed), trailing):
        src = wav_stream_source(io.BytesIO(data))
        got = src.read(5000)
        assert (src.sample_rate, src.channels, src.subtype) == (8000, 1, "PCM_16")
        np.testing.assert_allclose(got[:, 0], mixture[:1000], atol=1 / 32768)
        assert src.read(10).shape == (0, 1)


def test_raw_stdin_to_raw_stdout_unscaled(exp, mixture, monkeypatch):
    pcm = np.round(mixture * 32767).astype("<i2")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(pcm.tobytes())))
    out = io.TextIOWrapper(io.BytesIO())
    monkeypatch.setattr(sys, "stdout", out)
    assert run(main, ["--model", exp, "--format", "s16le", "--rate", 8000, "--stdout",
                      "--out-format", "f32le", "--scale", "none", "--block-ms", 4, "-"]) == 0
    got = np.frombuffer(out.buffer.getvalue(), dtype="<f4").reshape(-1, 2).T
    model = build_model(CAUSAL)
    model.load_state_dict(torch.load(exp / "model.pt", weights_only=True)["state_dict"])
    with torch.inference_mode():
        ref = model.eval()(torch.from_numpy(pcm.astype(np.float32) / 32768)).numpy()
    assert got.shape == ref.shape
    assert np.abs(got - ref).max() <= 1e-5 * np.abs(ref).max()


def test_running_gain_ends_at_the_whole_file_gain():
    rng = np.random.default_rng(1)
    mix = (0.1 * rng.standard_normal(4000)).astype(np.float32)
    est = np.stack([-40 * mix + rng.standard_normal(4000) * 0.5, 7 * mix]).astype(np.float32)
    gain = RunningGain(2, 0.99, float_output=True)
    for s in range(0, 4000, 100):
        out, clipped = gain(est[:, s:s + 100], mix[s:s + 100])
    assert clipped == 0
    np.testing.assert_allclose(out, fit_to_range(est, mix, "FLOAT")[:, -100:], rtol=1e-5)


def test_running_scale_keeps_pcm_outputs_below_full_scale(exp, mixture, tmp_path,
                                                          monkeypatch):
    loud = np.clip(mixture * 3, -1, 1)
    sf.write(tmp_path / "loud.wav", loud, 8000, subtype="PCM_16")
    assert run(main, ["--model", exp, "--out-dir", tmp_path, "--scale", "running",
                      tmp_path / "loud.wav"]) == 0
    for src in ("spk1", "spk2"):
        y = read(tmp_path / f"loud_{src}.wav")
        assert y.shape == loud.shape and 0 < np.abs(y).max() <= 0.99 + 1 / 32768


def test_multichannel_input_is_mixed_down(exp, mixture, tmp_path):
    stereo = np.stack([mixture, 0.5 * mixture[::-1]], axis=1)
    sf.write(tmp_path / "st.wav", stereo, 8000, subtype="FLOAT")
    sf.write(tmp_path / "mono.wav", stereo.mean(axis=1), 8000, subtype="FLOAT")
    for name in ("st", "mono"):
        assert run(main, ["--model", exp, "--out-dir", tmp_path / "o", "--scale", "none",
                          tmp_path / f"{name}.wav"]) == 0
    np.testing.assert_allclose(read(tmp_path / "o/st_spk1.wav"),
                               read(tmp_path / "o/mono_spk1.wav"), atol=1e-6)


def test_other_rates_are_resampled_on_the_fly(exp, mixture, tmp_path):
    import soxr

    x16 = soxr.resample(mixture, 8000, 16000).astype(np.float32)
    sf.write(tmp_path / "m16.wav", x16, 16000, subtype="FLOAT")
    assert run(main, ["--model", exp, "--out-dir", tmp_path / "st", "--block-ms", 10,
                      tmp_path / "m16.wav"]) == 0
    assert run(separate_main, ["--model", exp, "--out-dir", tmp_path / "sep", "--no-progress",
                               tmp_path / "m16.wav"]) == 0
    a, b = read(tmp_path / "st/m16_spk1.wav"), read(tmp_path / "sep/m16_spk1.wav")
    assert sf.info(tmp_path / "st/m16_spk1.wav").samplerate == 16000
    assert a.shape == b.shape == x16.shape
    # streamed soxr is not whole-file soxr at the edges; the interior agrees closely
    mid = slice(2000, -2000)
    assert np.abs(a[mid] - b[mid]).max() <= 1e-3 * np.abs(b).max()


def test_late_blocks_are_warned_about(exp, mixture, tmp_path, monkeypatch, capsys):
    import sepcore.streaming.live as live

    clock = iter(range(10**6))  # every reading of the clock is one second later
    monkeypatch.setattr(live.time, "perf_counter", lambda: float(next(clock)))
    sf.write(tmp_path / "mix.wav", mixture[:800], 8000, subtype="FLOAT")
    assert run(main, ["--model", exp, "--out-dir", tmp_path, "--block-ms", 20,
                      tmp_path / "mix.wav"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"warning: block 1 took \d+000\.0 ms, longer than its 20\.0 ms", err)
    assert "5 of 5 blocks took longer than their duration" in err


def test_non_causal_model_is_refused_and_writes_nothing(tmp_path, mixture, capsys):
    exp = make_exp(tmp_path / "gln", {**CAUSAL, "causal": False, "norm": "gLN"})
    sf.write(tmp_path / "mix.wav", mixture, 8000)
    assert run(main, ["--model", exp, "--out-dir", tmp_path / "o", tmp_path / "mix.wav"]) == 1
    err = capsys.readouterr().err
    assert "error:" in err and "ConvTasNet" in err and "not causal" in err and "gLN" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args, message", [
    (["--format", "s16le", "-"], "raw PCM input needs --rate"),
    (["--format", "u8", "--rate", "8000", "-"], "--format 'u8': expected one of"),
    (["-"], "not a WAV file"),
    (["--stdout", "--scale", "end", "IN"], "--scale end rescales after the last block"),
    (["--play", "bass", "--output-device", "IN"], "--play 'bass': the model's sources"),
    (["--block-ms", "0", "IN"], "argument --block-ms: expected a number > 0, got '0'"),
    (["nope.wav"], "nope.wav: audio file not found"),
    ([], "no input"),
])
def test_bad_options_are_clear_errors(exp, mixture, tmp_path, monkeypatch, capsys, args,
                                      message):
    sf.write(tmp_path / "in.wav", mixture, 8000)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"hello, not audio")))
    args = ["in.wav" if a == "IN" else a for a in args]
    code = run(main, ["--model", exp, "--out-dir", tmp_path / "o"] + args)
    assert code == (2 if "argument " in message else 1)  # argparse's usage errors exit 2
    assert message in capsys.readouterr().err


def test_existing_outputs_need_force(exp, mixture, tmp_path, capsys):
    sf.write(tmp_path / "mix.wav", mixture, 8000)
    assert run(main, ["--model", exp, "--out-dir", tmp_path, tmp_path / "mix.wav"]) == 0
    assert run(main, ["--model", exp, "--out-dir", tmp_path, tmp_path / "mix.wav"]) == 1
    assert "exists (use --force true to overwrite)" in capsys.readouterr().err
    assert run(main, ["--model", exp, "--out-dir", tmp_path, "--force", "true",
                      tmp_path / "mix.wav"]) == 0


def test_device_without_sounddevice_is_a_clear_error(exp, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import fails
    assert run(main, ["--model", exp, "--input-device", "--stdout"]) == 1
    assert "needs the optional sounddevice package" in capsys.readouterr().err


def test_device_in_and_out(exp, mixture, monkeypatch, tmp_path):
    """A fake sounddevice: what the input device records, the output device plays."""
    played = []

    class FakeStream:
        def __init__(self, device, samplerate, channels, dtype):
            assert samplerate == 8000 and dtype == "float32"
            self.pos = 0

        def start(self):
            pass

        stop = close = start

        def read(self, n):
            x = mixture[self.pos:self.pos + n, None]
            self.pos += n
            return x, False

        def write(self, x):
            played.append(x[:, 0].copy())

    fake = types.SimpleNamespace(
        InputStream=FakeStream, OutputStream=FakeStream, PortAudioError=RuntimeError,
        query_devices=lambda dev=None, kind=None: {"max_input_channels": 2})
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    assert run(main, ["--model", exp, "--input-device", "--output-device", "--play", "spk2",
                      "--seconds", 1.5, "--scale", "none"]) == 0
    sf.write(tmp_path / "mix.wav", mixture, 8000, subtype="FLOAT")
    assert run(main, ["--model", exp, "--out-dir", tmp_path, "--scale", "none",
                      tmp_path / "mix.wav"]) == 0
    np.testing.assert_allclose(np.concatenate(played), read(tmp_path / "mix_spk2.wav"),
                               atol=1e-6)
