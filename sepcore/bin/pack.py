"""Pack an exp dir into ``<exp>/<tag>.tar.gz``, or verify and unpack a pack safely.

    python -m sepcore.bin.pack [--output F] [--license L] [--force true] EXP_DIR
    python -m sepcore.bin.pack --unpack PACK [--dest DIR]

The pack holds model.pt, config.yaml, history.tsv, the RESULTS.md and
summary.json of every scored set (``separate/<set>/scores/``), a README.md
model card and a MANIFEST of sha256 sums (see sepcore/pack.py). It is written
atomically and deterministically; a pack newer than every file it holds is left
alone unless ``--force true``. ``--unpack`` refuses unsafe members (absolute paths,
``..``, links) and checks every checksum.
"""

from __future__ import annotations

import argparse
import logging
import sys

from sepcore.bin.common import add_bool, make_parser, prog_name, run_main, setup_logging

log = logging.getLogger("sepcore.pack")


def build_parser() -> argparse.ArgumentParser:
    p = make_parser("pack", __doc__)
    p.add_argument("exp_dir", nargs="?", help="the experiment folder exp/<tag>")
    p.add_argument("--output", default=None, help="default: <exp-dir>/<tag>.tar.gz")
    p.add_argument("--license", default=None,
                   help="licence for the model card (default: config.yaml 'license')")
    add_bool(p, "--force", False, "repack even if up to date")
    p.add_argument("--unpack", metavar="PACK", default=None, help="verify and extract a pack")
    p.add_argument("--dest", default=".", help="with --unpack: target folder (default: .)")
    return p


def _main(argv: list[str] | None) -> int:
    from sepcore.errors import ConfigError
    from sepcore.pack import is_up_to_date, pack, unpack

    args = build_parser().parse_args(argv)
    setup_logging()
    if args.unpack:
        root = unpack(args.unpack, args.dest)
        log.info("%s: checksums verified; unpacked into %s", args.unpack, root)
        return 0
    if not args.exp_dir:
        raise ConfigError("give an exp dir to pack (or --unpack PACK)")
    if not args.force and is_up_to_date(args.exp_dir, args.output):
        log.info("%s: pack is up to date (use --force true to repack)", args.exp_dir)
        return 0
    out = pack(args.exp_dir, args.output, args.license)
    log.info("wrote %s", out)
    return 0


def main(argv: list[str] | None = None) -> None:
    run_main(lambda: _main(argv), prog=prog_name("pack"))


if __name__ == "__main__":
    main(sys.argv[1:])
