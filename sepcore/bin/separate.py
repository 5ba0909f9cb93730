"""Separate audio files, or every utterance of a data dir, with a trained model.

File mode (``sepcore-separate`` after ``pip install -e .``, or ``python -m sepcore.bin.separate``):

    sepcore-separate --model PACK|EXPDIR|model.pt [--out-dir D] [--device cpu|cuda]
                     [--stems NAME[,NAME...]] [--wiener-iterations N]
                     [--postfilter true|false] [--shifts N]
                     [--chunk-seconds W] [--hop-seconds H] [--force true] FILES|DIRS|GLOBS...

Reads wav/flac/mp3/ogg/opus (anything soundfile reads), resamples to the model's
rate and back (soxr), and writes ``D/<name>_<source>.wav`` (D defaults to
``separated``) at the input's rate, length and channels. Sample format: the
input's when it is PCM or float (PCM_16/24/32, FLOAT...); compressed inputs
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
An enhancement model trained with ``postfilter.enabled: true`` (egs/mini_enh) applies
its parametric Wiener post-filter (sepcore/spectral/postfilter.py); ``--postfilter
false`` turns it off, ``true`` on (with the config's or the default settings).
``--shifts N`` averages the estimates of N copies of the input delayed by fractions of
the model's frame hop (Demucs's shift trick, spread evenly instead of at random; see
sepcore/shift_average.py): N times the work, about +0.3 dB SI-SDR for the mini recipe's
ConvTasNet (egs/mini/convtasnet/README.md).
Existing outputs are not overwritten without ``--force true``: each input's outputs are
written to temporary files and published together, with a link that fails when the
name exists, so of two runs writing the same name one wins and the other reports the
file (never a silent overwrite). A file that cannot be separated is reported by name and
skipped; the others are still separated, and the exit code is 1 if any failed. A full
disk stops the run with ``disk full writing <file>``; no input is left with only some of
its outputs, and a rerun redoes the rest.

Data-dir mode (used by steps/separate.sh):

    python -m sepcore.bin.separate --model EXP --data-dir D --out-dir O [--job J --num-jobs N]

separates the utterances of ``D/wav.scp`` whose (0-based) index i has
``i % N == J - 1``, writing ``O/wav/<utt>_<source>.wav`` (atomically; an utterance
whose outputs all exist is skipped) and ``O/.parts/spk<n>.<J>.scp``;
steps/separate.sh merges the parts into ``O/spk<n>.scp``. ``O/sources`` gets the
model's source names (or the ``--stems`` and their residual); ``O/separate.json``
the model (path and sha256 of its model file) and options: a rerun with others into
the same folder, or into one holding estimates without it, is an error; ``--force
true`` first removes the merged spkN.scp, sources and scores/, then redoes everything.
Scoring refuses a dir whose separate.json is incomplete, whose separation did not
finish (``O/.parts`` left) or whose spkN.scp predate its separate.json.

Inputs up to 60 s (``--whole-seconds``) are separated in one pass; longer ones
in chunks with overlap-add, window and hop defaulting to values derived from the
model's receptive field (see sepcore/inference.py). The work is done by
sepcore/separate.py.
"""

from __future__ import annotations

import argparse
import os
import sys

from sepcore.bin.common import (
    add_bool,
    int_type,
    make_parser,
    number_type,
    run_main,
    setup_logging,
    str2bool,
)


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = make_parser("separate", __doc__, prog=prog,
                    epilog="See the module docstring (sepcore/bin/separate.py) for details.")
    p.add_argument("--model", required=True,
                   help="a pack (<tag>.tar.gz), an exp dir or a model.pt")
    p.add_argument("--out-dir", default=None,
                   help="output folder (file mode default: ./separated)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    # --window-seconds: the name before --chunk-seconds (the name of steps/separate.sh)
    p.add_argument("--chunk-seconds", "--window-seconds", dest="chunk_seconds",
                   type=number_type(above=0), default=None,
                   help="chunk length in seconds (default: from the model)")
    p.add_argument("--hop-seconds", type=number_type(above=0), default=None,
                   help="hop between chunks in seconds (default: from the model)")
    p.add_argument("--whole-seconds", type=number_type(0), default=None,
                   help="inputs up to this long are separated in one pass (default: 60, or 0 "
                        "with --chunk-seconds)")
    p.add_argument("--stems", default=None, metavar="NAME[,NAME...]",
                   help="write only these sources and the residual (mixture minus them)")
    p.add_argument("--residual-name", default=None,
                   help="name of the --stems residual (default: the model's, else "
                        "no_<stem>, or residual for several stems)")
    p.add_argument("--wiener-iterations", type=int_type(0), default=None,
                   help="EM iterations of the multichannel Wiener filter (TF models; "
                        "default: the model's; 0: off)")
    for flag, what in (("--softmask", "start from the soft mask"),
                       ("--residual", "add a 'residual' source")):
        p.add_argument(flag, type=str2bool, nargs="?", const=True, default=None,
                       metavar="true|false", help=f"Wiener filter: {what} (default: the "
                       f"model's)")
    p.add_argument("--postfilter", type=str2bool, nargs="?", const=True, default=None,
                   metavar="true|false", help="the parametric Wiener post-filter of a "
                   "one-source (enhancement) model (default: its config's postfilter.enabled)")
    p.add_argument("--shifts", type=int_type(1), default=1,
                   help="average the estimates of N inputs delayed by fractions of the "
                        "model's frame hop (default 1: off; at most the hop in samples)")
    add_bool(p, "--force", False, "overwrite existing outputs")
    p.add_argument("--num-threads", type=int_type(1), default=None, help="torch CPU threads")
    p.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                   help="fp32 (default) or bf16 autocast, used where the CPU/GPU has native "
                        "bfloat16 (AMX or AVX-512 BF16), float32 with a warning elsewhere")
    add_bool(p, "--progress", True, "show a progress bar (file mode)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help=argparse.SUPPRESS)  # the name before --progress false
    p.add_argument("--data-dir", default=None, help="data-dir mode: separate D/wav.scp")
    p.add_argument("--job", type=int_type(1),
                   default=1, help="data-dir mode: this job's id (1-based)")
    p.add_argument("--num-jobs", type=int_type(1), default=1, help="data-dir mode: number of jobs")
    p.add_argument("inputs", nargs="*", metavar="FILE|DIR|GLOB", help="file mode: audio inputs")
    return p


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``sepcore-separate``; exits 1 with ``prog: error: ...`` on failure."""
    prog = "sepcore-separate" if os.path.basename(sys.argv[0]) == "sepcore-separate" \
        else "python -m sepcore.bin.separate"

    def _main() -> int:
        from sepcore.separate import run

        args = build_parser(prog).parse_args(argv)
        setup_logging()
        return run(args)

    run_main(_main, prog=prog)


if __name__ == "__main__":
    main()
