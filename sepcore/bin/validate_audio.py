"""Check the audio of a data dir against its metadata, from the headers alone.

    python -m sepcore.bin.validate_audio [--channels N] data/train

Prints one ``file:line: utterance U: <path>: what is wrong`` line per fault on stdout
(frames that differ from ``utt2num_samples`` or from the mixture, files with no samples,
unreadable headers, sample rates or channels that differ from the mixture's) and exits 1
when there is any. ``utils/validate_data_dir.sh`` runs it after its text checks; see
sepcore/data/validate.py.
"""

from __future__ import annotations

from sepcore.bin.common import int_type, make_parser, prog_name, run_main


def main(argv: list[str] | None = None) -> int:
    from sepcore.data import DataDir
    from sepcore.data.validate import audio_faults

    parser = make_parser("validate_audio", __doc__)
    parser.add_argument("data_dir", help="the data dir, e.g. data/train")
    parser.add_argument("--channels", type=int_type(1), default=None,
                        help="the number of channels every mixture must have (default: any)")
    args = parser.parse_args(argv)
    faults = audio_faults(DataDir.load(args.data_dir, require_sources=False), args.channels)
    for line in faults:
        print(line)
    return 1 if faults else 0


if __name__ == "__main__":
    run_main(main, prog=prog_name("validate_audio"))
