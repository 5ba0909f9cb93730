"""Separate or enhance audio live with a causal model, block by block.

``sepcore-stream`` (or ``python -m sepcore.bin.stream``):

    sepcore-stream --model PACK|EXPDIR|model.pt [--block-ms 16] INPUT [outputs]

INPUT is an audio file (wav, flac, ogg), ``-`` for stdin (a WAV stream, or raw
little-endian PCM with ``--format s16le|s32le|f32le|f64le --rate R --channels C``),
or ``--input-device [ID]`` for a sound card (needs the optional ``sounddevice``
package; ``--seconds`` stops it, else Ctrl-C). Outputs (any of): ``--out-dir D``
(``D/<name>_<source>.wav`` at the input's rate and sample format; the default when
no output is given, D = separated), ``--stdout [true]`` (raw PCM, the sources as
interleaved channels, ``--out-format``), ``--output-device [ID]`` (plays the source
``--play``). Multichannel input is mixed down to mono; other rates than the model's
are resampled on the fly (soxr).

It prints the algorithmic latency (the model's window + one block) first and, at the
end, the real-time factor and the mean and worst per-block compute time; it warns
when a block took longer than its duration.

Levels: the model's outputs have an arbitrary gain. ``--scale end`` (the default for
file outputs) rescales them after the last block with sepcore-separate's rule, so the
files hold sepcore-separate's samples; ``--scale running`` (the default for live
outputs, which cannot wait for the end) applies the same gains computed over the
output so far and clips and counts the rare samples beyond 0.99; ``--scale none``
writes the model's output as it is. A model that is not causal is refused.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from sepcore.bin.common import add_bool, int_type, make_parser, number_type, run_main


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    p = make_parser("stream", __doc__, prog=prog,
                    epilog="See the module docstring (sepcore/bin/stream.py) for details.")
    p.add_argument("--model", required=True, help="a pack (<tag>.tar.gz), an exp dir or a model.pt")
    p.add_argument("input", nargs="?", metavar="INPUT", help="an audio file, or - for stdin")
    p.add_argument("--block-ms", type=number_type(above=0),
                   default=16.0, help="block length (default 16 ms)")
    p.add_argument("--format", default=None, help="raw PCM input: s16le, s32le, f32le or f64le")
    p.add_argument("--rate", type=int_type(1),
                   default=None, help="raw PCM or device input: sample rate")
    p.add_argument("--channels", type=int_type(1),
                   default=1, help="raw PCM or device input: channels")
    p.add_argument("--input-device", nargs="?", const="default", default=None, metavar="ID",
                   help="record from a sound device (index or name; default device if none)")
    p.add_argument("--seconds", type=number_type(0),
                   default=0.0, help="device input: stop after this")
    p.add_argument("--out-dir", default=None, help="write <name>_<source>.wav files here")
    add_bool(p, "--stdout", False, "write raw PCM to stdout")
    p.add_argument("--out-format", default=None,
                   help="--stdout sample format (default: the raw input's, else s16le)")
    p.add_argument("--output-device", nargs="?", const="default", default=None, metavar="ID",
                   help="play a source on a sound device")
    p.add_argument("--play", default=None, help="--output-device: the source to play "
                                                "(default: the first)")
    p.add_argument("--scale", default=None, choices=("end", "running", "none"),
                   help="output levels (default: end for files only, else running)")
    add_bool(p, "--force", False, "overwrite existing output files")
    p.add_argument("--num-threads", type=int_type(1),
                   default=1, help="torch CPU threads (default 1)")
    return p


def _main(argv: list[str] | None, prog: str) -> int:
    from sepcore.streaming.live import stream_command

    args = build_parser(prog).parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr, force=True)
    opts = vars(args)
    return stream_command(opts.pop("model"), opts.pop("input"), **opts)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``sepcore-stream``; exits 1 with ``prog: error: ...`` on failure."""
    prog = "sepcore-stream" if os.path.basename(sys.argv[0]) == "sepcore-stream" \
        else "python -m sepcore.bin.stream"
    run_main(lambda: _main(argv, prog), prog=prog)


if __name__ == "__main__":
    main()
