"""Separate audio files, or every utterance of a data dir, with a trained model.

File mode (``sepcore-separate`` after ``pip install -e .``, or ``python -m sepcore.bin.separate``):

    sepcore-separate --model PACK|EXPDIR|model.pt [--out-dir D] [--device cpu|cuda]
                     [--stems NAME[,NAME...]] [--wiener-iterations N]
                     [--window-seconds W] [--hop-seconds H] [--force] FILES|DIRS|GLOBS...

Reads wav/flac/mp3/ogg/opus (anything soundfile reads), resamples to the model's
rate and back (soxr), and writes ``D/<name>_<source>.wav`` (D defaults to
``separated``) at the input's rate, length and channels. Sample format: the
input's when a WAV file can hold it (PCM_16/24/32, FLOAT...); compressed inputs
(mp3, ogg/vorbis, opus) give 16-bit PCM WAV, since libsndfile cannot write mp3
with a PCM subtype. Scale-invariant (speech) models' outputs are brought to the
mixture's level; music models keep theirs; all are scaled together not to clip.
A multichannel input to a mono model is separated channel by channel; a stereo
(music) model takes both channels, and a mono input to it is duplicated to
stereo and its stems written back as mono. A folder stands for the audio files
directly inside it; quote globs to let sepcore expand them (``**`` recurses).

``--stems vocals`` writes only the vocals and the residual, the mixture minus
the kept stems (``<name>_no_vocals.wav``: the accompaniment, like Demucs's
``--two-stems``; ``--residual-name`` or the model's own name, e.g. ``noise``,
overrides it); the written files sum to the mixture. Time-frequency models
(umx) refine their estimates with the multichannel Wiener filter:
``--wiener-iterations N`` (0: the masked mixture), ``--softmask true|false`` and
``--residual true|false`` (an extra ``residual`` source); defaults from the model.
Existing outputs are not overwritten without ``--force``. A file that cannot be
separated is reported by name and skipped; the others are still separated, and
the exit code is 1 if any failed.

Data-dir mode (used by steps/separate.sh):

    python -m sepcore.bin.separate --model EXP --data-dir D --out-dir O [--job J --num-jobs N]

separates the utterances of ``D/wav.scp`` whose (0-based) index i has
``i % N == J - 1``, writing ``O/wav/<utt>_<source>.wav`` (atomically; an utterance
whose outputs all exist is skipped) and ``O/.parts/spk<n>.<J>.scp``;
steps/separate.sh merges the parts into ``O/spk<n>.scp``. ``O/sources`` gets the
model's source names (or the ``--stems`` and their residual); ``O/separate.json``
the model and options: a rerun with others into the same folder is an error
(``--force`` redoes everything).

Inputs up to 20 s (``--whole-seconds``) are separated in one pass; longer ones
in chunks with overlap-add, window and hop defaulting to values derived from the
model's receptive field (see sepcore/inference.py).
"""

from __future__ import annotations

import argparse
import glob
import json
import logging
import os
import sys
import time
from pathlib import Path

from sepcore.bin.common import str2bool
from sepcore.errors import ConfigError, DataError, SepcoreError

logger = logging.getLogger("sepcore.separate")

AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus")


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog, description=__doc__.split("\n\n")[0],
        epilog="See the module docstring (sepcore/bin/separate.py) for details.",
    )
    p.add_argument("--model", required=True,
                   help="a pack (<tag>.tar.gz), an exp dir or a model.pt")
    p.add_argument("--out-dir", default=None,
                   help="output folder (file mode default: ./separated)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    p.add_argument("--window-seconds", "--chunk-seconds", dest="window_seconds", type=float,
                   default=None, help="chunk length in seconds (default: from the model)")
    p.add_argument("--hop-seconds", type=float, default=None,
                   help="hop between chunks in seconds (default: from the model)")
    p.add_argument("--whole-seconds", type=float, default=None,
                   help="inputs up to this long are separated in one pass (default: 20, or 0 "
                        "with --window-seconds)")
    p.add_argument("--stems", default=None, metavar="NAME[,NAME...]",
                   help="write only these sources and the residual (mixture minus them)")
    p.add_argument("--residual-name", default=None,
                   help="name of the --stems residual (default: the model's, else "
                        "no_<stem>, or residual for several stems)")
    p.add_argument("--wiener-iterations", type=int, default=None,
                   help="EM iterations of the multichannel Wiener filter (TF models; "
                        "default: the model's; 0: off)")
    p.add_argument("--softmask", type=str2bool, default=None, metavar="true|false",
                   help="Wiener filter: start from the soft mask (default: the model's)")
    p.add_argument("--residual", type=str2bool, default=None, metavar="true|false",
                   help="Wiener filter: add a 'residual' source (default: the model's)")
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    p.add_argument("--num-threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--data-dir", default=None, help="data-dir mode: separate D/wav.scp")
    p.add_argument("--job", type=int, default=1, help="data-dir mode: this job's id (1-based)")
    p.add_argument("--num-jobs", type=int, default=1, help="data-dir mode: number of jobs")
    p.add_argument("inputs", nargs="*", metavar="FILE|DIR|GLOB", help="file mode: audio inputs")
    return p


def expand_inputs(args: list[str]) -> tuple[list[str], list[str]]:
    """Files named by ``args`` (files, folders, globs) in order; and errors for the rest."""
    files, errors, seen = [], [], set()

    def add(path: str) -> None:
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            files.append(path)

    for arg in args:
        if os.path.isdir(arg):
            found = sorted(
                str(p) for p in Path(arg).iterdir()
                if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS
            )
            if not found:
                errors.append(f"{arg}: no {'/'.join(AUDIO_EXTENSIONS)} files in this folder")
            for f in found:
                add(f)
        elif os.path.lexists(arg):
            add(arg)
        elif glob.has_magic(arg):
            found = sorted(p for p in glob.glob(arg, recursive=True) if os.path.isfile(p))
            if not found:
                errors.append(f"{arg}: no file matches this pattern")
            for f in found:
                add(f)
        else:
            errors.append(f"{arg}: no such file or folder")
    return files, errors


def stems_option(args) -> list[str] | None:
    if args.stems is None:
        return None
    stems = [x for x in args.stems.replace(",", " ").split() if x]
    if not stems:
        raise ConfigError("--stems: expected one or more source names")
    return stems


def _setup(args):
    import torch

    from sepcore.api import load

    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    if args.device not in ("cpu", "cuda") and not args.device.startswith("cuda:"):
        raise ConfigError(f"--device: expected cpu or cuda, got {args.device!r}")
    model = load(args.model, device=args.device)
    model.set_wiener(args.wiener_iterations, args.softmask, args.residual)
    plan = model.plan(args.window_seconds, args.hop_seconds, args.whole_seconds)
    logger.info("model %s: %d Hz, sources %s; chunks of %.2f s every %.2f s",
                args.model, model.sample_rate, " ".join(model.sources),
                plan.window / model.sample_rate, plan.hop / model.sample_rate)
    return model, plan


def run_files(args) -> int:
    from tqdm import tqdm

    from sepcore.api import separate_file

    if not args.inputs:
        raise ConfigError("no input files given (FILES|DIRS|GLOBS...)")
    files, errors = expand_inputs(args.inputs)
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    model, plan = _setup(args)
    stems = stems_option(args)
    names = model.output_names(stems, args.residual_name)
    out_dir = Path(args.out_dir or "separated")
    failed, done, claimed = len(errors), 0, {}
    bar = tqdm(files, unit="file", disable=True if args.no_progress else None, file=sys.stderr)
    for path in bar:
        bar.set_postfix_str(os.path.basename(path))
        try:
            stem = Path(path).stem
            outputs = [str(out_dir / f"{stem}_{src}.wav") for src in names]
            if stem in claimed:
                raise DataError(f"{path}: its outputs ({outputs[0]}, ...) would overwrite those "
                                f"of {claimed[stem]}; separate them into different --out-dir")
            claimed[stem] = path
            existing = [o for o in outputs if os.path.exists(o)]
            if existing and not args.force:
                raise DataError(f"{path}: output {existing[0]} exists (use --force to overwrite)")
            t0 = time.time()
            seconds = separate_file(model, path, outputs, plan=plan, stems=stems,
                                    residual_name=args.residual_name)
            done += 1
            logger.debug("%s: %.1f s of audio in %.1f s", path, seconds, time.time() - t0)
        except SepcoreError as e:
            failed += 1
            tqdm.write(f"error: {e}", file=sys.stderr)
        except (MemoryError, RuntimeError, OSError, ValueError) as e:
            failed += 1
            tqdm.write(f"error: {path}: separation failed ({type(e).__name__}: {e})",
                       file=sys.stderr)
    bar.close()
    total = len(files) + len(errors)
    msg = f"separated {done} of {total} input(s) into {out_dir}/"
    if failed:
        msg += f"; {failed} failed (see the errors above)"
    print(msg, file=sys.stderr)
    return 1 if failed else 0


def run_data_dir(args) -> int:
    from sepcore.api import separate_file
    from sepcore.io import atomic_write_text, read_scp, write_scp

    if args.inputs:
        raise ConfigError("give either --data-dir or input files, not both")
    if not args.out_dir:
        raise ConfigError("--data-dir needs --out-dir")
    if args.num_jobs < 1 or not 1 <= args.job <= args.num_jobs:
        raise ConfigError(f"--job {args.job} --num-jobs {args.num_jobs}: need 1 <= job <= num-jobs")
    wav = read_scp(Path(args.data_dir) / "wav.scp")
    mine = [(u, s) for i, (u, s) in enumerate(wav) if i % args.num_jobs == args.job - 1]
    model, plan = _setup(args)
    stems = stems_option(args)
    names = model.output_names(stems, args.residual_name)
    out = Path(args.out_dir)
    (out / "wav").mkdir(parents=True, exist_ok=True)
    settings = {"model": os.path.abspath(args.model), "sources": names,
                "wiener": model.wiener_settings(), "window": plan.window, "hop": plan.hop,
                "whole": plan.whole}
    stamp = out / "separate.json"
    if stamp.is_file() and not args.force:
        old = json.loads(stamp.read_text(encoding="utf-8"))
        if old != settings:
            raise ConfigError(f"{stamp}: this folder holds estimates made with {old}, not "
                              f"{settings}; use another out-dir (or --force)")
    atomic_write_text(stamp, json.dumps(settings, sort_keys=True) + "\n")
    atomic_write_text(out / "sources", " ".join(names) + "\n")
    parts: list[list[tuple[str, str]]] = [[] for _ in names]
    failed = skipped = 0
    audio_s = busy_s = 0.0
    for n, (utt, spec) in enumerate(mine, 1):
        outputs = [str(out / "wav" / f"{utt}_{src}.wav") for src in names]
        try:
            if not args.force and all(os.path.exists(o) for o in outputs):
                skipped += 1
            else:
                t0 = time.time()
                secs = separate_file(model, spec, outputs, plan=plan,
                                     stems=stems, residual_name=args.residual_name)
                busy = time.time() - t0
                audio_s, busy_s = audio_s + secs, busy_s + busy
                logger.info("%d/%d %s: %.2f s of audio in %.2f s", n, len(mine), utt, secs, busy)
        except SepcoreError as e:
            failed += 1
            logger.error("utterance %s: %s", utt, e)
            continue
        except (MemoryError, RuntimeError, OSError, ValueError) as e:
            failed += 1
            logger.error("utterance %s (%s): separation failed (%s: %s)",
                         utt, spec, type(e).__name__, e)
            continue
        for k, o in enumerate(outputs):
            parts[k].append((utt, o))
    for k, items in enumerate(parts, 1):
        write_scp(out / ".parts" / f"spk{k}.{args.job}.scp", items)
    logger.info("job %d/%d: %d utterances, %d separated, %d already done, %d failed; "
                "real-time factor %.3f", args.job, args.num_jobs, len(mine),
                len(mine) - skipped - failed, skipped, failed,
                busy_s / audio_s if audio_s else 0.0)
    return 1 if failed else 0


def _main(argv: list[str] | None, prog: str) -> int:
    from sepcore.bin.common import setup_logging

    args = build_parser(prog).parse_args(argv)
    setup_logging()
    if args.data_dir is None:
        logging.getLogger().setLevel(logging.WARNING)
        return run_files(args)
    return run_data_dir(args)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``sepcore-separate``; exits 1 with ``prog: error: ...`` on failure."""
    from sepcore.bin.common import run_main

    prog = "sepcore-separate" if os.path.basename(sys.argv[0]) == "sepcore-separate" \
        else "python -m sepcore.bin.separate"
    run_main(lambda: _main(argv, prog), prog=prog)


if __name__ == "__main__":
    main()
