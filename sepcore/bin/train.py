"""Train a separation model on a data dir and write the exp dir of DESIGN.md.

    python -m sepcore.bin.train --config conf/train.yaml --train-dir data/train \
        --valid-dir data/dev --exp-dir exp/convtasnet [--section.key value ...]

Writes ``config.yaml`` (resolved), ``train.log``, ``history.tsv`` (one row per
epoch), ``checkpoints/last.pt`` (everything needed to resume, also saved every
``training.checkpoint_minutes`` inside an epoch), ``checkpoints/best.pt``,
``model.pt`` (best weights + model config + sample rate + sources) and, last,
``.train.done``. With ``--resume true`` (default) an interrupted run continues
from ``last.pt`` at the batch where it stopped, with optimizer, scheduler, epoch
and RNG state; a finished exp dir is refused unless the caller removes it.
Multi-GPU: launch with ``torchrun --nproc_per_node K -m sepcore.bin.train ...``.
The work is done by sepcore/train/.
"""

from __future__ import annotations

from sepcore.bin.common import add_bool, make_parser, prog_name, run_main


def main(argv: list[str] | None = None) -> int:
    parser = make_parser("train", "Train a separation model. Extra '--section.key value' "
                         "arguments override the config (e.g. --optim.lr 5e-4 "
                         "--model.causal true).")
    parser.add_argument("--config", required=True, help="YAML training config")
    parser.add_argument("--train-dir", required=True, help="training data dir")
    parser.add_argument("--valid-dir", required=True, help="validation data dir")
    parser.add_argument("--exp-dir", required=True, help="experiment dir to write")
    add_bool(parser, "--resume", True, "continue from checkpoints/last.pt if present")
    parser.add_argument("--device", default="auto", help="cpu, cuda, or auto (default)")
    args, overrides = parser.parse_known_args(argv)

    from sepcore.train import train

    return train(args.config, args.train_dir, args.valid_dir, args.exp_dir, overrides,
                 resume=args.resume, device=args.device)


if __name__ == "__main__":
    run_main(main, prog=prog_name("train"))
