"""``exp/<tag>/report/index.html``: model card, training curves, the training examples and,
for every scored set, its results, histograms and a listening table."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sepcore.errors import DataError
from sepcore.io import read_scp
from sepcore.report import plots
from sepcore.report.assets import Assets, safe_name
from sepcore.report.html import Raw, audio_player, esc, fmt_num, image, markdown, page, table
from sepcore.report.monitor import EXAMPLES_DIR
from sepcore.report.scored_set import ScoredSet, scored_sets, snr_groups

log = logging.getLogger("sepcore.report")

# at most this many validation steps of the training examples are shown (first and last kept)
MAX_EXAMPLE_STEPS = 8


@dataclass
class ReportOptions:
    num_utts: int = 3             # best, median and worst N of each set
    max_seconds: float | None = 10.0
    audio_format: str = "auto"
    metric: str | None = None     # rank by this per_utt.tsv column (default: per set)


# ------------------------------------------------------------------------------ inputs


def read_history(path: Path) -> dict[str, list[float]]:
    """history.tsv → column → values (a cell that is not a number becomes NaN)."""
    if not path.is_file():
        return {}
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if not lines:
        return {}
    header = lines[0].split("\t")
    out: dict[str, list[float]] = {c: [] for c in header}
    for lineno, line in enumerate(lines[1:], 2):
        cells = line.split("\t")
        if len(cells) != len(header):
            raise DataError(f"{path}:{lineno}: {len(cells)} fields, the header has {len(header)}")
        for c, v in zip(header, cells):
            try:
                out[c].append(float(v))
            except ValueError:
                out[c].append(float("nan"))
    return out


def train_command(exp: Path) -> str | None:
    """The last training command train.log recorded (a resumed run logs it again)."""
    log_file = exp / "train.log"
    if not log_file.is_file():
        return None
    found = None
    with open(log_file, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.search(r" command: (.*)$", line)
            if m:
                found = m.group(1).strip()
    return found


def _data_dir_size(given: str, exp: Path) -> str | None:
    p = Path(given)
    for cand in ([p] if p.is_absolute() else [p, exp.parent.parent / p]):
        if (cand / "wav.scp").is_file():
            n = len(read_scp(cand / "wav.scp"))
            text = f"{n} utterances"
            lengths = cand / "utt2num_samples"
            if lengths.is_file():
                total = sum(int(v) for _, v in read_scp(lengths))
                text += f", {total:,} samples"
            return text
    return None


# ------------------------------------------------------------------------------ sections


def model_card_section(exp: Path) -> list[str]:
    from sepcore.pack import card_fields

    out = ["<h2 id=\"model\">Model</h2>"]
    rows = []
    if (exp / "model.pt").is_file():
        fields = card_fields(exp)
        rows = [[k, str(v)] for k, v in fields if k != "packed with"]
        for k, v in fields:
            if k in ("training data", "validation data"):
                size = _data_dir_size(str(v), exp)
                if size:
                    rows.append([f"{k} size", size])
    else:
        out.append('<p class="note">no model.pt: training has not finished</p>')
    done = exp / ".train.done"
    if done.is_file():
        rows.append(["training finished", done.read_text(encoding="utf-8").strip()])
    if rows:
        out.append(table(["field", "value"], rows, numeric_from=9))
    command = train_command(exp)
    if command:
        out.append("<p>Command (from train.log):</p>")
        out.append(f'<pre class="cmd">{esc(command)}</pre>')
    if (exp / "config.yaml").is_file():
        out.append("<p>To reproduce with the resolved config (a new exp dir):</p>")
        argv = command.split() if command else []

        def arg(name):
            return argv[argv.index(name) + 1] if name in argv[:-1] else f"<{name[2:]}>"

        out.append('<pre class="cmd">' + esc(
            f"python -m sepcore.bin.train --config {exp / 'config.yaml'} "
            f"--train-dir {arg('--train-dir')} --valid-dir {arg('--valid-dir')} "
            f"--exp-dir {exp}_again") + "</pre>")
        out.append("<details><summary>config.yaml</summary><pre>"
                   + esc((exp / "config.yaml").read_text(encoding="utf-8")) + "</pre></details>")
    return out


def curves_section(exp: Path, out_dir: Path) -> list[str]:
    history = read_history(exp / "history.tsv")
    out = ["<h2 id=\"training\">Training</h2>"]
    if not history or not history.get("steps"):
        return out + ['<p class="note">no history.tsv (no validation yet)</p>']
    plots.training_curves(history, out_dir / "training_curves.png")
    out.append(image("training_curves.png", "training and validation curves"))
    header = list(history)
    rows = [[fmt_num(history[c][i], 4) if c not in ("epoch", "steps") else
             str(int(history[c][i])) for c in header] for i in range(len(history["steps"]))]
    out.append("<details><summary>history.tsv</summary>"
               + table(header, rows, numeric_from=0) + "</details>")
    return out


def _step_dirs(examples: Path) -> list[tuple[int, Path]]:
    steps = []
    for d in examples.glob("step*"):
        m = re.fullmatch(r"step(\d+)", d.name)
        if m and d.is_dir():
            steps.append((int(m.group(1)), d))
    steps.sort()
    if len(steps) > MAX_EXAMPLE_STEPS:
        keep = np.unique(np.linspace(0, len(steps) - 1, MAX_EXAMPLE_STEPS).round().astype(int))
        steps = [steps[i] for i in keep]
    return steps


def _read_tsv_rows(path: Path) -> list[list[str]]:
    if not path.is_file():
        return []
    return [ln.split("\t") for ln in path.read_text(encoding="utf-8").splitlines()[1:] if ln]


def examples_section(exp: Path, assets: Assets) -> list[str]:
    examples = exp / EXAMPLES_DIR
    if not (examples / "utts").is_file():
        return []
    utts = (examples / "utts").read_text(encoding="utf-8").split()
    steps = _step_dirs(examples)
    out = ["<h2 id=\"examples\">Examples during training</h2>",
           f"<p>{len(utts)} fixed validation utterances, estimates after each validation "
           f"({len(steps)} shown; training.examples). Spectrograms of one utterance share its "
           "colour scale.</p>"]
    for utt in utts:
        ref = examples / "reference"
        names = sorted(p.stem[len(utt) + 1:] for p in ref.glob(f"{utt}_*.wav"))
        sources = [n for n in names if n != "mixture"]
        order = ["mixture", *sources]
        prefix = f"examples/{safe_name(utt)}"
        row, scale = assets.row(f"{prefix}/reference", [
            (n, str(ref / f"{utt}_{n}.wav") if (ref / f"{utt}_{n}.wav").is_file() else None)
            for n in order])
        rows = [["reference"] + [audio_player(a, label, s) if a else "" for label, a, s in row]]
        for step, d in steps:
            metrics = {(r[0], r[1]): r[3] for r in _read_tsv_rows(d / "metrics.tsv")
                       if len(r) >= 4}
            signals = [(f"{n} (SI-SDRi {metrics.get((utt, n), '?')} dB)",
                        str(d / f"{utt}_{n}.wav") if (d / f"{utt}_{n}.wav").is_file() else None)
                       for n in sources]
            est_row, _ = assets.row(f"{prefix}/step{step}", signals, scale)
            rows.append([f"step {step}", ""] + [audio_player(a, label, s) if a else "(missing)"
                                                for label, a, s in est_row])
        out.append(f"<h3>{esc(utt)}</h3>")
        out.append(table(["", *order], rows, numeric_from=99))
    return out


def _metric_lines(sset: ScoredSet, utt: str, k: int) -> str:
    per = sset.scores[utt]
    parts = []
    for m in sset.metrics:
        v, gain = per[m][k], per[f"{m}_i"][k]
        text = f"{m} {fmt_num(float(v))}"
        if np.isfinite(gain) and m not in ("sar", "sar_v4"):
            text += f" ({'+' if gain >= 0 else ''}{fmt_num(float(gain))})"
        parts.append(esc(text))
    return "<br>".join(parts)


def listening_table(sset: ScoredSet, assets: Assets, opts: ReportOptions) -> list[str]:
    metric = sset.ranking_metric(opts.metric)
    picks = sset.pick(metric, opts.num_utts)
    values = dict(zip(sset.utts, sset.values(metric)))
    n = sum(label == "best" for label, _ in picks)  # fewer than asked in a small set
    out = [f"<h3>Listening: best, median and worst {n} by {esc(metric)}</h3>",
           '<p class="note">Each utterance: the mixture, then one row per source with its '
           "reference, its estimate and its metrics (improvement over the mixture in "
           "brackets). Spectrograms of one utterance share a colour scale "
           f"(legend below).</p>{image('colour_bar.png', 'colour scale', 'legend')}"]
    rows = [
        "<table>",
        "<tr><th>rank</th><th>utterance</th><th>mixture</th><th>source</th>"
        "<th>reference</th><th>estimate</th><th>metrics</th></tr>",
    ]
    for n, (label, utt) in enumerate(picks):
        mix, refs, ests = sset.signals(utt)
        signals = [("mixture", mix)]
        for name, r, e in zip(sset.sources, refs, ests):
            signals += [(f"{name} reference", r), (f"{name} estimate", e)]
        row, _ = assets.row(f"{safe_name(sset.name)}/{n:02d}_{safe_name(utt)}", signals)
        players = {lab: audio_player(a, lab, s) if a else Raw("(not found)")
                   for lab, a, s in row}
        span = len(sset.sources)
        for k, name in enumerate(sset.sources):
            cells = []
            if k == 0:
                cells += [f'<td rowspan="{span}">{esc(label)}</td>',
                          f'<td class="utt" rowspan="{span}">{esc(utt)}<br>{esc(metric)} '
                          f"{fmt_num(float(values[utt]))}</td>",
                          f'<td rowspan="{span}">{players["mixture"]}</td>']
            cells += [f"<td>{esc(name)}</td>", f"<td>{players[f'{name} reference']}</td>",
                      f"<td>{players[f'{name} estimate']}</td>",
                      f'<td class="metrics">{_metric_lines(sset, utt, k)}</td>']
            rows.append("<tr>" + "".join(cells) + "</tr>")
    rows.append("</table>")
    return out + ["\n".join(rows)]


def per_stem_table(sset: ScoredSet) -> list[str]:
    by = sset.summary.get("by_source") or {}
    cols = [c for m in sset.metrics for c in (m, f"{m}_i")
            if any((by.get(s, {}).get(c) or {}).get("count") for s in sset.sources)]
    rows = []
    for s in sset.sources:
        st = by.get(s, {})
        rows.append([s] + [f"{fmt_num((st.get(c) or {}).get('median'))} / "
                           f"{fmt_num((st.get(c) or {}).get('mean'))}" for c in cols])
    return ["<h3>Per stem (median / mean over utterances)</h3>",
            table(["stem"] + cols, rows)]


def _breakdown_cols(sset: ScoredSet) -> list[str]:
    return [c for m in sset.metrics if m not in ("sar", "sar_v4")
            for c in (f"input_{m}", m, f"{m}_i")]


def breakdown_tables(sset: ScoredSet) -> list[str]:
    """Enhancement sets: scores per input SNR (and per noise type). The scorer's own
    breakdown (summary.json ``by_snr`` / ``by_noise_type``) when it wrote one, else the
    SNR groups made here from the data dir's ``utt2snr``."""
    cols = _breakdown_cols(sset)
    out = []
    for kind, title in (("snr", "input SNR"), ("noise_type", "noise type"),
                        ("mask_type", "mask type")):
        by = sset.summary.get(f"by_{kind}")
        if not isinstance(by, dict) or not by:
            continue
        rows = [[label, str(g.get("num_utts", ""))]
                + [fmt_num((g.get("scores", {}).get(c) or {}).get("mean")) for c in cols]
                for label, g in by.items()]
        out += [f"<h3>Per {title} (mean over utterances, first source)</h3>",
                table([title, "utterances"] + cols, rows)]
    if out:
        return out
    snr = sset.utt2snr()
    if not snr:
        return []
    values = {c: sset.values(c) for c in cols}
    rows = []
    for label, idx in snr_groups(snr, sset.utts):
        rows.append([label, str(len(idx))] + [fmt_num(float(np.nanmean(values[c][idx])))
                                             if np.isfinite(values[c][idx]).any() else "nan"
                                             for c in cols])
    return ["<h3>Per input SNR (mean over utterances; utt2snr)</h3>",
            table(["input SNR", "utterances"] + cols, rows)]


def set_section(sset: ScoredSet, out_dir: Path, assets: Assets, opts: ReportOptions) -> list[str]:
    s = sset.summary
    out = [f"<h2 id=\"set-{esc(safe_name(sset.name))}\">Set {esc(sset.name)}</h2>",
           f"<p>{s.get('num_utts', len(sset.utts))} utterances, sources "
           f"{esc(' '.join(sset.sources))}, estimates in <code>{esc(sset.sep_dir)}</code>, "
           f"references in <code>{esc(s.get('data_dir'))}</code>.</p>"]
    out += [f'<p class="note">{esc(n)}</p>' for n in sset.notes]
    if sset.results_md:
        out.append("<h3>RESULTS.md</h3>")
        out.append(markdown(sset.results_md))
    if sset.named_stems:
        out += per_stem_table(sset)
    out += breakdown_tables(sset)
    main = sset.main_metrics()
    if main:
        name = f"{safe_name(sset.name)}_histograms.png"
        plots.histograms({m: sset.values(m) for m in main}, out_dir / name)
        out += ["<h3>Per-utterance distributions (mean over sources)</h3>",
                image(name, f"histograms of {', '.join(main)}")]
    out += listening_table(sset, assets, opts)
    return out


# ------------------------------------------------------------------------------ the page


@contextlib.contextmanager
def staged(out_dir: Path, options: ReportOptions):
    """Yield ``(folder, assets)`` to write a report into; on success the folder replaces
    ``out_dir`` in one rename (a reader never sees half a report), on failure it is
    removed and ``out_dir`` is left as it was."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        assets = Assets(tmp, options.max_seconds, options.audio_format)
        plots.colour_bar(tmp / "colour_bar.png")
        yield tmp, assets
        os.chmod(tmp, 0o755)
        old = None
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old.{os.getpid()}")
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def build_report(exp_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None,
                 options: ReportOptions | None = None) -> Path:
    """Write the report of ``exp_dir`` (default ``<exp>/report``); return its index.html."""
    opts = options or ReportOptions()
    exp = Path(exp_dir)
    if not exp.is_dir():
        raise DataError(f"{exp}: not a folder (expected an exp dir)")
    if not any((exp / f).exists() for f in ("config.yaml", "history.tsv", "separate")):
        raise DataError(f"{exp}: no config.yaml, history.tsv or separate/ (not an exp dir?)")
    out_dir = Path(out_dir) if out_dir else exp / "report"
    with staged(out_dir, opts) as (tmp, assets):
        sets = scored_sets(exp)
        nav = ['<a href="#model">model</a>', '<a href="#training">training</a>']
        if (exp / EXAMPLES_DIR / "utts").is_file():
            nav.append('<a href="#examples">examples</a>')
        nav += [f'<a href="#set-{esc(safe_name(s.name))}">{esc(s.name)}</a>' for s in sets]
        body = [f"<h1>{esc(exp.resolve().name)}</h1>", "<nav>" + "".join(nav) + "</nav>"]
        body += model_card_section(exp)
        body += curves_section(exp, tmp)
        body += examples_section(exp, assets)
        if not sets:
            body.append('<p class="note">no scored set yet (steps/separate.sh, steps/score.sh)'
                        "</p>")
        for sset in sets:
            log.info("report: set %s (%d utterances)", sset.name, len(sset.utts))
            body += set_section(sset, tmp, assets, opts)
        (tmp / "index.html").write_text(page(f"sepcore report: {exp.resolve().name}", body),
                                        encoding="utf-8")
    return out_dir / "index.html"
