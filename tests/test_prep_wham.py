"""WHAM! / WHAMR! data prep (all tasks) on miniature replicas of the published layouts."""

import os
import shutil

import helpers.corpus_replicas as cr
import pytest

PREP = "egs/wham/convtasnet/local/prepare_wham.py"


@pytest.fixture(scope="module")
def prep():
    return cr.load_script(PREP)


@pytest.fixture(scope="module")
def wham_rep(tmp_path_factory):
    return cr.wham(str(tmp_path_factory.mktemp("wham")), counts={"tr": 4, "cv": 2, "tt": 3})


@pytest.fixture(scope="module")
def whamr_rep(tmp_path_factory):
    return cr.wham(str(tmp_path_factory.mktemp("whamr")), reverb=True, counts={"tr": 3, "tt": 2})


def check(d, rep, split, mix, refs, names, noise):
    root = os.path.join(rep.root, "wav8k/min", split)
    ids = sorted(rep.names[split], key=str.encode)
    assert cr.pairs(d / "wav.scp") == [(n, f"{root}/{mix}/{n}.wav") for n in ids]
    for k, ref in enumerate(refs, 1):
        assert cr.pairs(d / f"spk{k}.scp") == [(n, f"{root}/{ref}/{n}.wav") for n in ids]
    assert not (d / f"spk{len(refs) + 1}.scp").exists()
    if noise:
        assert cr.pairs(d / "noise1.scp") == [(n, f"{root}/noise/{n}.wav") for n in ids]
    else:
        assert not (d / "noise1.scp").exists()
    assert cr.pairs(d / "utt2spk") == [(n, n[:3]) for n in ids]
    assert cr.pairs(d / "utt2num_samples") == [(n, str(rep.lengths[split][n])) for n in ids]
    assert cr.lines(d / "sources") == [names]
    for f in os.listdir(d):
        if f != "sources":
            cr.assert_c_sorted(d / f)


WHAM_CASES = [
    ("sep_clean", "mix_clean", ["s1", "s2"], "spk1 spk2", False),
    ("sep_noisy", "mix_both", ["s1", "s2"], "spk1 spk2", True),
    ("enh_single", "mix_single", ["s1"], "speech", True),
    ("enh_both", "mix_both", ["mix_clean"], "speech", True),
]


@pytest.mark.parametrize("task,mix,refs,names,noise", WHAM_CASES)
def test_wham_tasks(tmp_path, prep, wham_rep, capsys, task, mix, refs, names, noise):
    assert prep.main(["--task", task, wham_rep.root, str(tmp_path)]) == 0
    for split in ("tr", "cv", "tt"):
        check(tmp_path / split, wham_rep, split, mix, refs, names, noise)
    err = capsys.readouterr().err
    assert (f"warning: {wham_rep.root}/wav8k/min/tt/{mix}: found 3 mixtures, the published "
            f"WHAM! tt set has 3000 (partial corpus?)") in err


@pytest.mark.parametrize("cond", ["anechoic", "reverb"])
@pytest.mark.parametrize("task,mix,refs,names,noise", WHAM_CASES)
def test_whamr_tasks_target_anechoic_sources(tmp_path, prep, whamr_rep, task, mix, refs, names,
                                             noise, cond):
    args = ["--reverb", "--task", f"{task}_{cond}", "--sets", "tr,tt"]
    assert prep.main([*args, whamr_rep.root, str(tmp_path)]) == 0
    for split in ("tr", "tt"):
        check(tmp_path / split, whamr_rep, split, f"{mix}_{cond}",
              [f"{r}_anechoic" for r in refs], names, noise)


def test_rerun_with_clean_task_drops_stale_noise(tmp_path, prep, wham_rep):
    assert prep.main(["--task", "sep_noisy", "--sets", "tt", wham_rep.root, str(tmp_path)]) == 0
    assert (tmp_path / "tt/noise1.scp").exists()
    assert prep.main(["--task", "sep_clean", "--sets", "tt", wham_rep.root, str(tmp_path)]) == 0
    assert not (tmp_path / "tt/noise1.scp").exists()


def test_unknown_task_lists_the_tasks(tmp_path, prep, wham_rep, capsys):
    assert prep.main(["--task", "sep_clean_reverb", wham_rep.root, str(tmp_path)]) == 1
    assert ("error: --task: unknown WHAM! task 'sep_clean_reverb'; expected one of sep_clean, "
            "sep_noisy, enh_single, enh_both") in capsys.readouterr().err
    assert prep.main(["--reverb", "--task", "sep_clean", wham_rep.root, str(tmp_path)]) == 1
    assert "unknown WHAMR! task 'sep_clean'" in capsys.readouterr().err


def test_wham_corpus_given_as_whamr_is_missing_folder_error(tmp_path, prep, wham_rep, capsys):
    assert prep.main(["--reverb", "--sets", "tt", wham_rep.root, str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"error: {wham_rep.root}/wav8k/min/tt/mix_clean_anechoic: folder not found" in err


def test_missing_noise_folder_and_file(tmp_path, prep, capsys):
    rep = cr.wham(str(tmp_path / "c"), counts={"cv": 2})
    noise = os.path.join(rep.root, "wav8k/min/cv/noise")
    name = rep.names["cv"][0]
    os.remove(os.path.join(noise, name + ".wav"))
    assert prep.main(["--task", "sep_noisy", "--sets", "cv", rep.root, str(tmp_path / "d")]) == 1
    assert f"error: {noise}/{name}.wav: not found, but its mixture" in capsys.readouterr().err
    # sep_clean needs no noise: fine
    assert prep.main(["--task", "sep_clean", "--sets", "cv", rep.root, str(tmp_path / "d")]) == 0
    shutil.rmtree(noise)
    assert prep.main(["--task", "enh_single", "--sets", "cv", rep.root, str(tmp_path / "d")]) == 1
    assert f"error: {noise}: folder not found" in capsys.readouterr().err
    assert prep.main(["--sample-rate", "16k", rep.root, str(tmp_path / "d")]) == 1
    assert f"error: {rep.root}/wav16k/min: folder not found" in capsys.readouterr().err


def test_prepare_data_sh_whamr(tmp_path, whamr_rep):
    data = str(tmp_path / "data")
    r = cr.run_recipe_script("whamr/dprnn", "local/prepare_data.sh", "--reverb", "true",
                             "--task", "sep_noisy_reverb", "--sets", "tr,tt", whamr_rep.root, data)
    assert r.returncode == 0, r.stderr
    assert "the published WHAMR! tr set has 20000" in r.stderr
    check(tmp_path / "data/tt", whamr_rep, "tt", "mix_both_reverb",
          ["s1_anechoic", "s2_anechoic"], "spk1 spk2", True)
    r = cr.run_recipe_script("wham/convtasnet", "local/prepare_data.sh", "--help")
    assert r.returncode == 0 and "Usage: local/prepare_data.sh" in r.stdout


def test_reads_no_reference_audio(tmp_path, prep):
    rep = cr.wham(str(tmp_path / "c"), counts={"cv": 2})
    for folder in ("s1", "noise", "mix_clean"):
        path = os.path.join(rep.root, "wav8k/min/cv", folder)
        for f in os.listdir(path):
            with open(os.path.join(path, f), "wb") as fh:
                fh.write(b"not audio")
    assert prep.main(["--task", "enh_both", "--sets", "cv", rep.root, str(tmp_path / "d")]) == 0
    check(tmp_path / "d/cv", rep, "cv", "mix_both", ["mix_clean"], "speech", True)
