"""Speech metrics against their reference implementations, and tests that must fail on bugs.

mir_eval (BSS Eval v3 bss_eval_sources), pystoi and pesq are the references; signals are
random (white and coloured) and speech-like (sepcore.metrics.synth), 1-2 s long.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.signal

from sepcore.metrics import (
    best_permutation,
    compute_metrics,
    parse_metrics,
    score_utterance,
    si_sdr,
)
from sepcore.metrics.bss_eval import bss_eval_sources, bss_eval_sources_pairwise
from sepcore.metrics.synth import speech_like

mir_eval = pytest.importorskip("mir_eval")


def mir_eval_sources(refs, ests, compute_permutation=True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mir_eval.separation.bss_eval_sources(refs, ests, compute_permutation)


def random_case(seed, n_src=2, seconds=1.0, sr=8000, kind="white"):
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    if kind == "speech":
        refs = np.stack([speech_like(seconds, sr, seed * 10 + k) for k in range(n_src)])
    else:
        refs = rng.standard_normal((n_src, n))
        if kind == "coloured":
            refs = scipy.signal.lfilter([1.0], [1.0, -0.85], refs, axis=1)
    mixing = np.eye(n_src) + rng.uniform(0.05, 0.4, (n_src, n_src)) * (1 - np.eye(n_src))
    ests = mixing @ refs
    ests = ests + 0.05 * np.std(refs) * rng.standard_normal(ests.shape)
    # a little filtering distortion, which BSS Eval's 512-tap filter absorbs
    ests = scipy.signal.lfilter([1.0, 0.3], [1.0], ests, axis=1)
    noise = 0.02 * np.std(refs) * rng.standard_normal(n)
    mix = refs.sum(0) + noise
    return refs, ests, mix


@pytest.mark.parametrize("kind,n_src,seed", [
    ("white", 2, 0), ("coloured", 2, 1), ("speech", 2, 2), ("white", 3, 3), ("speech", 3, 4),
])
@pytest.mark.slow
def test_bss_eval_equals_mir_eval(kind, n_src, seed):
    refs, ests, _ = random_case(seed, n_src, kind=kind)
    shuffle = np.random.default_rng(seed).permutation(n_src)
    ests = ests[shuffle]
    sdr, sir, sar, perm = mir_eval_sources(refs, ests)
    mine = compute_metrics(ests, refs, None, 8000, "si_sdr,sdr,sir,sar")
    # our permutation (best mean SI-SDR) is mir_eval's (best mean SIR) on such outputs
    assert [d["estimate"] for d in mine] == list(perm)
    assert [d["estimate"] for d in mine] == list(np.argsort(shuffle))
    for j in range(n_src):
        assert mine[j]["sdr"] == pytest.approx(sdr[j], abs=0.01)
        assert mine[j]["sir"] == pytest.approx(sir[j], abs=0.01)
        assert mine[j]["sar"] == pytest.approx(sar[j], abs=0.01)
    # and far tighter than required
    a = np.array(bss_eval_sources(refs, ests, perm))
    assert np.max(np.abs(a - np.array([sdr, sir, sar]))) < 1e-6


@pytest.mark.slow
def test_pairwise_equals_mir_eval_every_pair():
    refs, ests, _ = random_case(5, 2, kind="coloured")
    pw = bss_eval_sources_pairwise(refs, ests)
    for k in range(2):
        for j in range(2):
            e = ests[[k, 1 - k]] if j == 0 else ests[[1 - k, k]]
            sdr, sir, sar, _ = mir_eval_sources(refs, e, compute_permutation=False)
            assert pw[:, k, j] == pytest.approx([sdr[j], sir[j], sar[j]], abs=1e-6)


@pytest.mark.slow
def test_mixture_input_scores_equal_mir_eval():
    refs, ests, mix = random_case(6, 2, kind="speech")
    res = compute_metrics(ests, refs, mix, 8000, "sdr,sir,sar")
    sdr, sir, sar, _ = mir_eval_sources(refs, np.stack([mix, mix]), compute_permutation=False)
    for j in range(2):
        assert res[j]["input_sdr"] == pytest.approx(sdr[j], abs=0.01)
        assert res[j]["input_sir"] == pytest.approx(sir[j], abs=0.01)
        assert res[j]["input_sar"] == pytest.approx(sar[j], abs=0.01)
        assert res[j]["sdr_i"] == pytest.approx(res[j]["sdr"] - res[j]["input_sdr"])


def test_si_sdr_definition():
    rng = np.random.default_rng(0)
    ref = rng.standard_normal(4000)
    est = ref + 0.1 * rng.standard_normal(4000)
    ref, est = ref - ref.mean(), est - est.mean()
    alpha = est @ ref / (ref @ ref)
    expect = 10 * np.log10(np.sum((alpha * ref) ** 2) / np.sum((est - alpha * ref) ** 2))
    assert si_sdr(est, ref) == pytest.approx(expect, abs=1e-10)
    # batched, broadcast
    assert si_sdr(np.stack([est, est]), ref) == pytest.approx([expect, expect])
    # scale invariance, and a real drop for a worse estimate
    assert si_sdr(5 * est, ref) == pytest.approx(expect, abs=1e-9)
    assert si_sdr(est + 0.3, ref) == pytest.approx(expect, abs=1e-9)  # mean removed
    assert si_sdr(est + 0.3, ref, zero_mean=False) < expect - 1
    assert si_sdr(est + 0.5 * rng.standard_normal(4000), ref) < expect - 10
    assert np.isnan(si_sdr(est, np.zeros(4000)))


@pytest.mark.slow
def test_scaled_estimate_changes_only_scale_dependent_metrics():
    refs, ests, mix = random_case(7, 2, kind="speech")
    base = compute_metrics(ests, refs, mix, 8000, "si_sdr,sdr,sir,sar,sdr_mdx")
    scaled = compute_metrics(ests * np.array([[0.2], [1.0]]), refs, mix, 8000,
                             "si_sdr,sdr,sir,sar,sdr_mdx")
    for m in ("si_sdr", "sdr", "sir", "sar"):  # scale invariant by definition
        assert scaled[0][m] == pytest.approx(base[0][m], abs=1e-6)
    # the plain SNR of MDX is not: shrinking the estimate of source 0 must lower it
    j = 0
    e = ests[base[j]["estimate"]]
    expect = 10 * np.log10((np.sum(refs[j] ** 2) + 1e-7)
                           / (np.sum((refs[j] - 0.2 * e) ** 2) + 1e-7))
    assert scaled[j]["sdr_mdx"] == pytest.approx(expect, abs=1e-9)
    assert scaled[j]["sdr_mdx"] < base[j]["sdr_mdx"] - 1
    assert scaled[1]["sdr_mdx"] == pytest.approx(base[1]["sdr_mdx"])


@pytest.mark.slow
def test_wrong_permutation_and_swapped_reference_change_the_numbers():
    refs, ests, mix = random_case(8, 2, kind="speech")
    good = score_utterance(ests, refs, mix, 8000, ["si_sdr", "sdr"], compute_permutation=False)
    assert good.perm == [0, 1]
    assert min(good.values["si_sdr"]) > 5
    # estimates in the wrong order, permutation off: the numbers must collapse
    bad = score_utterance(ests[::-1], refs, mix, 8000, ["si_sdr", "sdr"],
                          compute_permutation=False)
    assert max(bad.values["si_sdr"]) < min(good.values["si_sdr"]) - 10
    assert max(bad.values["sdr"]) < min(good.values["sdr"]) - 10
    # with the permutation search the swap is undone and reported
    fixed = score_utterance(ests[::-1], refs, mix, 8000, ["si_sdr", "sdr"])
    assert fixed.perm == [1, 0]
    assert fixed.values["si_sdr"] == pytest.approx(good.values["si_sdr"])
    assert fixed.values["sdr"] == pytest.approx(good.values["sdr"])
    # swapping the references swaps the input scores and the assignment
    swapped = score_utterance(ests, refs[::-1], mix, 8000, ["si_sdr"])
    assert swapped.perm == [1, 0]
    assert swapped.inputs["si_sdr"] == pytest.approx(good.inputs["si_sdr"][::-1])


@pytest.mark.parametrize("sr", [8000, 16000, 22050])
def test_vectorized_stoi_equals_pystoi(sr):
    from pystoi import stoi as pystoi

    from sepcore.metrics.stoi import stoi_many

    clean = speech_like(1.5, sr, 3)
    rng = np.random.default_rng(sr)
    degs = np.stack([clean + 0.05 * rng.standard_normal(clean.size),
                     clean + speech_like(1.5, sr, 4)])
    for ext in (False, True):
        mine = stoi_many(clean, degs, sr, extended=ext)
        ref = [pystoi(clean, d, sr, extended=ext) for d in degs]
        assert mine == pytest.approx(ref, abs=1e-4)
        assert np.max(np.abs(mine - ref)) < 1e-9


def test_stoi_and_estoi_equal_pystoi():
    from pystoi import stoi as pystoi

    refs, ests, mix = random_case(9, 2, seconds=2.0, kind="speech")
    res = compute_metrics(ests, refs, mix, 8000, "stoi,estoi")
    for j in range(2):
        e = ests[res[j]["estimate"]]
        assert res[j]["stoi"] == pytest.approx(pystoi(refs[j], e, 8000), abs=1e-4)
        assert res[j]["estoi"] == pytest.approx(pystoi(refs[j], e, 8000, extended=True),
                                                abs=1e-4)
        assert res[j]["input_stoi"] == pytest.approx(pystoi(refs[j], mix, 8000), abs=1e-4)


@pytest.mark.parametrize("sr,mode", [(8000, "nb"), (16000, "wb")])
def test_pesq_equals_pesq_package(sr, mode):
    from pesq import pesq

    refs, ests, mix = random_case(10, 2, seconds=2.0, sr=sr, kind="speech")
    res = score_utterance(ests, refs, mix, sr, ["pesq"])
    assert res.notes == []
    for j in range(2):
        e = ests[res.perm[j]]
        assert res.values["pesq"][j] == pesq(sr, refs[j], e, mode)
        assert res.inputs["pesq"][j] == pesq(sr, refs[j], mix, mode)
    assert res.values["pesq"][0] > res.inputs["pesq"][0]


def test_pesq_other_rate_is_resampled_and_said_so():
    import soxr
    from pesq import pesq

    refs, ests, mix = random_case(11, 2, seconds=1.5, sr=11025, kind="speech")
    res = score_utterance(ests, refs, None, 11025, ["pesq"])
    assert len(res.notes) == 1 and "resampled to 16000 Hz" in res.notes[0]
    j = 0
    r = soxr.resample(refs[j], 11025, 16000)
    e = soxr.resample(ests[res.perm[j]], 11025, 16000)
    assert res.values["pesq"][j] == pesq(16000, r, e, "wb")


def test_silent_reference_gives_nan_not_an_error():
    refs, ests, mix = random_case(12, 2, kind="speech")
    refs[1] = 0.0
    res = score_utterance(ests, refs, mix, 8000, ["si_sdr", "sdr", "sir", "sar", "stoi"])
    for m in ("si_sdr", "sdr", "sir", "sar", "stoi"):
        assert np.isnan(res.values[m][1]) and np.isnan(res.inputs[m][1])
        assert np.isfinite(res.values[m][0])


def test_best_permutation():
    score = np.array([[1.0, 9.0, 0.0], [8.0, 2.0, 0.0], [0.0, 0.0, 3.0]])
    assert best_permutation(score) == [1, 0, 2]
    score[:, 2] = np.nan  # a silent reference does not sway the choice
    assert best_permutation(score)[:2] == [1, 0]
    big = np.eye(10)[::-1] * 5
    assert best_permutation(big) == list(range(10))[::-1]


def test_parse_metrics():
    assert parse_metrics("default") == ["si_sdr", "sdr", "sir", "sar", "stoi", "pesq"]
    assert parse_metrics("si_sdr,pesq si_sdr") == ["si_sdr", "pesq"]
    assert "sdr_mdx" in parse_metrics("music")
    with pytest.raises(ValueError, match="unknown metric 'bogus'"):
        parse_metrics("si_sdr,bogus")


def test_speech_metrics_refuse_multichannel():
    x = np.random.default_rng(0).standard_normal((2, 800, 2))
    with pytest.raises(ValueError, match="need mono"):
        score_utterance(x, x, None, 8000, ["si_sdr"])
