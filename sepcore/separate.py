"""Separating audio files, or the utterances of a data dir, with a trained model.

The library half of ``sepcore-separate`` / ``python -m sepcore.bin.separate`` (whose
docstring describes both modes); ``args`` is that entry point's parsed arguments.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import sys
import time
from pathlib import Path

from sepcore.errors import ConfigError, DataError, DiskFullError, SepcoreError

logger = logging.getLogger("sepcore.separate")

AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus")


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


def separate_to_files(model, spec: str, outputs: list[str], plan=None, *,
                      stems: list[str] | None = None, residual_name: str | None = None,
                      exclusive: bool = False, check=None) -> float:
    """Separate one input (path or scp pipe) into WAV files; returns its duration in s.

    ``outputs``: one path per name of ``model.output_names(stems, residual_name)``
    (every source, or with ``stems`` the kept stems and the residual, see
    :func:`sepcore.stems.keep_stems`). Written at the input's rate, length, channels
    and sample format when it is PCM or float, else 16-bit PCM (mp3, ogg/vorbis,
    opus: :func:`sepcore.io.audio.wav_subtype`); levels as ``model.match_levels``
    says, then one common scale so nothing clips. Raises DataError naming ``spec``.
    The outputs are published together once all are written (none on a failure or a full
    disk, so a rerun redoes the input); ``exclusive``: an existing output is an error
    (another run's), never overwritten.
    """
    from sepcore.io import read_audio
    from sepcore.io.audio import fit_to_range, wav_subtype, write_audio_set
    from sepcore.stems import keep_stems

    audio = read_audio(spec)
    if check is not None:  # data-dir mode: the length utt2num_samples says
        check(audio)
    if audio.num_frames == 0:
        raise DataError(f"{spec}: contains no samples (zero-length audio)")
    subtype = wav_subtype(audio.subtype)
    try:
        est = model.separate_array(audio.data, audio.sample_rate, plan=plan)
    except DataError as e:
        raise DataError(f"{spec}: {e}") from None
    names = list(model.sources)
    fit_to_range(est, audio.data, subtype, match_levels=model.match_levels,
                 limit_peak=not stems)
    if stems:  # the residual from the level-matched stems, then one common peak limit
        est, names = keep_stems(est, audio.data, names, stems,
                                residual_name or model.residual_name)
        fit_to_range(est, audio.data, subtype, match_levels=False)
    if len(outputs) != len(names):
        raise ConfigError(f"{len(outputs)} output paths for {len(names)} outputs "
                          f"({' '.join(names)})")
    write_audio_set(outputs, est, audio.sample_rate, subtype, format="WAV", exclusive=exclusive)
    return audio.num_frames / audio.sample_rate


def stems_option(args) -> list[str] | None:
    """``--stems a,b`` (or ``"a b"``) as a list; None without the option."""
    if getattr(args, "stems", None) is None:
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
    model.set_postfilter(getattr(args, "postfilter", None))
    model.set_precision(getattr(args, "precision", "fp32"))
    model.set_shifts(getattr(args, "shifts", 1))
    plan = model.plan(args.chunk_seconds, args.hop_seconds, args.whole_seconds)
    logger.info("model %s: %d Hz, sources %s; chunks of %.2f s every %.2f s; %s",
                args.model, model.sample_rate, " ".join(model.sources),
                plan.window / model.sample_rate, plan.hop / model.sample_rate, model.precision)
    return model, plan


def run_files(args) -> int:
    """File mode: separate ``args.inputs`` (files, folders, globs) into ``args.out_dir``."""
    from tqdm import tqdm

    from sepcore.io.atomic import remove_stale_temporaries

    if not args.inputs:
        raise ConfigError("no input files given (FILES|DIRS|GLOBS...)")
    files, errors = expand_inputs(args.inputs)
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    model, plan = _setup(args)
    stems = stems_option(args)
    if not stems and model.info.get("residual_name") and model.num_sources == 1:
        stems = list(model.sources)  # its config named the residual: write it too (egs/custom)
    names = model.output_names(stems, args.residual_name)
    out_dir = Path(args.out_dir or "separated")
    remove_stale_temporaries(out_dir)
    failed, done, claimed = len(errors), 0, {}
    bar = tqdm(files, unit="file", disable=None if args.progress else True, file=sys.stderr)
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
            if existing and not args.force:  # (saves the work; the write is what is exclusive)
                raise DataError(f"{path}: output {existing[0]} exists (use --force to overwrite)")
            t0 = time.time()
            seconds = separate_to_files(model, path, outputs, plan, stems=stems,
                                        residual_name=args.residual_name,
                                        exclusive=not args.force)
            done += 1
            logger.debug("%s: %.1f s of audio in %.1f s", path, seconds, time.time() - t0)
        except DiskFullError:
            raise  # every later input would fail the same way
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


PROVENANCE = "separate.json"
PROVENANCE_KEYS = ("model", "model_sha256", "sources", "wiener", "window", "hop", "whole")


def provenance(model_path: str, names: list[str], model, plan) -> dict:
    """What makes a separated dir's estimates: the model file (path and sha256) and the
    separation options; recorded in ``<out-dir>/separate.json``."""
    from sepcore.pack import sha256_file

    p = Path(model_path)
    model_file = p / "model.pt" if p.is_dir() else p
    prov = {"model": os.path.abspath(model_path), "model_sha256": sha256_file(model_file),
            "sources": names, "wiener": model.wiener_settings(), "window": plan.window,
            "hop": plan.hop, "whole": plan.whole}
    if getattr(model, "precision", "fp32") != "fp32":  # float32 keeps the earlier record
        prov["precision"] = model.precision
    if getattr(model, "postfilter", None):  # as precision: none keeps the earlier record
        prov["postfilter"] = model.postfilter
    if getattr(model, "shifts", 1) != 1:  # as precision
        prov["shifts"] = model.shifts
    return prov


def check_provenance(sep_dir: Path) -> dict | None:
    """The ``separate.json`` of a separated dir, checked before scoring: None when there is
    none (estimates from elsewhere: an oracle, a baseline); DataError when it is incomplete,
    when a separation did not finish, or when spkN.scp predate it (another run's)."""
    stamp = sep_dir / PROVENANCE
    if not stamp.is_file():
        return None
    try:
        prov = json.loads(stamp.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise DataError(f"{stamp}: unreadable ({e}); separate again with --force true") from None
    missing = [k for k in PROVENANCE_KEYS if not isinstance(prov, dict) or k not in prov]
    if missing:
        raise DataError(f"{stamp}: incomplete provenance (no {', '.join(missing)}); separate "
                        "again with --force true")
    if (sep_dir / ".parts").exists():
        raise DataError(f"{sep_dir}: a separation into it did not finish ({sep_dir / '.parts'} "
                        "exists); rerun steps/separate.sh")
    for f in sorted(sep_dir.glob("spk*.scp")):
        if f.stat().st_mtime_ns < stamp.stat().st_mtime_ns:
            raise DataError(f"{f}: older than {stamp} (written by an earlier separation with "
                            "another model or options); rerun steps/separate.sh")
    return prov


def run_data_dir(args) -> int:
    """Data-dir mode: this job's share of ``args.data_dir``/wav.scp (see the module doc)."""
    from sepcore.io import read_int_scp, read_scp, write_scp
    from sepcore.io.atomic import remove_stale_temporaries
    from sepcore.io.audio import check_frames
    from sepcore.io.separated import claim_separated_dir

    if args.inputs:
        raise ConfigError("give either --data-dir or input files, not both")
    if not args.out_dir:
        raise ConfigError("--data-dir needs --out-dir")
    if args.num_jobs < 1 or not 1 <= args.job <= args.num_jobs:
        raise ConfigError(f"--job {args.job} --num-jobs {args.num_jobs}: need 1 <= job <= num-jobs")
    wav = read_scp(Path(args.data_dir) / "wav.scp", paths=True)
    lengths_file = Path(args.data_dir) / "utt2num_samples"
    lengths = read_int_scp(lengths_file) if lengths_file.is_file() else {}
    mine = [(u, s) for i, (u, s) in enumerate(wav) if i % args.num_jobs == args.job - 1]
    model, plan = _setup(args)
    stems = stems_option(args)
    names = model.output_names(stems, args.residual_name)
    out = Path(args.out_dir)
    # never mix estimates of two models or settings
    claim_separated_dir(out, PROVENANCE, provenance(args.model, names, model, plan), names,
                        args.force, "--force true")
    for folder in (out, out / "wav"):  # outputs cut by kill -9; other jobs' are kept
        remove_stale_temporaries(folder)
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
                secs = separate_to_files(
                    model, spec, outputs, plan, stems=stems, residual_name=args.residual_name,
                    check=lambda a, u=utt, s=spec: check_frames(a, s, u, lengths.get(u),
                                                                lengths_file))
                busy = time.time() - t0
                audio_s, busy_s = audio_s + secs, busy_s + busy
                logger.info("%d/%d %s: %.2f s of audio in %.2f s", n, len(mine), utt, secs, busy)
        except DiskFullError:
            raise  # no .parts/ scp: scoring refuses the dir, a rerun redoes the rest
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
        write_scp(out / ".parts" / f"spk{k}.{args.job}.scp", items, paths_in=out)
    logger.info("job %d/%d: %d utterances, %d separated, %d already done, %d failed; "
                "real-time factor %.3f", args.job, args.num_jobs, len(mine),
                len(mine) - skipped - failed, skipped, failed,
                busy_s / audio_s if audio_s else 0.0)
    return 1 if failed else 0


def run(args) -> int:
    """File mode without ``args.data_dir``, data-dir mode with it."""
    if args.data_dir is None:
        logging.getLogger().setLevel(logging.WARNING)
        return run_files(args)
    return run_data_dir(args)
