"""Songs in, stems out: stereo models in sepcore-separate, --stems, Wiener options, mp3/ogg."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

import sepcore
import sepcore.stems
from sepcore.bin.separate import main
from sepcore.errors import ConfigError
from sepcore.inference import ChunkPlan, separate_chunked
from sepcore.modelfile import save_model_file
from sepcore.models import build_model

STEMS = ["drums", "bass", "other", "vocals"]
UMX_TINY = {"name": "umx", "n_fft": 512, "hop": 128, "hidden_size": 16, "num_layers": 1,
            "sample_rate": 16000, "bandwidth": 6000.0, "joint": "shared"}


@pytest.fixture(scope="module")
def music_exp(tmp_path_factory):
    exp = tmp_path_factory.mktemp("music") / "umx"
    exp.mkdir()
    torch.manual_seed(0)
    model = build_model(UMX_TINY)
    save_model_file(exp / "model.pt", model, UMX_TINY, 16000, STEMS, {})
    (exp / "config.yaml").write_text(yaml.safe_dump(
        {"model": UMX_TINY, "loss": {"name": "mse", "pit": False}}))
    return exp


def song(seconds=1.0, rate=16000, channels=2, seed=0, peak=0.3):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    x = np.sin(2 * np.pi * 110 * t) + 0.5 * np.sin(2 * np.pi * 880 * t) \
        + 0.2 * rng.standard_normal(len(t))
    x = np.stack([x * (1 - 0.4 * c) for c in range(channels)], 1) if channels else x
    return (peak * x / np.max(np.abs(x))).astype(np.float32)


def run(args):
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in args] + ["--no-progress"])
    return e.value.code


def test_every_stem_is_written_at_the_input_rate_format_and_channels(music_exp, tmp_path):
    x = song(1.3, 44100)
    sf.write(tmp_path / "song.flac", x, 44100, subtype="PCM_24")
    assert run(["--model", music_exp, "--out-dir", tmp_path / "out", tmp_path / "song.flac"]) == 0
    total = 0
    for stem in STEMS:
        y, rate = sf.read(tmp_path / "out" / f"song_{stem}.wav")
        info = sf.info(tmp_path / "out" / f"song_{stem}.wav")
        assert (rate, y.shape, info.subtype, info.format) == (44100, x.shape, "PCM_24", "WAV")
        total = total + y
    # a mask model with the mixture's phase: its stems are at the mixture's scale, not rescaled
    assert 0.05 < np.std(total) / np.std(x) < 20


def test_stems_vocals_writes_vocals_and_accompaniment_summing_to_the_mixture(music_exp,
                                                                              tmp_path):
    x = song(1.0, 16000)
    sf.write(tmp_path / "mix.wav", x, 16000, subtype="FLOAT")
    assert run(["--model", music_exp, "--out-dir", tmp_path, "--stems", "vocals",
                tmp_path / "mix.wav"]) == 0
    written = sorted(p.name for p in tmp_path.glob("mix_*.wav"))
    assert written == ["mix_no_vocals.wav", "mix_vocals.wav"]
    vocals, _ = sf.read(tmp_path / "mix_vocals.wav", dtype="float32")
    rest, _ = sf.read(tmp_path / "mix_no_vocals.wav", dtype="float32")
    assert np.max(np.abs(vocals)) > 1e-3
    np.testing.assert_allclose(vocals + rest, x, atol=1e-6)
    # the same mechanism with several stems and a given name, into 16-bit PCM
    sf.write(tmp_path / "m16.wav", x, 16000, subtype="PCM_16")
    assert run(["--model", music_exp, "--out-dir", tmp_path, "--stems", "vocals,bass",
                "--residual-name", "band", tmp_path / "m16.wav"]) == 0
    parts = [sf.read(tmp_path / f"m16_{n}.wav")[0] for n in ("vocals", "bass", "band")]
    mix16 = sf.read(tmp_path / "m16.wav")[0]
    np.testing.assert_allclose(sum(parts), mix16, atol=3 / 32768)


def test_mp3_mono_22k_is_duplicated_to_stereo_and_written_back_mono_as_pcm16(music_exp,
                                                                            tmp_path):
    sf.write(tmp_path / "tune.mp3", song(1.0, 22050, channels=0), 22050, format="MP3",
             subtype="MPEG_LAYER_III")
    decoded, _ = sf.read(tmp_path / "tune.mp3")
    assert run(["--model", music_exp, "--out-dir", tmp_path, tmp_path / "tune.mp3"]) == 0
    for stem in STEMS:
        info = sf.info(tmp_path / f"tune_{stem}.wav")
        assert (info.samplerate, info.channels, info.subtype, info.frames) == (
            22050, 1, "PCM_16", len(decoded))


def test_ogg_input_gives_pcm16_wav(music_exp, tmp_path):
    sf.write(tmp_path / "a.ogg", song(0.5, 16000), 16000, format="OGG", subtype="VORBIS")
    assert run(["--model", music_exp, "--out-dir", tmp_path, "--stems", "drums",
                tmp_path / "a.ogg"]) == 0
    assert sf.info(tmp_path / "a_no_drums.wav").subtype == "PCM_16"


def test_wiener_options_change_the_estimates_and_residual_adds_a_stem(music_exp):
    model = sepcore.load(music_exp)
    x = song(1.0, 16000)
    assert model.wiener_settings() == {"iterations": 1, "softmask": False, "residual": False}
    one = model.separate_array(x, 16000)
    zero = model.set_wiener(0).separate_array(x, 16000)
    assert one.shape == zero.shape == (4, 16000, 2) and not np.allclose(one, zero, atol=1e-4)
    with torch.no_grad():
        direct = model.model(torch.from_numpy(x.T.copy())[None])[0].numpy().transpose(0, 2, 1)
    np.testing.assert_allclose(zero, direct, atol=1e-5)
    model.set_wiener(1, residual=True)
    assert model.sources == STEMS + ["residual"]
    assert model.separate_array(x, 16000).shape == (5, 16000, 2)
    model.set_wiener(None, residual=False)
    assert model.sources == STEMS


def test_bad_music_inputs_and_options(music_exp, tmp_path, capsys):
    sf.write(tmp_path / "surround.wav", np.zeros((1600, 3), np.float32) + 0.1, 16000)
    assert run(["--model", music_exp, "--out-dir", tmp_path, tmp_path / "surround.wav"]) == 1
    assert "surround.wav: this model separates 2-channel audio" in capsys.readouterr().err
    sf.write(tmp_path / "ok.wav", song(0.3, 16000), 16000)
    assert run(["--model", music_exp, "--stems", "guitar", tmp_path / "ok.wav"]) == 1
    assert "--stems guitar: expected distinct names among the model's sources (drums bass" \
        in capsys.readouterr().err
    with pytest.raises(ConfigError, match="every source"):
        sepcore.stems.keep_stems(np.zeros((4, 10), np.float32), np.zeros(10), STEMS, STEMS)


class StereoGains(torch.nn.Module):
    """A stereo 'model' without context: fixed channel-mixing gains per source."""

    audio_channels = 2
    num_sources = 3

    def __init__(self):
        super().__init__()
        self.gains = torch.tensor([[[1.0, 0.5], [0.0, 1.0]], [[0.2, 0.0], [0.3, 0.1]],
                                   [[-1.0, 0.0], [0.0, 2.0]]])

    def receptive_field(self):
        return 0

    def forward(self, x):
        return torch.einsum("scd,bdt->bsct", self.gains, x)


def test_stereo_chunks_are_cross_faded_into_the_whole_track_result():
    m = StereoGains()
    x = np.random.default_rng(0).standard_normal((10007, 2)).astype(np.float32)
    whole = separate_chunked(m, x, plan=ChunkPlan(window=20000, hop=20000, guard=0))
    chunked = separate_chunked(m, x, plan=ChunkPlan(window=1000, hop=700, guard=50),
                               align=False)
    assert whole.shape == (3, 10007, 2)
    np.testing.assert_allclose(chunked, whole, atol=1e-5)
    np.testing.assert_allclose(whole[2, :, 1], 2 * x[:, 1], atol=1e-6)
    with pytest.raises(ValueError, match=r"expects a \[T, 2\] signal"):
        separate_chunked(m, x[:, 0], plan=ChunkPlan(window=1000, hop=700, guard=50))


def test_separate_api_takes_channels_first_tensors(music_exp):
    model = sepcore.load(music_exp)
    x = torch.from_numpy(song(0.5, 16000).T.copy())
    est = model.separate(x, 16000)
    assert est.shape == (4, 2, 8000) and est.dtype == torch.float32


def test_data_dir_mode_with_stems_records_its_settings_and_refuses_others(music_exp, tmp_path,
                                                                        capsys):
    data = tmp_path / "data"
    data.mkdir()
    lines = []
    for i in range(2):
        sf.write(tmp_path / f"s{i}.wav", song(0.4, 16000, seed=i), 16000, subtype="PCM_16")
        lines.append(f"s{i} {tmp_path}/s{i}.wav\n")
    (data / "wav.scp").write_text("".join(lines))
    out = tmp_path / "sep"
    args = ["--model", music_exp, "--data-dir", data, "--out-dir", out, "--stems", "vocals"]
    assert run(args + ["--wiener-iterations", "0"]) == 0
    assert (out / "sources").read_text() == "vocals no_vocals\n"
    assert (out / ".parts" / "spk2.1.scp").read_text().splitlines()[1] == \
        "s1 wav/s1_no_vocals.wav"  # relative to the separated dir
    assert run(args + ["--wiener-iterations", "1"]) == 1
    err = capsys.readouterr().err
    assert f"{out}/separate.json: this folder holds estimates made with" in err
    assert "'iterations': 0" in err and "'iterations': 1" in err
    assert run(args + ["--wiener-iterations", "1", "--force"]) == 0


def test_wiener_on_a_waveform_model_is_a_clear_error(tmp_path, capsys):
    from helpers.inference import make_exp_dir

    exp = make_exp_dir(tmp_path)
    sf.write(tmp_path / "a.wav", song(0.2, 8000, channels=0), 8000)
    assert run(["--model", exp, "--wiener-iterations", "2", tmp_path / "a.wav"]) == 1
    err = capsys.readouterr().err
    assert f"error: {exp}: convtasnet is not a time-frequency model: Wiener filtering" in err
