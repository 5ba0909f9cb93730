"""sepcore-separate / python -m sepcore.bin.separate (file mode and data-dir mode)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers.inference import make_exp_dir, tone_mix

import sepcore
from sepcore.bin.separate import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exp(tmp_path_factory):
    return make_exp_dir(tmp_path_factory.mktemp("exp"))


def run(args):
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in args])
    return e.value.code


def test_stereo_flac_44k_gives_outputs_at_input_rate_length_and_subtype(exp, tmp_path):
    x = tone_mix(0.6, 44100, channels=2) * 1.5
    sf.write(tmp_path / "song.flac", x, 44100, subtype="PCM_24")
    out = tmp_path / "out"
    assert run(["--model", exp, "--out-dir", out, "--no-progress", tmp_path / "song.flac"]) == 0
    for src in ("spk1", "spk2"):
        info = sf.info(out / f"song_{src}.wav")
        assert (info.samplerate, info.frames, info.channels) == (44100, len(x), 2)
        assert info.subtype == "PCM_24" and info.format == "WAV"
        y, _ = sf.read(out / f"song_{src}.wav")
        assert 0.0 < np.max(np.abs(y)) <= 0.99 + 1e-6


def test_ogg_input_gives_16_bit_pcm(exp, tmp_path):
    sf.write(tmp_path / "a.ogg", tone_mix(0.5, 16000), 16000, format="OGG", subtype="VORBIS")
    assert run(["--model", exp, "--out-dir", tmp_path, tmp_path / "a.ogg"]) == 0
    info = sf.info(tmp_path / "a_spk1.wav")
    assert info.subtype == "PCM_16" and info.samplerate == 16000
    assert info.frames == sf.info(tmp_path / "a.ogg").frames


def test_multichannel_is_separated_channel_by_channel(exp):
    model = sepcore.load(exp)
    x = tone_mix(0.5, 8000, channels=3)
    est = model.separate_array(x, 8000)
    assert est.shape == (2, len(x), 3)
    for c in range(3):
        np.testing.assert_allclose(est[:, :, c], model.separate_array(x[:, c].copy(), 8000),
                                   atol=1e-6)


def test_bad_files_are_named_and_the_others_still_separated(exp, tmp_path, capsys):
    d = tmp_path / "in"
    d.mkdir()
    sf.write(d / "good1.wav", tone_mix(0.5, 8000), 8000)
    sf.write(d / "good2.flac", tone_mix(0.5, 8000, seed=3), 8000)
    (d / "notaudio.wav").write_text("this is not audio\n" * 10)
    (d / "empty.wav").write_bytes(b"")
    sf.write(d / "zerolen.wav", np.zeros(0, dtype=np.float32), 8000)
    (d / "truncated.wav").write_bytes((d / "good1.wav").read_bytes()[:30])
    out = tmp_path / "out"
    code = run(["--model", exp, "--out-dir", out, d, tmp_path / "missing.wav"])
    err = capsys.readouterr().err
    assert code == 1
    for name, why in [("notaudio.wav", "cannot read as audio"), ("empty.wav", "empty"),
                      ("zerolen.wav", "no samples"), ("truncated.wav", ""),
                      ("missing.wav", "no such file")]:
        line = [ln for ln in err.splitlines() if name in ln]
        assert line and why in line[0], (name, err)
    assert "separated 2 of 7 input(s)" in err
    assert sorted(p.name for p in out.iterdir()) == [
        "good1_spk1.wav", "good1_spk2.wav", "good2_spk1.wav", "good2_spk2.wav"]
    assert "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files without read permission")
def test_unreadable_file(exp, tmp_path, capsys):
    sf.write(tmp_path / "locked.wav", tone_mix(0.2, 8000), 8000)
    os.chmod(tmp_path / "locked.wav", 0)
    assert run(["--model", exp, "--out-dir", tmp_path / "o", tmp_path / "locked.wav"]) == 1
    assert "locked.wav" in capsys.readouterr().err


def test_refuses_to_overwrite_unless_force(exp, tmp_path, capsys):
    sf.write(tmp_path / "m.wav", tone_mix(0.3, 8000), 8000)
    args = ["--model", exp, "--out-dir", tmp_path / "o", tmp_path / "m.wav"]
    assert run(args) == 0
    before = (tmp_path / "o" / "m_spk1.wav").stat().st_mtime_ns
    capsys.readouterr()
    assert run(args) == 1
    assert "exists (use --force to overwrite)" in capsys.readouterr().err
    assert (tmp_path / "o" / "m_spk1.wav").stat().st_mtime_ns == before
    assert run(args + ["--force"]) == 0


def test_globs_and_name_collisions(exp, tmp_path, capsys):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        sf.write(tmp_path / sub / "x.wav", tone_mix(0.3, 8000), 8000)
    code = run(["--model", exp, "--out-dir", tmp_path / "o", str(tmp_path / "*" / "x.wav")])
    assert code == 1
    assert "would overwrite those of" in capsys.readouterr().err
    assert (tmp_path / "o" / "x_spk2.wav").is_file()
    assert run(["--model", exp, "--out-dir", tmp_path / "o", str(tmp_path / "nomatch*.wav")]) == 1


def test_bad_model_is_a_clean_error(tmp_path, capsys):
    (tmp_path / "model.pt").write_bytes(b"garbage")
    sf.write(tmp_path / "m.wav", tone_mix(0.3, 8000), 8000)
    assert run(["--model", tmp_path / "model.pt", tmp_path / "m.wav"]) == 1
    err = capsys.readouterr().err
    assert "error:" in err and "model.pt" in err and "Traceback" not in err


def _data_dir(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    lines = []
    for i, (sr, sub) in enumerate([(8000, "PCM_16"), (16000, "FLOAT"), (8000, "PCM_24")]):
        sf.write(tmp_path / f"u{i}.wav", tone_mix(0.4 + 0.1 * i, sr, seed=i), sr, subtype=sub)
        spec = f"cat {tmp_path}/u{i}.wav |" if i == 1 else str(tmp_path / f"u{i}.wav")
        lines.append(f"utt{i} {spec}\n")
    (d / "wav.scp").write_text("".join(lines))
    return d


def test_data_dir_mode_jobs_and_skip(exp, tmp_path):
    d = _data_dir(tmp_path)
    out = tmp_path / "sep"
    assert run(["--model", exp, "--data-dir", d, "--out-dir", out, "--job", 2,
                "--num-jobs", 2]) == 0
    assert (out / "sources").read_text() == "spk1 spk2\n"
    assert (out / ".parts" / "spk1.2.scp").read_text() == "utt1 wav/utt1_spk1.wav\n"
    assert sorted(p.name for p in (out / "wav").iterdir()) == ["utt1_spk1.wav", "utt1_spk2.wav"]
    info = sf.info(out / "wav" / "utt1_spk2.wav")
    assert (info.samplerate, info.subtype, info.frames) == (16000, "FLOAT", 8000)
    mtime = (out / "wav" / "utt1_spk1.wav").stat().st_mtime_ns
    assert run(["--model", exp, "--data-dir", d, "--out-dir", out, "--job", 2,
                "--num-jobs", 2]) == 0
    assert (out / "wav" / "utt1_spk1.wav").stat().st_mtime_ns == mtime
    assert (out / ".parts" / "spk2.2.scp").read_text() == "utt1 wav/utt1_spk2.wav\n"


def _env():
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}:{ROOT / 'utils'}:{env['PATH']}"
    env["PYTHONPATH"] = str(ROOT)
    env["LC_ALL"] = "C"
    env["OMP_NUM_THREADS"] = "1"
    return env


@pytest.mark.slow
def test_steps_separate_sh(exp, tmp_path):
    d = _data_dir(tmp_path)
    out = tmp_path / "exp_sep"
    cmd = [str(ROOT / "steps" / "separate.sh"), "--nj", "2", "--chunk-seconds", "0.25",
           "--hop-seconds", "0.2", str(exp), str(d), str(out)]
    p = subprocess.run(cmd, env=_env(), capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    for n in (1, 2):
        lines = (out / f"spk{n}.scp").read_text().splitlines()
        assert [ln.split()[0] for ln in lines] == ["utt0", "utt1", "utt2"]
        for ln in lines:
            assert (out / ln.split()[1]).is_file()  # relative to the separated dir
    assert (out / "sources").read_text().split() == ["spk1", "spk2"]
    info = sf.info(out / "wav" / "utt2_spk1.wav")
    assert (info.samplerate, info.subtype, info.frames) == (8000, "PCM_24", 4800)
    assert not (out / ".parts").exists()
    rerun = cmd[:1] + ["--nj", "1"] + cmd[3:]
    p = subprocess.run(rerun, env=_env(), capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "3 already done" in (out / "log" / "separate.1.log").read_text()


def test_data_dir_mode_broken_utterance_is_named(exp, tmp_path, capsys):
    d = _data_dir(tmp_path)
    with open(d / "wav.scp", "a") as f:
        f.write(f"utt3 {tmp_path}/nothere.wav\n")
    assert run(["--model", exp, "--data-dir", d, "--out-dir", tmp_path / "o"]) == 1
    err = capsys.readouterr().err
    assert "utterance utt3:" in err and "nothere.wav: audio file not found" in err
    assert len((tmp_path / "o" / ".parts" / "spk1.1.scp").read_text().splitlines()) == 3


def test_python_m_help():
    p = subprocess.run([sys.executable, "-m", "sepcore.bin.separate", "--help"], env=_env(),
                       capture_output=True, text=True)
    assert p.returncode == 0
    assert "--model" in p.stdout and "--out-dir" in p.stdout and "--data-dir" in p.stdout


@pytest.mark.slow
def test_console_script_has_the_same_interface(exp, tmp_path):
    script = Path(sys.executable).parent / "sepcore-separate"
    if not script.exists():
        pytest.skip("sepcore is not pip-installed here (pip install -e .)")
    sf.write(tmp_path / "m.wav", tone_mix(0.3, 8000), 8000)
    p = subprocess.run([str(script), "--model", str(exp), "--out-dir", str(tmp_path / "o"),
                        str(tmp_path / "m.wav"), str(tmp_path / "nothere.wav")],
                       env=_env(), capture_output=True, text=True)
    assert p.returncode == 1
    assert "nothere.wav: no such file or folder" in p.stderr
    assert (tmp_path / "o" / "m_spk1.wav").is_file()
