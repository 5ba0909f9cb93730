"""wsj0-2mix / wsj0-3mix data prep on miniature replicas of the published layout."""

import os
import shutil

import helpers.corpus_replicas as cr
import pytest

PREP = "egs/wsj0_2mix/convtasnet/local/prepare_wsj0mix.py"


@pytest.fixture(scope="module")
def prep():
    return cr.load_script(PREP)


def check_data_dir(d, rep, split, num_spk, rate="8k", mode="min"):
    root = os.path.join(rep.root, f"wav{rate}", mode, split)
    names = sorted(rep.names[split], key=str.encode)
    assert cr.pairs(d / "wav.scp") == [(n, os.path.join(root, "mix", n + ".wav")) for n in names]
    for k in range(1, num_spk + 1):
        assert cr.pairs(d / f"spk{k}.scp") == [
            (n, os.path.join(root, f"s{k}", n + ".wav")) for n in names
        ]
    assert cr.pairs(d / "utt2spk") == [(n, n[:3]) for n in names]
    assert cr.pairs(d / "utt2num_samples") == [(n, str(rep.lengths[split][n])) for n in names]
    assert cr.lines(d / "sources") == [" ".join(f"spk{k}" for k in range(1, num_spk + 1))]
    assert not (d / "noise1.scp").exists()
    for f in ["wav.scp", "utt2spk", "utt2num_samples"] + [f"spk{k}.scp" for k in range(1, 3)]:
        cr.assert_c_sorted(d / f)


def test_wsj0_2mix_all_sets(tmp_path, prep, capsys):
    rep = cr.wsj0mix(str(tmp_path / "corpus"), num_spk=2, counts={"tr": 5, "cv": 3, "tt": 2})
    assert prep.main([rep.root, str(tmp_path / "data")]) == 0
    err = capsys.readouterr().err
    for split, n in [("tr", 5), ("cv", 3), ("tt", 2)]:
        check_data_dir(tmp_path / "data" / split, rep, split, 2)
        published = {"tr": 20000, "cv": 5000, "tt": 3000}[split]
        assert (f"warning: {rep.root}/wav8k/min/{split}/mix: found {n} mixtures, the published "
                f"wsj0-2mix {split} set has {published} (partial corpus?)") in err
    # the first utterance's speaker is the speaker of s1: the name's first 3 characters
    name = cr.lines(tmp_path / "data/tr/utt2spk")[0].split()[0]
    assert name.split("_")[0][:3] == cr.lines(tmp_path / "data/tr/utt2spk")[0].split()[1]


def test_wsj0_3mix_16k_max_from_parent_folder(tmp_path, prep):
    rep = cr.wsj0mix(str(tmp_path / "corpus"), num_spk=3, rate="16k", mode="max",
                     counts={"tt": 3})
    parent = os.path.dirname(rep.root)  # the folder holding 3speakers/
    args = ["--num-sources", "3", "--sample-rate", "16k", "--mode", "max", "--sets", "tt"]
    assert prep.main([*args, parent, str(tmp_path / "data")]) == 0
    check_data_dir(tmp_path / "data/tt", rep, "tt", 3, "16k", "max")
    assert cr.lines(tmp_path / "data/tt/spk3.scp")[0].endswith(".wav")
    assert not (tmp_path / "data/tr").exists()
    name = cr.lines(tmp_path / "data/tt/wav.scp")[0].split()[0]
    assert len(name.split("_")) == 6


def test_missing_folder_is_an_error_naming_the_expected_path(tmp_path, prep, capsys):
    rep = cr.wsj0mix(str(tmp_path / "corpus"), counts={"tr": 2, "cv": 1, "tt": 1})
    shutil.rmtree(os.path.join(rep.root, "wav8k/min/cv/s2"))
    assert prep.main([rep.root, str(tmp_path / "data")]) == 1
    err = capsys.readouterr().err
    assert f"error: {rep.root}/wav8k/min/cv/s2: folder not found" in err
    # wrong sample rate: names the folder it expected
    assert prep.main(["--sample-rate", "16k", rep.root, str(tmp_path / "d2")]) == 1
    err = capsys.readouterr().err
    assert f"error: {rep.root}/wav16k/min: folder not found" in err


def test_empty_folder_is_an_error(tmp_path, prep, capsys):
    rep = cr.wsj0mix(str(tmp_path / "corpus"), counts={"tr": 2, "cv": 1, "tt": 1})
    mix = os.path.join(rep.root, "wav8k/min/tt/mix")
    for f in os.listdir(mix):
        os.remove(os.path.join(mix, f))
    assert prep.main([rep.root, str(tmp_path / "data")]) == 1
    assert f"error: {mix}: no .wav files" in capsys.readouterr().err


def test_missing_source_file_names_it(tmp_path, prep, capsys):
    rep = cr.wsj0mix(str(tmp_path / "corpus"), counts={"tt": 3})
    name = rep.names["tt"][1]
    os.remove(os.path.join(rep.root, "wav8k/min/tt/s1", name + ".wav"))
    assert prep.main(["--sets", "tt", rep.root, str(tmp_path / "data")]) == 1
    err = capsys.readouterr().err
    assert f"error: {rep.root}/wav8k/min/tt/s1/{name}.wav: not found, but its mixture" in err


def test_bad_name_and_wrong_rate_are_errors(tmp_path, prep, capsys):
    rep = cr.wsj0mix(str(tmp_path / "corpus"), counts={"tt": 2})
    tt = os.path.join(rep.root, "wav8k/min/tt")
    for folder in ("mix", "s1", "s2"):
        shutil.copy(os.path.join(tt, folder, rep.names["tt"][0] + ".wav"),
                    os.path.join(tt, folder, "not_a_wsj0_name.wav"))
    assert prep.main(["--sets", "tt", rep.root, str(tmp_path / "data")]) == 1
    assert "not_a_wsj0_name.wav: file name does not follow the wsj0-2mix naming" in (
        capsys.readouterr().err)
    rep16 = cr.wsj0mix(str(tmp_path / "c16"), rate="16k", counts={"tt": 1})
    os.rename(os.path.join(rep16.root, "wav16k"), os.path.join(rep16.root, "wav8k"))
    assert prep.main(["--sets", "tt", rep16.root, str(tmp_path / "d16")]) == 1
    assert "sample rate 16000 Hz, expected 8000 Hz for wav8k" in capsys.readouterr().err


@pytest.mark.slow
def test_prepare_data_sh_runs_once(tmp_path):
    rep = cr.wsj0mix(str(tmp_path / "corpus"), num_spk=3, counts={"tr": 2, "cv": 1, "tt": 1})
    data = str(tmp_path / "data")
    runs = [
        cr.run_recipe_script(recipe, "local/prepare_data.sh", "--num-sources", "3", rep.root, data)
        for recipe in ("wsj0_3mix/convtasnet", "wsj0_3mix/dprnn")
    ]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr + runs[1].stderr
    assert "found 2 mixtures, the published wsj0-3mix tr set has 20000" in runs[0].stderr
    r = runs[1]
    assert "already prepared" in r.stdout  # the second call skipped the work
    check_data_dir(tmp_path / "data/tr", rep, "tr", 3)
    bad = cr.run_recipe_script("wsj0_2mix/convtasnet", "local/prepare_data.sh",
                               str(tmp_path / "nowhere"), data)
    assert bad.returncode == 1
    assert f"{tmp_path}/nowhere/wav8k/min: folder not found" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_reads_no_source_audio(tmp_path, prep):
    """Only the mixtures' headers are read: unreadable source files do not matter here."""
    rep = cr.wsj0mix(str(tmp_path / "corpus"), counts={"tt": 2})
    for k in (1, 2):
        folder = os.path.join(rep.root, f"wav8k/min/tt/s{k}")
        for f in os.listdir(folder):
            with open(os.path.join(folder, f), "wb") as fh:
                fh.write(b"not audio")
    assert prep.main(["--sets", "tt", rep.root, str(tmp_path / "data")]) == 0
    check_data_dir(tmp_path / "data/tt", rep, "tt", 2)
