"""A Kaldi/ESPnet-style data dir, loaded and cross-checked.

Files (DESIGN.md): ``wav.scp`` (mixture), ``spk1.scp .. spkN.scp`` (references),
optional ``sources`` (names of spk1..N), ``noise1.scp``, ``utt2num_samples``,
``utt2spk``, and ``utt2spks`` (``<utt> <speaker of spk1> ... <speaker of spkN>``,
used by dynamic mixing to avoid pairing a speaker with itself).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sepcore.errors import DataError
from sepcore.io.scp import read_int_scp, read_scp, read_scp_dict


def _check_same_ids(reference: list[str], ref_name: Path, other: dict, other_name: Path) -> None:
    missing = [u for u in reference if u not in other]
    if missing:
        raise DataError(
            f"{other_name}: no line for utterance {missing[0]!r} (in {ref_name})"
            + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
        )
    ref_set = set(reference)
    extra = [u for u in other if u not in ref_set]
    if extra:
        raise DataError(
            f"{other_name}: utterance {extra[0]!r} is not in {ref_name}"
            + (f" ({len(extra) - 1} more)" if len(extra) > 1 else "")
        )


@dataclass
class DataDir:
    path: Path
    utts: list[str]
    wav: dict[str, str]
    sources: list[dict[str, str]]
    source_names: list[str]
    noise: dict[str, str] | None = None
    num_samples: dict[str, int] | None = None
    utt2spk: dict[str, str] | None = None
    utt2spks: dict[str, list[str]] | None = None

    @property
    def num_sources(self) -> int:
        return len(self.sources)

    def __len__(self) -> int:
        return len(self.utts)

    @classmethod
    def load(cls, path: str | os.PathLike, require_sources: bool = True) -> DataDir:
        path = Path(path)
        if not path.is_dir():
            raise DataError(f"{path}: data dir not found")
        wav_path = path / "wav.scp"
        wav_items = read_scp(wav_path)
        if not wav_items:
            raise DataError(f"{wav_path}: empty (expected one line per utterance)")
        utts = [u for u, _ in wav_items]
        wav = dict(wav_items)

        sources = []
        k = 1
        while (path / f"spk{k}.scp").is_file():
            spk_path = path / f"spk{k}.scp"
            spk = read_scp_dict(spk_path)
            _check_same_ids(utts, wav_path, spk, spk_path)
            sources.append(spk)
            k += 1
        if require_sources and not sources:
            raise DataError(f"{path}: no spk1.scp (the reference sources are required here)")
        if (path / f"spk{k + 1}.scp").is_file():
            raise DataError(f"{path}: spk{k + 1}.scp exists but spk{k}.scp is missing")

        names = [f"spk{i + 1}" for i in range(len(sources))]
        names_path = path / "sources"
        if names_path.is_file():
            lines = [ln for ln in names_path.read_text(encoding="utf-8").splitlines() if ln.strip()]
            given = lines[0].split() if lines else []
            if len(lines) != 1 or len(given) != len(sources):
                raise DataError(
                    f"{names_path}: expected one line with {len(sources)} source names "
                    f"(one per spkN.scp), got {given!r}"
                )
            names = given

        def optional(name: str, reader):
            file = path / name
            if not file.is_file():
                return None
            table = reader(file)
            _check_same_ids(utts, wav_path, table, file)
            return table

        utt2spks = optional("utt2spks", read_scp_dict)
        if utt2spks is not None:
            for utt in utts:
                if len(utt2spks[utt].split()) != len(sources):
                    raise DataError(
                        f"{path / 'utt2spks'}: utterance {utt!r} should list {len(sources)} "
                        f"speakers, got {utt2spks[utt]!r}"
                    )
            utt2spks = {u: v.split() for u, v in utt2spks.items()}
        return cls(
            path=path, utts=sorted(utts, key=lambda u: u.encode()), wav=wav, sources=sources,
            source_names=names, noise=optional("noise1.scp", read_scp_dict),
            num_samples=optional("utt2num_samples", read_int_scp),
            utt2spk=optional("utt2spk", read_scp_dict), utt2spks=utt2spks,
        )
