"""Scoring MUSDB18-style stereo stems: v4 image metrics and MDX SDR through sepcore.bin.score."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from sepcore.bin import score, show_results
from sepcore.errors import DataError
from sepcore.metrics.music import bss_eval_v4_images, sdr_mdx, track_median

SR = 8000


def make_music(root, n_tracks=2, seconds=2.5):
    data = root / "data" / "musdb_test"
    sep = root / "exp" / "xumx" / "separate" / "musdb_test"
    for d in (data / "wav", sep / "wav"):
        d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    names = ["drums", "vocals"]
    scp = {k: [] for k in ("wav", "spk1", "spk2", "e1", "e2")}
    tracks = {}
    for i in range(n_tracks):
        t = f"track{i}"
        n = int(seconds * SR)
        refs = rng.standard_normal((2, n, 2)) * np.array([0.3, 0.2])[:, None, None]
        ests = refs + 0.3 * refs[::-1] + 0.05 * rng.standard_normal(refs.shape)
        mix = refs.sum(0)
        sf.write(data / "wav" / f"{t}.wav", mix, SR, subtype="FLOAT")
        for k in range(2):
            sf.write(data / "wav" / f"{t}_{names[k]}.wav", refs[k], SR, subtype="FLOAT")
            sf.write(sep / "wav" / f"{t}_{names[k]}.wav", ests[k], SR, subtype="FLOAT")
            scp[f"spk{k + 1}"].append(f"{t} {data}/wav/{t}_{names[k]}.wav\n")
            scp[f"e{k + 1}"].append(f"{t} {sep}/wav/{t}_{names[k]}.wav\n")
        scp["wav"].append(f"{t} {data}/wav/{t}.wav\n")
        tracks[t] = (refs, ests, mix)
    (data / "wav.scp").write_text("".join(scp["wav"]))
    (data / "sources").write_text("drums vocals\n")
    (sep / "sources").write_text("drums vocals\n")
    for k in (1, 2):
        (data / f"spk{k}.scp").write_text("".join(scp[f"spk{k}"]))
        (sep / f"spk{k}.scp").write_text("".join(scp[f"e{k}"]))
    return data, sep, tracks


@pytest.mark.slow
def test_music_scoring_end_to_end(tmp_path):
    data, sep, tracks = make_music(tmp_path)
    args = [str(data), str(sep), "--metrics", "music", "--compute-permutation", "false",
            "--progress", "false"]
    score.main(args)
    score.main(args + ["--merge"])
    summary = json.loads((sep / "scores" / "summary.json").read_text())
    assert summary["sources"] == ["drums", "vocals"]
    assert summary["metrics"] == ["sdr_v4", "isr_v4", "sir_v4", "sar_v4", "sdr_mdx"]
    assert summary["permutation"].startswith("none")
    # per track: median over 1 s windows; per source: median over tracks (wavs are float32)
    per_track = {t: track_median(bss_eval_v4_images(r, e, [(0, 0), (1, 1)], win=SR, hop=SR))
                 for t, (r, e, _) in tracks.items()}
    for j, name in enumerate(["drums", "vocals"]):
        want = np.median([per_track[t][j, 0] for t in tracks])
        assert summary["by_source"][name]["sdr_v4"]["median"] == pytest.approx(want, abs=1e-4)
        mdx = np.median([sdr_mdx(r[j], e[j]) for r, e, _ in tracks.values()])
        assert summary["by_source"][name]["sdr_mdx"]["median"] == pytest.approx(mdx, abs=1e-4)
        inp = np.median([sdr_mdx(r[j], m) for r, _, m in tracks.values()])
        assert summary["by_source"][name]["input_sdr_mdx"]["median"] == pytest.approx(inp, abs=1e-4)
    rows = (sep / "scores" / "per_utt.tsv").read_text().splitlines()
    assert rows[1].startswith("track0\tdrums\tspk1\t") and len(rows) == 5
    md = (sep / "scores" / "RESULTS.md").read_text()
    assert md.startswith("# xumx — musdb_test") and "| metric | drums | vocals |" in md
    table = show_results.tables([(sep / "scores" / "summary.json", summary)])
    assert "sdr_v4_i (median)" in table and table.splitlines()[4].startswith("| xumx | 2 |")


def test_source_names_must_agree(tmp_path):
    data, sep, _ = make_music(tmp_path, n_tracks=1)
    (sep / "sources").write_text("vocals drums\n")
    with pytest.raises(DataError, match=r"estimates are named vocals drums but the "
                                              r"references .* are drums vocals"):
        score.main([str(data), str(sep), "--metrics", "sdr_mdx", "--progress", "false"])
