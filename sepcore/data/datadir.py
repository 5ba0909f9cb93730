"""A Kaldi/ESPnet-style data dir, loaded and cross-checked.

Files (DESIGN.md): ``wav.scp`` (mixture), ``spk1.scp .. spkN.scp`` (references),
optional ``sources`` (names of spk1..N), ``noise1.scp``, ``utt2num_samples``,
``utt2spk``, and ``utt2spks`` (``<utt> <speaker of spk1> ... <speaker of spkN>``,
used by dynamic mixing to avoid pairing a speaker with itself).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sepcore.errors import ConfigError, DataError
from sepcore.io.atomic import atomic_write_text
from sepcore.io.audio import Audio, check_frames, is_pipe, read_audio
from sepcore.io.scp import read_int_scp, read_lines, read_scp, read_scp_dict, write_scp

# Optional files, written only when given (a rewrite removes a stale one).
OPTIONAL_FILES = ("noise1.scp", "utt2num_samples", "utt2spk", "utt2spks")


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


def _table(items: Mapping | Iterable | None) -> dict | None:
    return None if items is None else dict(items.items() if isinstance(items, Mapping) else items)


@dataclass
class DataDir:
    """A data dir (``data/<set>/``): the mixtures, the references and what describes them.

    Args:
        path: the folder.
        utts: utterance ids, sorted as ``LC_ALL=C sort`` sorts them (by their UTF-8 bytes).
        wav: ``wav.scp``: utterance → mixture (a path, or a command ending in ``|``).
        sources: ``spk1.scp .. spkN.scp``: one utterance → reference table per source.
        source_names: the names of spk1..N (the ``sources`` file; default ``spk1 .. spkN``).
        noise: ``noise1.scp`` (optional): utterance → noise reference.
        num_samples: ``utt2num_samples`` (optional): utterance → length in samples.
        utt2spk: ``utt2spk`` (optional): utterance → the first source's speaker.
        utt2spks: ``utt2spks`` (optional): utterance → the speaker of each source, so
            dynamic mixing never mixes a speaker with itself.

    :meth:`load` reads and cross-checks one (the same ids in every file); :meth:`write`
    is the one writer every data preparation uses, so every data dir is sorted the same
    way and holds the same ids in every file.
    """

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

    def read_audio(self, utt: str, source: int | None = None, always_2d: bool = False) -> Audio:
        """The mixture of ``utt`` (``source`` None) or its reference ``source`` (0-based:
        spk1.scp is 0), checked: a file with no samples, or with another number of frames
        than ``utt2num_samples`` says (when the data dir has it), is a DataError naming the
        file, never a short estimate or a reference padded or dropped as silent."""
        name, table = (("wav.scp", self.wav) if source is None
                       else (f"spk{source + 1}.scp", self.sources[source]))
        return check_frames(read_audio(table[utt], always_2d=always_2d), table[utt], utt,
                            (self.num_samples or {}).get(utt), self.path / "utt2num_samples",
                            str(self.path / name))

    def check_sample_rate(self, sample_rate: int | None) -> int:
        """The rate of the first mixture; a ConfigError if ``sample_rate`` differs."""
        import soundfile as sf

        utt = self.utts[0]
        spec = self.wav[utt]
        try:
            actual = read_audio(spec).sample_rate if is_pipe(spec) else sf.info(spec).samplerate
        except (sf.LibsndfileError, RuntimeError) as e:
            raise ConfigError(f"{self.path}/wav.scp: {utt}: cannot read {spec} ({e})") from None
        if sample_rate is not None and actual != sample_rate:
            raise ConfigError(
                f"{self.path}/wav.scp: {utt} is at {actual} Hz but data.sample_rate is "
                f"{sample_rate}; set --data.sample_rate {actual} or prepare {sample_rate} Hz "
                "data")
        return actual

    def __len__(self) -> int:
        return len(self.utts)

    @classmethod
    def write(
        cls,
        path: str | os.PathLike,
        wav: Mapping[str, str] | Iterable[tuple[str, str]],
        sources: list[Mapping[str, str] | Iterable[tuple[str, str]]],
        *,
        source_names: list[str] | None = None,
        noise: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        num_samples: Mapping[str, int] | Iterable[tuple[str, int]] | None = None,
        utt2spk: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        utt2spks: Mapping[str, list[str]] | Iterable[tuple[str, list[str]]] | None = None,
    ) -> DataDir:
        """Write a data dir: every file sorted (``LC_ALL=C``), atomically, the same ids in
        each; ``sources`` names spk1..N. Paths (relative ones are taken from the current
        folder) are written relative to the data dir for its own files, else absolute
        (sepcore/io/scp.py), so a copied data dir points at its own files. Files of an
        earlier write that this one does not have (a ``noise1.scp``, an ``spk3.scp``) are
        removed. Returns the DataDir.

        Raises DataError when a table lacks an utterance of ``wav`` or has one more.
        """
        path = Path(path)
        wav_t = _table(wav)
        if not wav_t:
            raise DataError(f"{path}: no utterances to write")
        src_t = [_table(t) for t in sources]
        names = list(source_names) if source_names else [f"spk{k + 1}" for k in
                                                          range(len(src_t))]
        if len(names) != len(src_t):
            raise DataError(f"{path}: {len(names)} source names {names} for {len(src_t)} "
                            "sources")
        utts = sorted(wav_t, key=lambda u: u.encode())
        spks = _table(utt2spks)
        if spks is not None:
            spks = {u: v.split() if isinstance(v, str) else list(v) for u, v in spks.items()}
        dd = cls(path=path, utts=utts, wav=wav_t, sources=src_t, source_names=names,
                 noise=_table(noise), num_samples=_table(num_samples),
                 utt2spk=_table(utt2spk), utt2spks=spks)
        tables = {f"spk{k + 1}.scp": t for k, t in enumerate(src_t)}
        tables.update(zip(OPTIONAL_FILES, (dd.noise, dd.num_samples, dd.utt2spk,
                                           None if spks is None else
                                           {u: " ".join(v) for u, v in spks.items()})))
        for name, table in tables.items():
            if table is not None:
                _check_same_ids(utts, path / "wav.scp", table, path / name)
        path.mkdir(parents=True, exist_ok=True)
        write_scp(path / "wav.scp", wav_t.items(), paths_in=path)
        for name, table in tables.items():
            if table is not None:
                write_scp(path / name, table.items(),
                          paths_in=path if name.endswith(".scp") else None)
            elif (path / name).exists():
                (path / name).unlink()
        k = len(src_t) + 1
        while (path / f"spk{k}.scp").exists():
            (path / f"spk{k}.scp").unlink()
            k += 1
        if src_t:
            atomic_write_text(path / "sources", " ".join(names) + "\n")
        return dd

    @classmethod
    def load(cls, path: str | os.PathLike, require_sources: bool = True) -> DataDir:
        path = Path(path)
        if not path.is_dir():
            raise DataError(f"{path}: data dir not found")
        wav_path = path / "wav.scp"
        wav_items = read_scp(wav_path, paths=True)
        if not wav_items:
            raise DataError(f"{wav_path}: empty (expected one line per utterance)")
        utts = [u for u, _ in wav_items]
        wav = dict(wav_items)

        sources = []
        k = 1
        while (path / f"spk{k}.scp").is_file():
            spk_path = path / f"spk{k}.scp"
            spk = read_scp_dict(spk_path, paths=True)
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
            lines = [ln for _, ln in read_lines(names_path) if ln.strip()]
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
            source_names=names,
            noise=optional("noise1.scp", lambda f: read_scp_dict(f, paths=True)),
            num_samples=optional("utt2num_samples", read_int_scp),
            utt2spk=optional("utt2spk", read_scp_dict), utt2spks=utt2spks,
        )
