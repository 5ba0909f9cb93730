"""LibriMix data prep on miniature replicas whose CSVs point into another (old) root."""

import csv
import os
import shutil

import helpers.corpus_replicas as cr
import pytest

PREP = "egs/librimix/convtasnet/local/prepare_librimix.py"


@pytest.fixture(scope="module")
def prep():
    return cr.load_script(PREP)


@pytest.fixture(scope="module")
def rep2(tmp_path_factory):
    return cr.librimix(str(tmp_path_factory.mktemp("lm")), n_src=2,
                       counts={"train-360": 4, "train-100": 2, "dev": 2, "test": 3})


def check(d, rep, subset, mix, refs, names, noise, rate="8k", mode="min"):
    root = os.path.join(rep.root, f"wav{rate}", mode, subset)
    ids = sorted(rep.names[subset], key=str.encode)
    assert cr.pairs(d / "wav.scp") == [(n, f"{root}/{mix}/{n}.wav") for n in ids]
    for k, ref in enumerate(refs, 1):
        assert cr.pairs(d / f"spk{k}.scp") == [(n, f"{root}/{ref}/{n}.wav") for n in ids]
    assert not (d / f"spk{len(refs) + 1}.scp").exists()
    if noise:
        assert cr.pairs(d / "noise1.scp") == [(n, f"{root}/noise/{n}.wav") for n in ids]
    else:
        assert not (d / "noise1.scp").exists()
    # the speaker of the first LibriSpeech utterance: 4077-13754-0001_... -> 4077
    assert cr.pairs(d / "utt2spk") == [(n, n.split("-")[0]) for n in ids]
    assert cr.pairs(d / "utt2num_samples") == [(n, str(rep.lengths[subset][n])) for n in ids]
    assert cr.lines(d / "sources") == [names]
    for f in os.listdir(d):
        if f != "sources":
            cr.assert_c_sorted(d / f)


CASES = [
    ("sep_clean", "mix_clean", ["s1", "s2"], "spk1 spk2", False),
    ("sep_noisy", "mix_both", ["s1", "s2"], "spk1 spk2", True),
    ("enh_single", "mix_single", ["s1"], "speech", True),
]


@pytest.mark.parametrize("task,mix,refs,names,noise", CASES)
def test_libri2mix_tasks_from_moved_corpus(tmp_path, prep, rep2, capsys, task, mix, refs, names,
                                           noise):
    # the CSVs point to /gone/corpora/...: resolved relative to the corpus root
    csv_path = os.path.join(rep2.root, f"wav8k/min/metadata/mixture_dev_{mix}.csv")
    assert "/gone/corpora/LibriMix/Libri2Mix/wav8k/min/dev/" in open(csv_path).read()
    assert prep.main(["--task", task, rep2.root, str(tmp_path)]) == 0
    for subset in ("train-360", "dev", "test"):
        check(tmp_path / subset, rep2, subset, mix, refs, names, noise)
    assert not (tmp_path / "train-100").exists()
    err = capsys.readouterr().err
    for subset, n, published in [("train-360", 4, 50800), ("dev", 2, 3000), ("test", 3, 3000)]:
        assert (f"warning: {rep2.root}/wav8k/min/{subset}/{mix}: found {n} mixtures, the "
                f"published Libri2Mix {subset} set has {published} (partial corpus?)") in err


def test_train_100_and_parent_folder(tmp_path, prep, rep2, capsys):
    parent = os.path.dirname(rep2.root)
    assert prep.main(["--sets", "train-100", parent, str(tmp_path)]) == 0
    check(tmp_path / "train-100", rep2, "train-100", "mix_clean", ["s1", "s2"], "spk1 spk2", False)
    assert "the published Libri2Mix train-100 set has 13900" in capsys.readouterr().err


def test_libri3mix_16k_max(tmp_path, prep):
    rep = cr.librimix(str(tmp_path / "c"), n_src=3, rate="16k", mode="max", counts={"dev": 2})
    args = ["--num-sources", "3", "--sample-rate", "16k", "--mode", "max", "--sets", "dev"]
    assert prep.main([*args, "--task", "sep_noisy", rep.root, str(tmp_path / "d")]) == 0
    check(tmp_path / "d/dev", rep, "dev", "mix_both", ["s1", "s2", "s3"], "spk1 spk2 spk3",
          True, "16k", "max")
    assert len(cr.lines(tmp_path / "d/dev/wav.scp")[0].split()[0].split("_")) == 3


def test_partial_corpus_skips_absent_mixtures_with_a_warning(tmp_path, prep, capsys):
    rep = cr.librimix(str(tmp_path / "c"), counts={"test": 4})
    gone = sorted(rep.names["test"], key=str.encode)[1]
    for folder in ("mix_clean", "s1", "s2"):
        os.remove(os.path.join(rep.root, "wav8k/min/test", folder, gone + ".wav"))
    assert prep.main(["--sets", "test", rep.root, str(tmp_path / "d")]) == 0
    err = capsys.readouterr().err
    assert ("mixture_test_mix_clean.csv: 1 of 4 listed mixtures not found in "
            f"{rep.root}/wav8k/min/test/mix_clean") in err
    assert "found 3 mixtures, the published Libri2Mix test set has 3000" in err
    ids = [u for u, _ in cr.pairs(tmp_path / "d/test/wav.scp")]
    assert ids == [n for n in sorted(rep.names["test"], key=str.encode) if n != gone]
    assert [u for u, _ in cr.pairs(tmp_path / "d/test/spk2.scp")] == ids


def test_missing_things_are_errors_naming_the_path(tmp_path, prep, capsys):
    rep = cr.librimix(str(tmp_path / "c"), counts={"dev": 2})
    root = os.path.join(rep.root, "wav8k/min")
    d = str(tmp_path / "d")
    # a missing CSV (subset never generated)
    assert prep.main(["--sets", "test", rep.root, d]) == 1
    assert f"error: {root}/metadata/mixture_test_mix_clean.csv: metadata file not found" in (
        capsys.readouterr().err)
    # a source file missing while its mixture exists
    name = rep.names["dev"][0]
    os.remove(os.path.join(root, "dev/s2", name + ".wav"))
    assert prep.main(["--sets", "dev", rep.root, d]) == 1
    err = capsys.readouterr().err
    assert "mixture_dev_mix_clean.csv:" in err and f"{root}/dev/s2/{name}.wav" in err
    assert "but its mixture" in err
    # a missing source folder
    shutil.rmtree(os.path.join(root, "dev/s2"))
    assert prep.main(["--sets", "dev", rep.root, d]) == 1
    assert f"error: {root}/dev/s2: folder not found" in capsys.readouterr().err
    # an empty mixture folder
    mixdir = os.path.join(root, "dev/mix_clean")
    for f in os.listdir(mixdir):
        os.remove(os.path.join(mixdir, f))
    assert prep.main(["--sets", "dev", rep.root, d]) == 1
    assert f"error: {mixdir}: none of the 2 mixtures listed" in capsys.readouterr().err
    shutil.rmtree(mixdir)
    assert prep.main(["--sets", "dev", rep.root, d]) == 1
    assert f"error: {mixdir}: folder not found" in capsys.readouterr().err
    # the corpus root itself
    assert prep.main(["--mode", "max", rep.root, d]) == 1
    assert f"error: {rep.root}/wav8k/max: folder not found" in capsys.readouterr().err


def test_csv_length_mismatch_warns_and_uses_the_header(tmp_path, prep, capsys):
    rep = cr.librimix(str(tmp_path / "c"), counts={"dev": 2})
    path = os.path.join(rep.root, "wav8k/min/metadata/mixture_dev_mix_clean.csv")
    rows = list(csv.reader(open(path)))
    rows[1][-1] = str(int(rows[1][-1]) + 5)
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    assert prep.main(["--sets", "dev", rep.root, str(tmp_path / "d")]) == 0
    assert "1 mixture(s) differ in length from the CSV, e.g. " in capsys.readouterr().err
    check(tmp_path / "d/dev", rep, "dev", "mix_clean", ["s1", "s2"], "spk1 spk2", False)


def test_prepare_data_sh(tmp_path, rep2):
    data = str(tmp_path / "data")
    args = ["local/prepare_data.sh", "--task", "enh_single", "--sets", "dev,test", rep2.root, data]
    r = cr.run_recipe_script("librimix/dprnn", *args)
    assert r.returncode == 0, r.stderr
    check(tmp_path / "data/test", rep2, "test", "mix_single", ["s1"], "speech", True)
    r = cr.run_recipe_script("librimix/convtasnet", *args)
    assert r.returncode == 0 and "already prepared" in r.stdout


def test_reads_no_source_or_noise_audio(tmp_path, prep):
    rep = cr.librimix(str(tmp_path / "c"), counts={"dev": 2})
    for folder in ("s1", "s2", "noise"):
        path = os.path.join(rep.root, "wav8k/min/dev", folder)
        for f in os.listdir(path):
            with open(os.path.join(path, f), "wb") as fh:
                fh.write(b"not audio")
    assert prep.main(["--task", "sep_noisy", "--sets", "dev", rep.root, str(tmp_path / "d")]) == 0
    check(tmp_path / "d/dev", rep, "dev", "mix_both", ["s1", "s2"], "spk1 spk2", True)
