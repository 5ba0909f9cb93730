"""The mini recipe's synthetic corpus (egs/mini/convtasnet/local/make_corpus.py).

A tiny corpus is synthesized twice with the same seed (and once with another seed)
and checked: byte-identical audio, voice- and sentence-disjoint splits, relative
levels within +-5 dB, mixtures cut to the shorter source and equal to s1 + s2,
sorted data-dir files.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "egs" / "mini" / "convtasnet"
SPLITS = ("train", "dev", "test")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    any(shutil.which(p) is None for p in ("sox", "espeak-ng", "flite", "festival")),
    reason="needs sox, espeak-ng, flite and festival (tools/install.sh)",
)]


def make(tmp: Path, seed: int = 0) -> tuple[Path, Path]:
    corpus, data = tmp / "corpus", tmp / "data"
    env = dict(os.environ, PYTHONPATH=str(ROOT), LC_ALL="C")
    subprocess.run(
        [sys.executable, str(RECIPE / "local" / "make_corpus.py"), "--nj", "2", "--seed",
         str(seed), "--train-utts", "24", "--dev-mixtures", "3", "--test-mixtures", "6",
         str(corpus), str(data)],
        check=True, env=env, capture_output=True,
    )
    return corpus, data


def digests(corpus: Path) -> dict[str, str]:
    return {
        str(p.relative_to(corpus)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(corpus.rglob("*")) if p.is_file()
    }


def tsv(path: Path) -> list[dict[str, str]]:
    lines = path.read_text().splitlines()
    head = lines[0].split("\t")
    return [dict(zip(head, line.split("\t"))) for line in lines[1:]]


def scp(path: Path) -> list[tuple[str, str]]:
    return [tuple(line.split(maxsplit=1)) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    a = make(tmp_path_factory.mktemp("a"))
    b = make(tmp_path_factory.mktemp("b"))
    c = make(tmp_path_factory.mktemp("c"), seed=1)
    return a, b, c


def test_same_seed_gives_identical_files(corpora):
    (ca, da), (cb, db), (cc, _) = corpora
    a, b = digests(ca), digests(cb)
    wavs = [k for k in a if k.endswith(".wav")]
    assert len(wavs) == 24 + 6 + 12 + 3 * (12 + 3 + 6)  # src + mix/s1/s2 (train: 12 pairs)
    assert a == b
    for s in SPLITS:  # data dirs differ only in the corpus path
        for f in ("wav.scp", "spk1.scp", "spk2.scp", "utt2spk", "utt2spks", "utt2num_samples"):
            ta = (da / s / f).read_text().replace(str(ca), "X")
            assert ta == (db / s / f).read_text().replace(str(cb), "X")
    assert digests(cc) != a  # another seed, other audio


def test_voices_disjoint_and_sentences_disjoint(corpora):
    corpus, data = corpora[0]
    voices = tsv(corpus / "voices.tsv")
    by_split = {s: {v["voice"] for v in voices if v["split"] == s} for s in SPLITS}
    assert not by_split["train"] & by_split["test"]
    assert not by_split["train"] & by_split["dev"]
    assert not by_split["dev"] & by_split["test"]
    synths = {s: {v["synth"] for v in voices if v["split"] == s} for s in SPLITS}
    assert synths["test"] == {"espeak", "flite", "festival"}
    assert len(by_split["train"]) >= 50 and len(by_split["test"]) >= 8
    texts = {}
    for s in SPLITS:
        utts = tsv(corpus / s / "utts.tsv")
        assert {u["voice"] for u in utts} <= by_split[s]
        texts[s] = [u["text"] for u in utts]
        assert len(set(texts[s])) == len(texts[s])
        # the data dir's speakers are voices of this split only
        for _, spks in scp(data / s / "utt2spks"):
            a, b = spks.split()
            assert a != b and {a, b} <= by_split[s]
    assert not set(texts["train"]) & set(texts["dev"])
    assert not set(texts["train"]) & set(texts["test"])
    assert not set(texts["dev"]) & set(texts["test"])
    warps = [float(u["warp"]) for s in SPLITS for u in tsv(corpus / s / "utts.tsv")]
    assert min(warps) >= 0.85 and max(warps) <= 1.2 and np.std(warps) > 0.05


def test_mixtures_levels_lengths(corpora):
    corpus, data = corpora[0]
    for s in SPLITS:
        src_len = {u["utt"]: int(u["num_samples"]) for u in tsv(corpus / s / "utts.tsv")}
        mixtures = tsv(corpus / s / "mixtures.tsv")
        lens = dict(scp(data / s / "utt2num_samples"))
        wav, s1, s2 = (dict(scp(data / s / f)) for f in ("wav.scp", "spk1.scp", "spk2.scp"))
        assert len(mixtures) == len(wav) > 0
        for m in mixtures:
            mid = m["mix"]
            x, sr = sf.read(wav[mid], dtype="int16")
            a, _ = sf.read(s1[mid], dtype="int16")
            b, _ = sf.read(s2[mid], dtype="int16")
            assert sr == 8000
            n = min(src_len[m["utt1"]], src_len[m["utt2"]])  # "min": cut to the shorter
            assert len(x) == len(a) == len(b) == n == int(lens[mid])
            assert np.array_equal(x.astype(np.int32), a.astype(np.int32) + b.astype(np.int32))
            level = 10 * math.log10(np.sum(a.astype(float) ** 2) / np.sum(b.astype(float) ** 2))
            assert abs(level) <= 5.0 + 0.05
            assert abs(level - float(m["level_db"])) < 0.05
            assert np.abs(x).max() <= 0.9 * 32768 + 2


def test_data_dirs_sorted_and_consistent(corpora):
    _, data = corpora[0]
    for s in SPLITS:
        ids = None
        for f in ("wav.scp", "spk1.scp", "spk2.scp", "utt2spk", "utt2spks", "utt2num_samples"):
            lines = (data / s / f).read_text().splitlines()
            keys = [line.split()[0] for line in lines]
            assert keys == sorted(keys, key=lambda k: k.encode()), f"{s}/{f} not sorted"
            ids = ids or keys
            assert keys == ids
        for utt, spk in scp(data / s / "utt2spk"):
            assert utt.startswith(spk + "_")
