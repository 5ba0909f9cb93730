"""The report's small pure pieces: which utterances are listened to, the Markdown of
RESULTS.md as HTML, SNR groups, history.tsv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sepcore.errors import DataError
from sepcore.report.build import read_history
from sepcore.report.html import markdown
from sepcore.report.scored_set import ScoredSet, snr_groups


def scored(values: list[float]) -> ScoredSet:
    scores = {f"u{i:02d}": {"si_sdr_i": np.array([v, v]), "si_sdr": np.array([v, v]),
                            "input_si_sdr": np.zeros(2)} for i, v in enumerate(values)}
    return ScoredSet(name="t", sep_dir=Path("."), summary={}, results_md="",
                     sources=["spk1", "spk2"], metrics=["si_sdr"], scores=scores,
                     estimate_of={u: ["spk1", "spk2"] for u in scores})


def test_best_median_worst():
    s = scored([5.0, 1.0, 9.0, 3.0, 7.0, 2.0, 8.0, 4.0, 6.0, float("nan")])
    picks = s.pick("si_sdr_i", 2)
    by_label = {lab: [u for l2, u in picks if l2 == lab] for lab in ("best", "median", "worst")}
    # the median of the 9 finite values is 5 (u00); the two around it: 6 (u08) and 5
    assert by_label == {"best": ["u02", "u06"], "median": ["u08", "u00"],
                        "worst": ["u05", "u01"]}  # the NaN one is never picked
    assert [lab for lab, _ in scored([1.0, 2.0]).pick("si_sdr_i", 3)] == ["best", "worst"]
    assert s.ranking_metric() == "si_sdr_i"
    with pytest.raises(DataError, match="no column 'pesq_i'"):
        s.ranking_metric("pesq_i")


def test_results_markdown_keeps_every_number():
    text = ("# exp — test\n\n- exp: `a`, 3 utterances\n\n| metric | mean |\n|---|---:|\n"
            "| si_sdr | 10.1234 |\n| input_sdr | -0.0061 |\n")
    html = markdown(text)
    assert "<h3>exp — test</h3>" in html and "<code>a</code>" in html
    assert "<th>metric</th>" in html and "10.1234" in html and "-0.0061" in html
    assert markdown("| a <b> |") == "<table>\n<tr><td>a &lt;b&gt;</td></tr>\n</table>"


def test_snr_groups():
    utts = [f"u{i}" for i in range(6)]
    grid = dict(zip(utts, [2.5, 7.5, 2.5, 12.5, 7.5, 2.5]))
    assert snr_groups(grid, utts) == [("2.5 dB", [0, 2, 5]), ("7.5 dB", [1, 4]),
                                      ("12.5 dB", [3])]
    drawn = {f"u{i}": v for i, v in enumerate(np.linspace(-3, 17, 12))}
    groups = snr_groups(drawn, list(drawn))
    assert [g for g, _ in groups] == ["[-5, 0) dB", "[0, 5) dB", "[5, 10) dB", "[10, 15) dB",
                                      "[15, 20) dB"]
    assert sum(len(i) for _, i in groups) == 12


def test_read_history(tmp_path):
    (tmp_path / "history.tsv").write_text("epoch\tsteps\tlr\n1\t10\t1e-3\n2\t20\tnan\n")
    h = read_history(tmp_path / "history.tsv")
    assert h["steps"] == [10.0, 20.0] and h["lr"][0] == 1e-3 and np.isnan(h["lr"][1])
    (tmp_path / "history.tsv").write_text("epoch\tsteps\n1\t10\t5\n")
    with pytest.raises(DataError, match=r"history.tsv:2: 3 fields, the header has 2"):
        read_history(tmp_path / "history.tsv")
    assert read_history(tmp_path / "missing.tsv") == {}
