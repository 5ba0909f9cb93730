"""MUSDB18-HQ and MUSDB18 (.stem.mp4) data prep on miniature replicas of both layouts."""

import os
import shutil
import subprocess

import helpers.corpus_replicas as cr
import numpy as np
import pytest
import soundfile as sf

PREP = "egs/musdb18/umx/local/prepare_musdb18.py"
SR = 44100
SIGNALS = ("mixture", "drums", "bass", "other", "vocals")
TRAIN = ["Actions - One Minute Smile", "Johnny Lokke - Promises & Lies", "Foo Bar - Baz Qux"]
TEST = ["Al James - Schoolboy Facination", "AM Contra - Heart Peripheral"]
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None,
                                  reason="the ffmpeg program is not installed (apt-get install "
                                         "ffmpeg); the .stem.mp4 replica is made with it")


@pytest.fixture(scope="module")
def prep():
    return cr.load_script(PREP)


def song_audio(seed: int, n: int) -> dict:
    # tones, not noise: AAC keeps them, so the decoded stems can be compared with these
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None] / SR
    stems = {s: (0.2 * np.sin(2 * np.pi * rng.uniform(100, 2000, 2) * t)).astype(np.float32)
             for s in SIGNALS[1:]}
    return {"mixture": sum(stems.values()), **stems}


def make_hq(root, songs=None, seconds=0.5) -> dict:
    """``{split: {song: length}}``; songs of slightly different lengths, like the corpus."""
    songs = songs or {"train": TRAIN, "test": TEST}
    lengths = {}
    for split, names in songs.items():
        for i, song in enumerate(names):
            n = int(seconds * SR) + 100 * i
            d = root / split / song
            d.mkdir(parents=True)
            for name, x in song_audio(i, n).items():
                sf.write(d / f"{name}.wav", x, SR, subtype="PCM_16")
            lengths.setdefault(split, {})[song] = n
    return lengths


def make_stem_mp4(wav_dir, out):
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
    for name in SIGNALS:
        cmd += ["-i", str(wav_dir / f"{name}.wav")]
    for i in range(len(SIGNALS)):
        cmd += ["-map", f"{i}:a"]
    subprocess.run(cmd + ["-c:a", "aac", "-b:a", "256k", "-f", "mp4", str(out)], check=True)


def uid(song):
    return song.replace(" - ", "_").replace(" & ", "_").replace(" ", "_")


def test_hq_layout_splits_counts_and_files(tmp_path, prep, capsys):
    lengths = make_hq(tmp_path / "musdb")
    assert prep.main([str(tmp_path / "musdb"), str(tmp_path / "data")]) == 0
    err = capsys.readouterr().err
    assert f"{tmp_path}/musdb/train: found 3 songs, MUSDB18 train has 100" in err
    assert f"{tmp_path}/musdb/test: found 2 songs, MUSDB18 test has 50" in err
    assert "12 of the 14 official validation songs are missing" in err
    sets = {"train": ["Foo Bar - Baz Qux"], "valid": TRAIN[:2], "test": TEST}
    for name, songs in sets.items():
        d = tmp_path / "data" / name
        split = "test" if name == "test" else "train"
        ids = sorted((uid(s), s) for s in songs)
        ids.sort(key=lambda p: p[0].encode())
        assert cr.pairs(d / "wav.scp") == [
            (u, f"{tmp_path}/musdb/{split}/{s}/mixture.wav") for u, s in ids]
        for k, stem in enumerate(SIGNALS[1:], 1):
            assert cr.pairs(d / f"spk{k}.scp") == [
                (u, f"{tmp_path}/musdb/{split}/{s}/{stem}.wav") for u, s in ids]
        assert cr.pairs(d / "utt2num_samples") == [(u, str(lengths[split][s])) for u, s in ids]
        assert cr.lines(d / "sources") == ["drums bass other vocals"]
        for f in os.listdir(d):
            if f != "sources":
                cr.assert_c_sorted(d / f)
    assert prep.utt_id("Johnny Lokke - Promises & Lies") == "Johnny_Lokke_Promises_Lies"
    assert len(prep.VALIDATION) == 14 and len(set(prep.VALIDATION)) == 14


@pytest.mark.parametrize("fault", ["missing_stem", "length", "rate", "mono"])
def test_hq_bad_song_names_the_file(tmp_path, prep, capsys, fault):
    make_hq(tmp_path / "musdb", {"train": TRAIN[:1], "test": TEST[:1]})
    song = tmp_path / "musdb" / "test" / TEST[0]
    bad = song / "bass.wav"
    if fault == "missing_stem":
        bad.unlink()
        want = f"{bad}: not found (every song needs mixture, drums, bass, other, vocals)"
    elif fault == "length":
        sf.write(bad, np.zeros((SR // 3, 2)), SR)
        want = f"{bad}: {SR // 3} samples, but {song}/mixture.wav has {SR // 2}"
    elif fault == "rate":
        sf.write(bad, np.zeros((SR // 2, 2)), 48000)
        want = f"{bad}: sample rate 48000 Hz, expected 44100 Hz"
    else:
        sf.write(bad, np.zeros(SR // 2), SR)
        want = f"{bad}: 1 channel(s), expected stereo"
    assert prep.main([str(tmp_path / "musdb"), str(tmp_path / "data")]) == 1
    assert want in capsys.readouterr().err


def test_missing_split_folder_is_an_error(tmp_path, prep, capsys):
    make_hq(tmp_path / "musdb", {"train": TRAIN[:1]})
    assert prep.main([str(tmp_path / "musdb"), str(tmp_path / "data")]) == 1
    err = capsys.readouterr().err
    assert f"error: {tmp_path}/musdb/test: folder not found (expected the MUSDB18 test set" in err
    assert not (tmp_path / "data" / "train").exists()


@needs_ffmpeg
def test_stem_mp4_layout_decoded_once(tmp_path, prep, capsys):
    hq = tmp_path / "hq"
    make_hq(hq, {"train": TRAIN[:2], "test": TEST[:1]}, seconds=1.0)
    for split, song in [("train", TRAIN[0]), ("train", TRAIN[1]), ("test", TEST[0])]:
        (tmp_path / "musdb" / split).mkdir(parents=True, exist_ok=True)
        make_stem_mp4(hq / split / song, tmp_path / "musdb" / split / f"{song}.stem.mp4")
    dec = tmp_path / "wav"
    args = ["--decoded-dir", str(dec), str(tmp_path / "musdb"), str(tmp_path / "data")]
    assert prep.main(args) == 0
    assert "2 valid" in capsys.readouterr().err
    u = uid(TEST[0])
    assert cr.pairs(tmp_path / "data/test/wav.scp") == [(u, f"{dec}/test/{u}/mixture.wav")]
    assert cr.pairs(tmp_path / "data/test/spk4.scp") == [(u, f"{dec}/test/{u}/vocals.wav")]
    assert cr.pairs(tmp_path / "data/valid/spk1.scp")[0] == (
        uid(TRAIN[0]), f"{dec}/train/{uid(TRAIN[0])}/drums.wav")
    n = int(cr.pairs(tmp_path / "data/test/utt2num_samples")[0][1])
    for name in SIGNALS:
        x, sr = sf.read(dec / "test" / u / f"{name}.wav")
        assert sr == SR and x.shape == (n, 2)
        ref, _ = sf.read(hq / "test" / TEST[0] / f"{name}.wav")
        # AAC shifts the signal by its priming delay: compare by the best lag's correlation
        lag = int(np.argmax([np.dot(x[d:d + 20000, 0], ref[:20000, 0]) for d in range(0, 3000)]))
        c = np.corrcoef(x[lag:lag + 20000, 0], ref[:20000, 0])[0, 1]
        assert c > 0.95, (name, lag, c)
    assert abs(n - SR) <= 4096
    stamp = os.stat(dec / "test" / u / "mixture.wav").st_mtime_ns
    assert prep.main(args) == 0
    assert os.stat(dec / "test" / u / "mixture.wav").st_mtime_ns == stamp  # not decoded again


@needs_ffmpeg
def test_unreadable_or_short_stem_mp4_names_the_file(tmp_path, prep, capsys):
    hq = tmp_path / "hq"
    make_hq(hq, {"train": TRAIN[:1], "test": TEST[:1]})
    (tmp_path / "musdb" / "train").mkdir(parents=True)
    (tmp_path / "musdb" / "test").mkdir(parents=True)
    make_stem_mp4(hq / "train" / TRAIN[0], tmp_path / "musdb/train" / f"{TRAIN[0]}.stem.mp4")
    bad = tmp_path / "musdb/test" / f"{TEST[0]}.stem.mp4"
    bad.write_bytes(b"not an mp4 file at all" * 50)
    args = ["--decoded-dir", str(tmp_path / "wav"), str(tmp_path / "musdb"), str(tmp_path / "d")]
    assert prep.main(args) == 1
    assert f"error: {bad}: ffmpeg cannot decode its 5 audio streams" in capsys.readouterr().err
    # a stem file with only 4 streams
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
    for name in SIGNALS[:4]:
        cmd += ["-i", str(hq / "test" / TEST[0] / f"{name}.wav")]
    cmd += [a for i in range(4) for a in ("-map", f"{i}:a")]
    subprocess.run(cmd + ["-c:a", "aac", "-f", "mp4", str(bad)], check=True)
    assert prep.main(args) == 1
    assert f"error: {bad}: ffmpeg cannot decode its 5 audio streams" in capsys.readouterr().err


def test_stems_format_without_ffmpeg_says_what_to_install(tmp_path, prep, capsys, monkeypatch):
    (tmp_path / "musdb" / "train").mkdir(parents=True)
    (tmp_path / "musdb" / "train" / "A - B.stem.mp4").write_bytes(b"x")
    monkeypatch.setattr(prep.shutil, "which", lambda name: None)
    assert prep.main(["--decoded-dir", str(tmp_path / "w"), str(tmp_path / "musdb"),
                      str(tmp_path / "d")]) == 1
    assert "apt-get install -y ffmpeg" in capsys.readouterr().err


@pytest.mark.slow
def test_recipe_stages_1_and_2_on_a_replica(tmp_path):
    """egs/musdb18/umx/run.sh prepares and validates the three sets of a replica."""
    make_hq(tmp_path / "musdb")
    recipe = cr.copy_recipe(cr.REPO / "egs/musdb18/umx", tmp_path / "umx")
    proc = cr.run_recipe_script("musdb18/umx", "./run.sh", "--stage", "1", "--stop-stage", "2",
                                "--musdb-dir", str(tmp_path / "musdb"), cwd=str(recipe))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name, n in (("train", 1), ("valid", 2), ("test", 2)):
        assert len((recipe / "data" / name / "wav.scp").read_text().splitlines()) == n
    assert "validate_data_dir.sh: data/valid: OK (2 utterances, 4 sources)" in proc.stdout
    missing = cr.run_recipe_script("musdb18/umx", "./run.sh", "--stage", "1", "--stop-stage",
                                   "1", cwd=str(recipe))
    assert missing.returncode == 1 and "stage 1 needs --musdb-dir" in missing.stderr
