"""Score separated estimates against a reference data dir (``steps/score.sh`` runs this).

Job mode (one of ``--num-jobs`` parallel jobs; job J takes the utterances whose index in the
sorted list is J-1 modulo N) appends one JSON line per finished utterance to
``<separated-dir>/scores/parts/job.J.jsonl``, so a killed job, rerun, redoes only what is
missing. ``--merge`` then writes ``per_utt.tsv``, ``summary.json`` and ``RESULTS.md`` and
adds the mixture scores to the data dir's cache ``<ref-data-dir>/scores/input_scores.tsv``
(valid while wav.scp, spkN.scp and the audio they name stay the same: size, mtime and a
checksum of each file), which later experiments reuse; RESULTS.md says which it used.

The work is done by sepcore/scoring/ (inputs, job parts, the input-score cache, results).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core per job so --nj N scales (before numpy loads)

import argparse  # noqa: E402

from sepcore.bin.common import add_bool, int_type, make_parser, prog_name, run_main  # noqa: E402


def get_parser() -> argparse.ArgumentParser:
    p = make_parser("score", __doc__)
    p.add_argument("ref_dir", help="reference data dir (wav.scp, spk1.scp..spkN.scp)")
    p.add_argument("sep_dir", help="separated dir (spk1.scp..spkN.scp of estimates)")
    p.add_argument("--metrics", default="default",
                   help="comma-separated metrics or sets (default: si_sdr,sdr,sir,sar,stoi,pesq; "
                        "with one reference, spk1.scp only: 'enhancement' = si_sdr,pesq,stoi,"
                        "estoi,ssnr,csig,cbak,covl; 'music': sdr_v4,isr_v4,sir_v4,sar_v4,"
                        "sdr_mdx; 'speech' adds estoi; 'dnsmos' (optional): dnsmos_sig,"
                        "dnsmos_bak,dnsmos_ovrl; all are listed in sepcore/metrics/registry.py)")
    p.add_argument("--job", type=int_type(1), default=1, help="job index, 1-based (default 1)")
    p.add_argument("--num-jobs", type=int_type(1), default=1, help="number of jobs (default 1)")
    add_bool(p, "--merge", False,
             "merge the jobs' results into per_utt.tsv, summary.json, RESULTS.md")
    add_bool(p, "--allow-length-mismatch", False,
             "trim estimates/references to the shorter length instead of failing; trims are "
             "counted in the summary")
    add_bool(p, "--compute-permutation", True,
             "assign estimates to references by the best mean SI-SDR (false for named stems, "
             "e.g. music)")
    add_bool(p, "--use-cache", True, "reuse/store mixture scores in <ref-dir>/scores")
    add_bool(p, "--progress", True, "show a progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    from sepcore.bin.common import setup_logging
    from sepcore.scoring import score

    args = get_parser().parse_args(argv)
    setup_logging()
    return score(args)


if __name__ == "__main__":
    run_main(main, prog=prog_name("score"))
