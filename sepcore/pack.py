"""Packs: one shareable ``<tag>.tar.gz`` per experiment, with a model card and checksums.

Layout of ``exp/<tag>/<tag>.tar.gz`` (every member under one folder ``<tag>/``)::

    <tag>/model.pt                              weights + config + rate + sources
    <tag>/config.yaml                           the resolved training config
    <tag>/history.tsv                           one row per epoch
    <tag>/separate/<set>/scores/RESULTS.md      the scores of every scored set
    <tag>/separate/<set>/scores/summary.json
    <tag>/README.md                             the model card
    <tag>/MANIFEST                              "<sha256>  <path>" for every other member

``MANIFEST`` uses the ``sha256sum`` format, so ``cd <tag> && sha256sum -c MANIFEST``
checks an unpacked copy by hand. :func:`unpack` refuses members with absolute
paths, ``..`` components, links or special files, extracts only inside the
target folder, and verifies every checksum before returning.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import zlib
from pathlib import Path, PurePosixPath

from sepcore.errors import ModelFileError
from sepcore.io.atomic import atomic_path

MANIFEST = "MANIFEST"
CARD = "README.md"
_SCORE_FILES = ("RESULTS.md", "summary.json")
_SHA_RE = re.compile(r"^([0-9a-f]{64})  (.+)$")


def sha256_file(path: str | os.PathLike, bufsize: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(bufsize):
            h.update(chunk)
    return h.hexdigest()


def collect_members(exp_dir: str | os.PathLike) -> list[str]:
    """Relative paths of the exp dir's files that go into the pack (sorted)."""
    exp = Path(exp_dir)
    if not (exp / "model.pt").is_file():
        raise ModelFileError(f"{exp}: no model.pt (train the model first: steps/train.sh)")
    members = ["model.pt"]
    for name in ("config.yaml", "history.tsv"):
        if (exp / name).is_file():
            members.append(name)
    for scores in sorted(exp.glob("separate/*/scores")):
        for name in _SCORE_FILES:
            if (scores / name).is_file():
                members.append((scores / name).relative_to(exp).as_posix())
    return sorted(members)


def _fmt_seconds(s) -> str:
    try:
        s = int(round(float(s)))
    except (TypeError, ValueError):
        return "unknown"
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d} ({s} s)"


def _fmt_number(v):
    return f"{v:.4g}" if isinstance(v, float) else ("unknown" if v is None else v)


def _flatten(d, prefix="") -> list[tuple[str, object]]:
    rows = []
    if isinstance(d, dict):
        for k, v in d.items():
            rows += _flatten(v, f"{prefix}{k}." if not isinstance(v, (int, float, str)) else
                             f"{prefix}{k}")
    elif isinstance(d, (int, float, str)) and prefix:
        rows.append((prefix.rstrip("."), d))
    return rows


def _history_epochs(path: Path) -> int | None:
    if not path.is_file():
        return None
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return max(0, len(lines) - 1)


def card_fields(exp_dir: str | os.PathLike, license: str | None = None,
                meta: dict | None = None) -> list[tuple[str, str]]:
    """The model card's (field, value) rows: what the model is and how it was trained
    (``meta``: model.pt's dict, if already read)."""
    import torch

    from sepcore.modelfile import read_exp_config, read_model_file
    from sepcore.version import __version__

    exp = Path(exp_dir)
    meta = meta or read_model_file(exp / "model.pt")
    info = meta.get("info") or {}
    cfg = read_exp_config(exp / "config.yaml") or {}
    model_cfg = dict(meta.get("model") or {})
    name = model_cfg.pop("name", "?")
    num_params = info.get("num_params")
    if num_params is None:
        num_params = sum(int(v.numel()) for v in meta.get("state_dict", {}).values())
    epochs = info.get("epochs", _history_epochs(exp / "history.tsv"))
    lic = (license or cfg.get("license") or info.get("license")
           or "unspecified (ask the model's author before reuse)")
    sources = meta.get("sources") or []
    data_cfg = cfg.get("data") if isinstance(cfg.get("data"), dict) else {}
    return [
        ("model", f"{name} ({', '.join(f'{k}={v}' for k, v in sorted(model_cfg.items()))})"),
        ("corpus", cfg.get("corpus") or info.get("corpus") or "unspecified"),
        ("task", cfg.get("task") or info.get("task") or "unspecified"),
        ("sample rate", f"{meta.get('sample_rate')} Hz"),
        ("sources", " ".join(sources)),
        ("parameters", f"{num_params:,}" if isinstance(num_params, int) else num_params),
        ("training time", _fmt_seconds(info.get("train_seconds"))),
        ("epochs", epochs if epochs is not None else "unknown"),
        ("best validation loss", _fmt_number(info.get("best_valid_loss"))),
        ("best validation SI-SDRi (dB)", _fmt_number(info.get("best_valid_si_sdri"))),
        ("training data", info.get("train_dir") or data_cfg.get("train_dir") or "unknown"),
        ("validation data", info.get("valid_dir") or "unknown"),
        ("model format version", meta.get("format_version")),
        ("trained with",
         f"sepcore {meta.get('sepcore_version')}, torch {meta.get('torch_version')}"),
        ("packed with", f"sepcore {__version__}, torch {torch.__version__}"),
        ("licence", lic),
    ]


def model_card(exp_dir: str | os.PathLike, members: list[str], license: str | None = None) -> str:
    """The pack's README.md: what the model is, how it was trained, how it scores."""
    from sepcore.modelfile import read_exp_config, read_model_file

    exp = Path(exp_dir)
    tag = exp.resolve().name
    meta = read_model_file(exp / "model.pt")
    info = meta.get("info") or {}
    cfg = read_exp_config(exp / "config.yaml") or {}
    name = (meta.get("model") or {}).get("name", "?")
    rows = card_fields(exp, license, meta)
    description = cfg.get("description") or info.get("description")
    out = [f"# {tag}", "",
           f"A sepcore source separation model ({name}), packed from `exp/{tag}`.", ""]
    if description:
        out += [str(description), ""]
    out += ["| field | value |", "|---|---|"]
    out += [f"| {k} | {str(v).replace('|', '/')} |" for k, v in rows]
    sets = sorted({m.split("/")[1] for m in members if m.startswith("separate/")})
    out += ["", "## Results", ""]
    if not sets:
        out.append("No scored test set in this experiment.")
    for s in sets:
        out += [f"### {s}", ""]
        summary = exp / "separate" / s / "scores" / "summary.json"
        if summary.is_file():
            try:
                flat = _flatten(json.loads(summary.read_text(encoding="utf-8")))
            except (json.JSONDecodeError, UnicodeDecodeError):
                flat = []
            nums = [(k, v) for k, v in flat if isinstance(v, (int, float))]
            if nums:
                out += ["| metric | value |", "|---|---|"]
                out += [f"| {k} | {v:.4g} |" if isinstance(v, float) else f"| {k} | {v} |"
                        for k, v in nums]
                out.append("")
        results = exp / "separate" / s / "scores" / "RESULTS.md"
        if results.is_file():
            text = results.read_text(encoding="utf-8").strip()
            out += [re.sub(r"^(#+)", r"###\1", ln) for ln in text.splitlines()] + [""]
    out += [
        "", "## Use", "", "```sh",
        f"sepcore-separate --model {tag}.tar.gz --out-dir separated mixture.wav",
        "```", "", "```python", "import sepcore, soundfile as sf, torch",
        f'model = sepcore.load("{tag}.tar.gz")',
        'mix, sr = sf.read("mixture.wav", dtype="float32")',
        "estimates = model.separate(torch.from_numpy(mix), sr)  # [sources, time]",
        "```", "",
        "## Files", "",
        "`MANIFEST` holds the sha256 of every other file (`sha256sum -c MANIFEST`); "
        "`sepcore.load` checks it and loads `model.pt` with `torch.load(weights_only=True)`.",
        "",
    ]
    out += [f"- `{m}`" for m in members + [CARD]]
    return "\n".join(out) + "\n"


def manifest_text(hashes: dict[str, str]) -> str:
    return "".join(f"{h}  {p}\n" for p, h in sorted(hashes.items()))


def parse_manifest(text: str, origin: str) -> dict[str, str]:
    out = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        m = _SHA_RE.match(line)
        if not m:
            raise ModelFileError(f"{origin}:{lineno}: malformed MANIFEST line (expected "
                                 f"'<sha256>  <path>'): {line[:80]!r}")
        out[m.group(2)] = m.group(1)
    if not out:
        raise ModelFileError(f"{origin}: MANIFEST is empty")
    return out


def _tarinfo(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.size, ti.mtime, ti.mode = size, mtime, 0o644
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    return ti


def pack(
    exp_dir: str | os.PathLike, output: str | os.PathLike | None = None,
    license: str | None = None,
) -> Path:
    """Write ``<exp>/<tag>.tar.gz`` atomically (byte-identical when nothing changed)."""
    exp = Path(exp_dir)
    if not exp.is_dir():
        raise ModelFileError(f"{exp}: experiment folder not found")
    tag = exp.resolve().name
    out = Path(output) if output else exp / f"{tag}.tar.gz"
    members = collect_members(exp)
    card = model_card(exp, members, license).encode("utf-8")
    hashes = {m: sha256_file(exp / m) for m in members}
    hashes[CARD] = hashlib.sha256(card).hexdigest()
    manifest = manifest_text(hashes).encode("utf-8")
    mtime = int((exp / "model.pt").stat().st_mtime)
    with atomic_path(out, suffix=".tmp") as tmp, open(tmp, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        d = tarfile.TarInfo(tag)
        d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, mtime
        tar.addfile(d)
        for m in members:
            with open(exp / m, "rb") as f:
                tar.addfile(_tarinfo(f"{tag}/{m}", (exp / m).stat().st_size, mtime), f)
        tar.addfile(_tarinfo(f"{tag}/{CARD}", len(card), mtime), io.BytesIO(card))
        tar.addfile(_tarinfo(f"{tag}/{MANIFEST}", len(manifest), mtime), io.BytesIO(manifest))
    return out


def is_up_to_date(exp_dir: str | os.PathLike, output: str | os.PathLike | None = None) -> bool:
    """True if the pack exists and is newer than every file it would hold."""
    exp = Path(exp_dir)
    out = Path(output) if output else exp / f"{exp.resolve().name}.tar.gz"
    if not out.is_file():
        return False
    t = out.stat().st_mtime
    return all((exp / m).stat().st_mtime <= t for m in collect_members(exp))


def _check_member(ti: tarfile.TarInfo, archive: Path) -> PurePosixPath:
    name = ti.name
    p = PurePosixPath(name)
    if name.startswith(("/", "\\")) or p.is_absolute() or re.match(r"^[A-Za-z]:", name):
        raise ModelFileError(f"{archive}: refusing member {name!r}: absolute path")
    if ".." in p.parts or "\\" in name:
        raise ModelFileError(f"{archive}: refusing member {name!r}: path leaves the target folder")
    if ti.issym() or ti.islnk():
        raise ModelFileError(f"{archive}: refusing member {name!r}: a link (not allowed in a pack)")
    if not (ti.isfile() or ti.isdir()):
        raise ModelFileError(f"{archive}: refusing member {name!r}: not a regular file or folder")
    return p


def is_pack(path: Path) -> bool:
    """By its name, its gzip header or its tar header (so a damaged pack is reported as a
    pack, not as a model file)."""
    try:
        with open(path, "rb") as f:
            gzipped = f.read(2) == b"\x1f\x8b"
        return gzipped or path.name.endswith((".tar.gz", ".tgz", ".tar")) or \
            tarfile.is_tarfile(path)
    except OSError as e:
        raise ModelFileError(f"{path}: cannot read ({e.strerror or e})") from None


def unpack(archive: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Safely extract ``archive`` into ``dest`` and verify it; returns ``dest/<tag>``."""
    archive, dest = Path(archive), Path(dest)
    try:
        if os.path.getsize(archive) == 0:
            raise ModelFileError(f"{archive}: file is empty (0 bytes), expected a pack "
                                 "(<tag>.tar.gz)")
        tar = tarfile.open(archive, "r:*")
    except (tarfile.TarError, OSError, EOFError) as e:
        why = "not a tar or gzip archive" if isinstance(e, tarfile.ReadError) else e
        raise ModelFileError(f"{archive}: not a readable pack ({why}), expected a "
                             "<tag>.tar.gz written by steps/pack.sh") from None
    with tar:
        try:
            infos = tar.getmembers()
        except (tarfile.TarError, EOFError, OSError, gzip.BadGzipFile) as e:
            raise ModelFileError(f"{archive}: corrupt archive ({e})") from None
        paths = [_check_member(ti, archive) for ti in infos]
        tops = {p.parts[0] for p in paths if p.parts}
        if len(tops) != 1:
            raise ModelFileError(
                f"{archive}: expected every member under one folder <tag>/, found "
                f"{', '.join(sorted(tops)) or 'nothing'}")
        top = tops.pop()
        if PurePosixPath(top, MANIFEST) not in paths:
            raise ModelFileError(f"{archive}: no {top}/{MANIFEST} (not a sepcore pack?)")
        dest.mkdir(parents=True, exist_ok=True)
        root = (dest / top).resolve()
        base = dest.resolve()
        for ti, p in zip(infos, paths):
            target = (dest / Path(*p.parts)).resolve()
            if target != base and base not in target.parents:
                raise ModelFileError(f"{archive}: refusing member {ti.name!r}: outside {dest}")
            if ti.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(ti)
            try:
                with open(target, "wb") as f:
                    while chunk := src.read(1 << 20):
                        f.write(chunk)
            except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as e:
                raise ModelFileError(f"{archive}: corrupt archive at {ti.name} ({e})") from None
    verify_dir(root, origin=str(archive))
    return root


def verify_dir(
    folder: str | os.PathLike, origin: str | None = None, allow_extra: bool = False
) -> None:
    """Check every file of an unpacked pack against its MANIFEST; ModelFileError if not.

    Files not listed are an error too, unless ``allow_extra`` (a folder in use).
    """
    folder = Path(folder)
    origin = origin or str(folder)
    mpath = folder / MANIFEST
    if not mpath.is_file():
        raise ModelFileError(f"{origin}: no {MANIFEST}")
    expected = parse_manifest(mpath.read_text(encoding="utf-8"), f"{origin}: {MANIFEST}")
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    present.discard(MANIFEST)
    missing = sorted(set(expected) - present)
    if missing:
        raise ModelFileError(f"{origin}: {', '.join(missing)} listed in {MANIFEST} but missing")
    extra = sorted(present - set(expected))
    if extra and not allow_extra:
        raise ModelFileError(f"{origin}: {', '.join(extra)} not listed in {MANIFEST} "
                             "(the pack was modified)")
    for rel, sha in sorted(expected.items()):
        got = sha256_file(folder / rel)
        if got != sha:
            raise ModelFileError(
                f"{origin}: checksum mismatch for {rel}: {MANIFEST} says sha256 {sha[:16]}..., "
                f"the file has {got[:16]}... (the pack was modified or corrupted)")
