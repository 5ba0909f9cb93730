"""show_results --by snr: one column per metric and SNR group, a row per system (+ input)."""

from __future__ import annotations

import json

import pytest

from sepcore.bin import show_results
from sepcore.errors import DataError


def summary(tmp_path, exp, values, metrics=("si_sdr", "pesq"), by="by_snr"):
    d = tmp_path / exp / "separate" / "test" / "scores"
    d.mkdir(parents=True)
    groups = {}
    for g, (si, pq) in values.items():
        groups[g] = {"num_utts": 2, "scores": {
            "si_sdr": {"mean": si}, "input_si_sdr": {"mean": float(g)},
            "pesq": {"mean": pq}, "input_pesq": {"mean": 1.0}}}
    s = {"exp": exp, "data_set": "test", "data_dir": "data/test", "num_utts": 4,
         "metrics": list(metrics), "scores": {}, by: groups}
    (d / "summary.json").write_text(json.dumps(s))
    return d.parent


def test_per_snr_table_with_input_row(tmp_path, capsys):
    a = summary(tmp_path, "rnnoise", {"-5": (0.5, 1.2), "15": (7.5, 1.6)})
    b = summary(tmp_path, "crn", {"-5": (6.25, 1.4), "15": (18.0, 2.5)})
    assert show_results.main(["--by", "snr", "--input", "true", str(a), str(b)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:6] == [
        "## test, per SNR (dB)", "",
        "| system | si_sdr -5 | si_sdr 15 | pesq -5 | pesq 15 |",
        "|---|---:|---:|---:|---:|",
        "| input | -5.00 | 15.00 | 1.00 | 1.00 |",
        "| crn | 6.25 | 18.00 | 1.40 | 2.50 |"]
    assert out[6] == "| rnnoise | 0.50 | 7.50 | 1.20 | 1.60 |"


def test_missing_breakdown_or_metric_is_an_error(tmp_path):
    a = summary(tmp_path, "a", {"0": (1.0, 1.0)}, by="by_noise_type")
    with pytest.raises(DataError, match="no by_snr breakdown .* has no utt2snr"):
        show_results.main(["--by", "snr", str(a)])
    b = summary(tmp_path, "b", {"0": (1.0, 1.0)}, metrics=("si_sdr",))
    with pytest.raises(DataError, match="metric pesq was not scored"):
        show_results.main(["--by", "snr", "--metrics", "si_sdr,pesq", str(b)])
