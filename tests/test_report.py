"""The HTML report (sepcore/report, python -m sepcore.bin.report, steps/report.sh) on
scored experiments made in seconds (tests/report_fixture.py): speech, music-shaped (named
stereo stems) and enhancement-shaped (utt2snr) sets; checked as files and in headless
Chromium (tests/chromium.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers.chromium import Chromium, check_in_browser, find_chromium
from helpers.report_fixture import enh_exp, music_exp, speech_exp
from PIL import Image

from sepcore.errors import DataError
from sepcore.report import ReportOptions, build_compare_report, build_report
from sepcore.report.assets import excerpt_window
from sepcore.report.scored_set import load_scored_set

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # the scored experiments take ~10 s to make


@pytest.fixture(scope="module")
def exps(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    return {"speech": speech_exp(root), "music": music_exp(root), "enh": enh_exp(root),
            # the same data, other estimates: for the comparison
            "speech_b": speech_exp(root, "speech_b", seed=7, leak_offset=0.15)}


@pytest.fixture(scope="module")
def speech_report(exps):
    return build_report(exps["speech"])


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href") and v is not None:
                self.urls.append((tag, v))


def links(index: Path) -> Links:
    p = Links()
    p.feed(index.read_text(encoding="utf-8"))
    return p


def results_numbers(exp: Path, name: str = "test") -> list[str]:
    text = (exp / "separate" / name / "scores" / "RESULTS.md").read_text()
    cells = [c.strip() for ln in text.splitlines() if ln.startswith("|") for c in ln.split("|")]
    return [c for c in cells if re.fullmatch(r"-?\d+\.\d+", c)]


def check_self_contained(index: Path) -> Links:
    """Every src/href is a relative path inside the report folder that exists and decodes;
    no script, no external URL."""
    p = links(index)
    assert "script" not in p.tags and "link" not in p.tags
    folder = index.parent.resolve()
    assert p.urls
    for tag, url in p.urls:
        if url.startswith("#"):
            continue
        assert not re.match(r"^[a-z]+:", url) and not url.startswith("/"), url
        path = (index.parent / url).resolve()
        assert folder in path.parents, url
        assert path.is_file(), url
        if tag == "img":
            with Image.open(path) as im:
                assert im.format == "PNG"
                im.verify()
        elif tag == "audio":
            data, rate = sf.read(path)
            assert data.size > 0 and rate > 0, url
    return p


def test_speech_report_contents(exps, speech_report):
    exp = exps["speech"]
    index = speech_report
    assert index == exp / "report" / "index.html"
    html = index.read_text(encoding="utf-8")
    p = check_self_contained(index)
    # every number of RESULTS.md, as written there
    numbers = results_numbers(exp)
    assert len(numbers) > 20
    assert [n for n in numbers if n not in html] == []
    # model card, curves, histograms
    for text in ("convtasnet", "6,407" if "6,407" in html else "parameters", "--train-dir",
                 "config.yaml", "training_curves.png", "test_histograms.png"):
        assert text in html
    # the listening table: best / median / worst 3 of 9 by si_sdr_i; 5 players per row
    sset = load_scored_set(exp / "separate" / "test", exp)
    gains = dict(zip(sset.utts, sset.values("si_sdr_i")))
    ranked = sorted(gains, key=gains.get, reverse=True)
    shown = re.findall(r'<td class="utt" rowspan="2">(test_utt\d+)<br>si_sdr_i', html)
    assert shown == ranked[:3] + ranked[3:6] + ranked[6:]
    audio = [u for t, u in p.urls if t == "audio"]
    assert len(audio) == 9 * 5
    assert all(u.endswith(".flac") for u in audio)  # 8 kHz mono: lossless
    # an estimate is the one the scorer assigned to that reference (permuted utterances)
    utt = ranked[0]
    est_of = sset.estimate_of[utt]
    est_scp = dict(ln.split() for ln in (exp / "separate/test" / f"{est_of[0]}.scp")
                   .read_text().splitlines())
    copied = next(u for u in audio if utt in u and "spk1_estimate" in u)
    original, _ = sf.read(est_scp[utt])
    assert np.abs(sf.read(index.parent / copied)[0] - original).max() < 1e-3


def test_report_excerpts_and_sizes(exps, tmp_path):
    out = tmp_path / "short"
    index = build_report(exps["speech"], out, ReportOptions(num_utts=1, max_seconds=0.5,
                                                            audio_format="wav"))
    audio = [u for t, u in links(index).urls if t == "audio"]
    assert len(audio) == 3 * 5
    for u in audio:
        info = sf.info(out / u)
        assert u.endswith(".wav") and info.frames == 4000  # 0.5 s at 8 kHz
    # the excerpt is the loudest part
    x = np.zeros(8000 * 3, dtype=np.float32)
    x[12000:16000] = 1.0
    w = excerpt_window(x, 8000, 0.5)
    assert w.stop - w.start == 4000 and 12000 <= w.start and w.stop <= 16000
    assert excerpt_window(x, 8000, None) == slice(0, x.size)


def test_relative_paths_are_read_from_the_recipe_folder(exps, tmp_path, monkeypatch):
    """scp files hold paths relative to the recipe folder (<recipe>/exp/<tag>): the report
    finds them from any current folder."""
    import shutil

    recipe = tmp_path / "recipe"
    exp = recipe / "exp" / "speech"
    shutil.copytree(exps["speech"], exp)
    sep = exp / "separate" / "test"
    for scp in sep.glob("spk*.scp"):
        lines = [f"{u} exp/speech/separate/test/wav/{Path(p).name}"
                 for u, p in (ln.split() for ln in scp.read_text().splitlines())]
        scp.write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)
    index = build_report(exp, options=ReportOptions(num_utts=1))
    assert "(not found)" not in index.read_text()
    assert len([u for t, u in links(index).urls if t == "audio"]) == 15


def test_rebuild_replaces_the_old_report(exps, tmp_path):
    out = tmp_path / "r"
    build_report(exps["speech"], out, ReportOptions(num_utts=3))
    (out / "stale.txt").write_text("old")
    build_report(exps["speech"], out, ReportOptions(num_utts=1))
    assert not (out / "stale.txt").exists()
    assert len([u for t, u in links(out / "index.html").urls if t == "audio"]) == 15
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_music_set_per_stem_players_and_table(exps):
    exp = exps["music"]
    index = build_report(exp)
    html = index.read_text(encoding="utf-8")
    p = check_self_contained(index)
    assert "Per stem" in html and "by sdr_mdx" in html
    for stem in ("vocals", "accompaniment"):
        assert f"{stem} reference" in html and f"{stem} estimate" in html
    table = html[html.index("Per stem"):html.index("Per-utterance")]
    sset = load_scored_set(exp / "separate" / "test", exp)
    med = sset.summary["by_source"]["vocals"]["sdr_mdx"]["median"]
    assert f"{med:.2f}" in table
    audio = [u for t, u in p.urls if t == "audio"]
    assert audio and all(u.endswith(".ogg") for u in audio)  # stereo: Vorbis
    data, rate = sf.read(index.parent / audio[0])
    assert data.shape[1] == 2 and rate == 16000
    assert [n for n in results_numbers(exp) if n not in html] == []


def test_enhancement_set_per_snr_table(exps):
    exp = exps["enh"]
    index = build_report(exp)
    html = index.read_text(encoding="utf-8")
    check_self_contained(index)
    assert "no model.pt" in html  # an exp without training files still reports its sets
    table = html[html.index("Per input SNR"):]
    table = table[:table.index("</table>")]
    sset = load_scored_set(exp / "separate" / "test", exp)
    snr = sset.utt2snr()
    gains = sset.values("si_sdr_i")
    for level in (0.0, 5.0, 10.0):
        idx = [i for i, u in enumerate(sset.utts) if snr[u] == level]
        assert len(idx) == 2
        # the scorer's own breakdown (summary.json by_snr: it labels groups "0", "5")
        row = table[table.index(f"<td>{level:g}</td>"):]
        row = row[:row.index("</tr>")]
        assert f">{np.mean(gains[idx]):.2f}<" in row


def test_enhancement_set_breakdown_from_the_scorer(exps, tmp_path):
    """A scorer that writes summary.json by_snr / by_noise_type (label → num_utts, scores):
    the report shows those tables as they are."""
    import json
    import shutil

    exp = tmp_path / "exp" / "enh"
    shutil.copytree(exps["enh"] / "separate", exp / "separate")
    path = exp / "separate" / "test" / "scores" / "summary.json"
    summary = json.loads(path.read_text())
    summary["by_snr"] = {"0": {"num_utts": 2, "scores": {"si_sdr_i": {"mean": 12.3456}}}}
    summary["by_noise_type"] = {"babble": {"num_utts": 6, "scores": {"stoi": {"mean": 0.8765}}}}
    path.write_text(json.dumps(summary))
    html = build_report(exp).read_text()
    assert "Per input SNR (mean over utterances, first source)" in html
    assert "utt2snr)" not in html  # not recomputed
    snr = html[html.index("Per input SNR"):]
    assert "<td>0</td><td class=\"num\">2</td>" in snr and ">12.35<" in snr
    assert "Per noise type" in html and ">0.88<" in html[html.index("Per noise type"):]


def test_bad_inputs_are_clear_errors(exps, tmp_path):
    with pytest.raises(DataError, match="not a folder"):
        build_report(tmp_path / "missing")
    with pytest.raises(DataError, match="not an exp dir"):
        build_report(tmp_path)
    with pytest.raises(DataError, match="no column 'pesq_i'"):
        build_report(exps["speech"], tmp_path / "x", ReportOptions(metric="pesq_i"))
    assert not (tmp_path / "x").exists()
    bad = tmp_path / "exp" / "bad"
    sep = bad / "separate" / "test" / "scores"
    sep.mkdir(parents=True)
    src = exps["speech"] / "separate" / "test" / "scores"
    (sep / "summary.json").write_text((src / "summary.json").read_text())
    rows = (src / "per_utt.tsv").read_text().splitlines()
    rows[3] = rows[3].replace("\t", "\tx", 1)
    (sep / "per_utt.tsv").write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"per_utt.tsv:4: expected \d+ tab-separated"):
        build_report(bad)


def test_entry_point_and_steps_script(exps, tmp_path):
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "PYTHONPATH": str(ROOT),
           "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([str(ROOT / "steps/report.sh"), "--num-utts", "1",
                           str(exps["enh"])], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("enh/report/index.html")
    usage = subprocess.run([str(ROOT / "steps/report.sh")], capture_output=True, text=True,
                           env=env)
    assert usage.returncode == 1 and "Usage: steps/report.sh" in usage.stderr
    bad = subprocess.run([sys.executable, "-m", "sepcore.bin.report", str(tmp_path)],
                         capture_output=True, text=True, env=env)
    assert bad.returncode == 1 and "python -m sepcore.bin.report: error:" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_compare_report_shows_where_they_differ_most(exps, tmp_path):
    a, b = exps["speech"], exps["speech_b"]
    index = build_compare_report([a, b], options=ReportOptions(num_utts=1))
    assert index == a.parent / "compare_speech-speech_b" / "index.html"
    html = index.read_text(encoding="utf-8")
    p = check_self_contained(index)
    sa = load_scored_set(a / "separate/test", a)
    sb = load_scored_set(b / "separate/test", b)
    spread = np.abs(sa.values("si_sdr_i") - sb.values("si_sdr_i"))
    top = [sa.utts[i] for i in np.argsort(-spread)[:3]]
    assert re.findall(r"<h4>(test_utt\d+) \(si_sdr_i spread", html) == top
    assert f"spread {np.max(spread):.2f})" in html
    # per utterance: mixture + 2 references, then 2 estimates of each experiment
    assert len([u for t, u in p.urls if t == "audio"]) == 3 * (3 + 2 + 2)
    for tag, s in (("speech", sa), ("speech_b", sb)):
        mean = s.summary["scores"]["si_sdr_i"]["mean"]
        assert f"{mean:.2f} / " in html and f"spk1 estimate ({tag})" in html
    with pytest.raises(DataError, match="at least two"):
        build_compare_report([a])
    with pytest.raises(DataError, match="set test: .*music has sources vocals accompaniment"):
        build_compare_report([a, exps["music"]], tmp_path / "c")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty: no scored set"):
        build_compare_report([a, tmp_path / "empty"], tmp_path / "c")
    assert not (tmp_path / "c").exists()
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "PYTHONPATH": str(ROOT),
           "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([str(ROOT / "steps/compare_report.sh"), "--num-utts", "1",
                           "--out-dir", str(tmp_path / "ab"), str(a), str(b)],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "ab" / "index.html").is_file()


@pytest.mark.skipif(find_chromium() is None,
                    reason="needs Debian's chromium (tools/run_tests.sh installs it as root)")
def test_reports_in_headless_chromium(exps, speech_report, tmp_path):
    compare = build_compare_report([exps["speech"], exps["speech_b"]], tmp_path / "ab",
                                   ReportOptions(num_utts=1))
    music = build_report(exps["music"], tmp_path / "music")
    with Chromium() as browser:
        page = check_in_browser(browser, speech_report)
        assert len(page["audio"]) == 45
        assert [n for n in results_numbers(exps["speech"]) if n not in page["text"]] == []
        assert len(check_in_browser(browser, compare)["audio"]) == 21
        page = check_in_browser(browser, music)  # stereo Vorbis plays
        assert page["audio"] and all(src.endswith(".ogg") for src, _ in page["audio"])
        # and the check sees a broken page: a missing image is a console error
        next(music.parent.rglob("*.png")).unlink()
        errors = browser.load(music.resolve().as_uri())["errors"]
        assert any("ERR_FILE_NOT_FOUND" in str(e) for e in errors)
