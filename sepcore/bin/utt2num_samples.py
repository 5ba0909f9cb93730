"""Write ``<utt> <number of samples>`` for every entry of an scp file.

    python -m sepcore.bin.utt2num_samples data/train/wav.scp data/train/utt2num_samples

Lengths come from the audio headers (entries ending in ``|`` are run and
decoded). The output is sorted (``LC_ALL=C``) and written atomically. Used by
``utils/get_utt2num_samples.sh``.
"""

from __future__ import annotations

from sepcore.bin.common import make_parser, prog_name, run_main
from sepcore.errors import DataError
from sepcore.io import audio_num_frames, read_scp, write_scp


def main(argv: list[str] | None = None) -> int:
    parser = make_parser("utt2num_samples", __doc__)
    parser.add_argument("scp", help="input scp, e.g. data/train/wav.scp")
    parser.add_argument("out", help="output file, e.g. data/train/utt2num_samples")
    args = parser.parse_args(argv)
    rows = []
    for lineno, (utt, spec) in enumerate(read_scp(args.scp, paths=True), 1):
        try:
            n = audio_num_frames(spec)
        except DataError as e:
            raise DataError(f"{args.scp}:{lineno}: utterance {utt}: {e}") from None
        if n <= 0:
            raise DataError(f"{args.scp}:{lineno}: utterance {utt}: {spec} has no samples")
        rows.append((utt, n))
    write_scp(args.out, rows)
    return 0


if __name__ == "__main__":
    run_main(main, prog=prog_name("utt2num_samples"))
