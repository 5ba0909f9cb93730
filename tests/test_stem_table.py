"""Per-stem music tables (sepcore/metrics/stem_table.py, show_results --stems)."""

import json

import pytest

from sepcore.bin import show_results
from sepcore.errors import DataError
from sepcore.metrics.stem_table import stem_tables

STEMS = ["drums", "bass", "other", "vocals"]


def summary(exp, values, inputs, data_dir="data/test", n=6):
    """values/inputs: {stem: (sdr_v4 median, sdr_mdx mean, sdr_mdx median)}."""
    by_source = {}
    for stem in STEMS:
        v, i = values[stem], inputs[stem]
        by_source[stem] = {
            "sdr_v4": {"median": v[0], "mean": 99.0},
            "input_sdr_v4": {"median": i[0], "mean": 99.0},
            "sdr_mdx": {"mean": v[1], "median": v[2]},
            "input_sdr_mdx": {"mean": i[1], "median": i[2]},
        }
    return {"exp": exp, "data_set": "test", "data_dir": data_dir, "num_utts": n,
            "sources": STEMS, "metrics": ["sdr_v4", "sdr_mdx"], "by_source": by_source,
            "separated_dir": f"exp/{exp}/separate/test"}


MIX = {"drums": (-8.0, -8.5, -8.2), "bass": (-6.0, -6.5, -6.2), "other": (-9.0, -9.5, -9.2),
       "vocals": (2.0, 1.0, 1.5)}
MODEL = {"drums": (4.0, 3.5, 3.8), "bass": (3.0, 2.5, 2.8), "other": (1.0, 0.5, 0.8),
         "vocals": (10.0, 9.0, 9.5)}


def test_published_layout_reference_row_and_gains():
    text = stem_tables([("umx", summary("umx", MODEL, MIX)),
                        ("oracle", summary("oracle", MIX, MIX))])
    assert "| system | vocals | drums | bass | other | mean |" in text
    # museval: median over windows then tracks, from by_source[...]["median"]
    assert "| mixture (reference) | 2.00 | -8.00 | -6.00 | -9.00 | -5.25 |" in text
    assert "| umx | 10.00 | 4.00 | 3.00 | 1.00 | 4.50 |" in text
    # MDX: mean over tracks, then median over tracks
    assert "| umx | 9.00 | 3.50 | 2.50 | 0.50 | 3.88 |" in text
    assert "| umx | 9.50 | 3.80 | 2.80 | 0.80 |" in text
    assert "| umx, museval | 8.00 | 12.00 | 9.00 | 10.00 | 9.75 |" in text
    assert "| umx, MDX mean | 8.00 | 12.00 | 9.00 | 10.00 | 9.75 |" in text
    assert "| oracle, museval | 0.00 | 0.00 | 0.00 | 0.00 | 0.00 |" in text
    assert text.index("SDR, BSS Eval v4") < text.index("MDX 2021 (whole track): mean")


def test_systems_on_other_tracks_are_refused():
    with pytest.raises(DataError, match="a per-stem table compares systems on the same tracks"):
        stem_tables([("a", summary("a", MODEL, MIX)),
                     ("b", summary("b", MODEL, MIX, data_dir="data/dev"))])


def test_show_results_stems_labels(tmp_path, capsys):
    for exp in ("umx", "oracle"):
        d = tmp_path / exp / "separate" / "test" / "scores"
        d.mkdir(parents=True)
        (d / "summary.json").write_text(json.dumps(summary(exp, MODEL, MIX)))
    assert show_results.main(["--stems", f"umx + Wiener={tmp_path}/umx/separate/test",
                              f"{tmp_path}/oracle/separate/test"]) == 0
    out = capsys.readouterr().out
    assert "| umx + Wiener | 10.00 |" in out and "| oracle | 10.00 |" in out
    with pytest.raises(DataError, match="expected a scored separated dir"):
        show_results.main(["--stems", str(tmp_path)])
