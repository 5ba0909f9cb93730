"""Every corpus recipe's run.sh, stages 1-5, on a miniature replica of its corpus.

Each recipe runs in a scratch copy (symlinks to the real run.sh, cmd.sh, conf/,
local/, steps/, utils/, path.sh) so data/ and exp/ land in tmp_path, with the real
conf/*.yaml and a tiny model through --train-opts. Between them the eleven runs cover
2 and 3 speakers, every corpus' layout, a noise task, an enhancement task, WHAMR!
reverberant input, LibriMix train-100, 16 kHz and max mode, and each model.
"""

from __future__ import annotations

import json
import os

import helpers.corpus_replicas as cr
import pytest
import soundfile as sf
from helpers.configs import TINY_CONVTASNET, TINY_DPRNN, TINY_SUDORMRF, as_overrides

TINY = {"convtasnet": as_overrides(TINY_CONVTASNET), "dprnn": as_overrides(TINY_DPRNN),
        "sudormrf": as_overrides(TINY_SUDORMRF)}
COMMON = "--training.max_epochs 1 --training.batch_size 2 --data.segment 0.25 --data.num_workers 0"

# recipe, corpus option, extra run.sh options, data name, default tag, test set, sources
CASES = [
    ("wsj0_2mix/convtasnet", "wsj2", [], "8k_min", "convtasnet_8k_min", "tt", "spk1 spk2"),
    ("wsj0_2mix/dprnn", "wsj2_16k", ["--sample-rate", "16k", "--mode", "max"], "16k_max",
     "dprnn_ks16_16k_max", "tt", "spk1 spk2"),
    ("wsj0_3mix/convtasnet", "wsj3", [], "8k_min", "convtasnet_8k_min", "tt", "spk1 spk2 spk3"),
    ("wsj0_3mix/dprnn", "wsj3", [], "8k_min", "dprnn_ks16_8k_min", "tt", "spk1 spk2 spk3"),
    ("wham/convtasnet", "wham", [], "sep_clean_8k_min", "convtasnet_sep_clean_8k_min", "tt",
     "spk1 spk2"),
    ("wham/dprnn", "wham", ["--task", "enh_single"], "enh_single_8k_min",
     "dprnn_ks16_enh_single_8k_min", "tt", "speech"),
    ("whamr/convtasnet", "whamr", [], "sep_noisy_reverb_8k_min",
     "convtasnet_sep_noisy_reverb_8k_min", "tt", "spk1 spk2"),
    ("whamr/dprnn", "whamr", ["--task", "sep_clean_anechoic", "--conf", "conf/train_ks2.yaml"],
     "sep_clean_anechoic_8k_min", "dprnn_ks2_sep_clean_anechoic_8k_min", "tt", "spk1 spk2"),
    ("librimix/convtasnet", "libri", [], "libri2mix_sep_clean_8k_min",
     "convtasnet_libri2mix_sep_clean_train-360_8k_min", "test", "spk1 spk2"),
    ("librimix/dprnn", "libri", ["--task", "sep_noisy", "--train-set", "train-100"],
     "libri2mix_sep_noisy_8k_min", "dprnn_ks16_libri2mix_sep_noisy_train-100_8k_min", "test",
     "spk1 spk2"),
    ("wham/sudormrf", "wham", ["--task", "sep_noisy"], "sep_noisy_8k_min",
     "sudormrf_sep_noisy_8k_min", "tt", "spk1 spk2"),
]

CORPUS_OPTION = {"wsj0_2mix": "--wsj0-2mix-dir", "wsj0_3mix": "--wsj0-3mix-dir",
                 "wham": "--wham-dir", "whamr": "--whamr-dir", "librimix": "--librimix-dir"}


@pytest.fixture(scope="module")
def replicas(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("corpora"))
    built = {}

    def get(key):
        if key not in built:
            d = os.path.join(base, key)
            built[key] = {
                "wsj2": lambda: cr.wsj0mix(d, 2),
                "wsj2_16k": lambda: cr.wsj0mix(d, 2, rate="16k", mode="max"),
                "wsj3": lambda: cr.wsj0mix(d, 3),
                "wham": lambda: cr.wham(d),
                "whamr": lambda: cr.wham(d, reverb=True),
                "libri": lambda: cr.librimix(
                    d, counts={"train-360": 4, "train-100": 4, "dev": 2, "test": 2}),
            }[key]()
        return built[key]

    return get


def scratch_recipe(recipe: str, where) -> str:
    """A recipe dir whose files are symlinks to the real ones: data/ and exp/ stay here."""
    src = cr.REPO / "egs" / recipe
    dst = where / recipe.replace("/", "_")
    dst.mkdir()
    for name in ("run.sh", "cmd.sh", "conf", "local", "steps", "utils", "path.sh"):
        os.symlink(os.path.realpath(src / name), dst / name)
    return str(dst)


@pytest.mark.parametrize("recipe,corpus,opts,name,tag,test_set,sources", CASES,
                         ids=[c[0] for c in CASES])
@pytest.mark.slow
def test_recipe_stages_1_to_5(tmp_path, replicas, recipe, corpus, opts, name, tag, test_set,
                              sources):
    rep = replicas(corpus)
    d = scratch_recipe(recipe, tmp_path)
    model = recipe.split("/")[1]
    args = ["./run.sh", CORPUS_OPTION[recipe.split("/")[0]], rep.root, *opts,
            "--stage", "1", "--stop-stage", "5", "--nj", "1",
            "--train-opts", f"{TINY[model]} {COMMON}", "--score-opts", "--metrics si_sdr"]
    r = cr.run_recipe_script("", *args, timeout=300, cwd=d)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "partial corpus?" in r.stderr  # the replica is tiny: a warning, not an error

    data = os.path.join(d, "data", name, test_set)
    ids = sorted(rep.names[test_set], key=str.encode)
    assert [u for u, _ in cr.pairs(os.path.join(data, "wav.scp"))] == ids
    assert cr.lines(os.path.join(data, "sources")) == [sources]
    exp = os.path.join(d, "exp", tag)
    assert os.path.isfile(os.path.join(exp, ".train.done"))
    assert os.path.isfile(os.path.join(exp, "model.pt"))
    sep = os.path.join(exp, "separate", test_set)
    assert cr.lines(os.path.join(sep, "sources")) == [sources]
    lengths = dict(cr.pairs(os.path.join(data, "utt2num_samples")))
    for k in range(1, len(sources.split()) + 1):
        est = cr.pairs(os.path.join(sep, f"spk{k}.scp"))
        assert [u for u, _ in est] == ids
        for utt, path in est:
            path = path if os.path.isabs(path) else os.path.join(d, path)
            assert sf.info(path).frames == int(lengths[utt])
    summary = json.load(open(os.path.join(sep, "scores", "summary.json")))
    assert summary["num_utts"] == len(ids)
    assert summary["sources"] == sources.split()
    assert os.path.isfile(os.path.join(sep, "scores", "RESULTS.md"))


def test_run_sh_help_and_missing_corpus_option(tmp_path):
    d = scratch_recipe("wham/convtasnet", tmp_path)
    r = cr.run_recipe_script("", "./run.sh", "--help", cwd=d)
    assert r.returncode == 0
    assert "Usage: ./run.sh [options]" in r.stdout and "--wham-dir" in r.stdout
    # the template's options follow the recipe's own (egs/TEMPLATE/sep.sh)
    for option in ("--train-set", "--valid-set", "--test-sets", "--conf", "--tag", "--train-opts",
                   "--separate-opts", "--score-opts", "--nj", "--ngpu", "--force", "--stop-stage"):
        assert option in r.stdout.split("Options of every recipe:")[1], option
    assert "set -euo pipefail" not in r.stdout
    r = cr.run_recipe_script("", "./run.sh", "--stage", "1", "--stop-stage", "1", cwd=d)
    assert r.returncode == 1 and "stage 1 needs --wham-dir" in r.stderr
    r = cr.run_recipe_script("", "./run.sh", "--sample-rate", "44k", cwd=d)
    assert r.returncode == 1 and "--sample-rate must be 8k or 16k" in r.stderr


# each model's configs and their sizes (2 sources)
CONF_PARAMS = {"convtasnet": {"train.yaml": 4_984_881},
               "dprnn": {"train_ks16.yaml": 3_652_865, "train_ks2.yaml": 3_651_073},
               "sudormrf": {"train.yaml": 2_630_801}}


@pytest.mark.parametrize("recipe", [f"{corpus}/{model}" for corpus in CORPUS_OPTION
                                    for model in CONF_PARAMS])
def test_every_published_conf_loads_and_builds(recipe):
    """Each conf/*.yaml is a valid training config whose model has the published size."""
    from sepcore.config import load_config
    from sepcore.models import build_model, count_parameters

    sizes = CONF_PARAMS[recipe.split("/")[1]]
    confs = sorted(os.listdir(cr.REPO / "egs" / recipe / "conf"))
    assert confs == sorted(sizes)
    for conf in confs:
        cfg = load_config(cr.REPO / "egs" / recipe / "conf" / conf)
        assert "num_sources" not in cfg["model"]  # taken from the data dir (2, 3 or 1)
        assert cfg["optim"]["lr"] == 1e-3 and cfg["optim"]["clip_grad_norm"] == 5.0
        assert cfg["scheduler"] == {"name": "plateau", "factor": 0.5, "patience": 5,
                                    "min_lr": 1e-8, "hold_fraction": 0.0}
        assert cfg["early_stop"]["patience"] == 30 and cfg["training"]["max_epochs"] == 200
        model = build_model({**cfg["model"], "num_sources": 2})
        assert count_parameters(model) == sizes[conf]
    if recipe.endswith("dprnn"):
        ks2 = load_config(cr.REPO / "egs" / recipe / "conf" / "train_ks2.yaml")
        assert ks2["data"]["segment"] == 2.0 and ks2["model"]["chunk_size"] == 250
