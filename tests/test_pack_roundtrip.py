"""Packs: contents, MANIFEST, model card, bit-identical reload, tampering and unsafe paths."""

import hashlib
import io
import tarfile

import numpy as np
import pytest
import torch
from helpers.inference import make_exp_dir, tone_mix

import sepcore
from sepcore.errors import ModelFileError
from sepcore.pack import is_up_to_date, pack, parse_manifest, unpack


@pytest.fixture
def exp(tmp_path):
    return make_exp_dir(tmp_path / "exp", scored=("test", "dev"))


def _members(archive):
    with tarfile.open(archive) as tar:
        return {ti.name: (tar.extractfile(ti).read() if ti.isfile() else None)
                for ti in tar.getmembers()}


def _rewrite(archive, out, change=None, add=()):
    """Copy ``archive`` to ``out`` with member bytes changed by ``change(name, data)``."""
    with tarfile.open(archive) as src, tarfile.open(out, "w:gz") as dst:
        for ti in src.getmembers():
            data = src.extractfile(ti).read() if ti.isfile() else None
            if data is not None and change:
                data = change(ti.name, data)
                ti.size = len(data)
            dst.addfile(ti, io.BytesIO(data) if data is not None else None)
        for ti, data in add:
            dst.addfile(ti, io.BytesIO(data) if data is not None else None)


def test_pack_holds_model_config_scores_card_and_manifest(exp):
    archive = pack(exp)
    assert archive == exp / "tiny.tar.gz"
    m = _members(archive)
    files = {n for n, d in m.items() if d is not None}
    assert files == {f"tiny/{p}" for p in [
        "model.pt", "config.yaml", "history.tsv", "README.md", "MANIFEST",
        "separate/dev/scores/RESULTS.md", "separate/dev/scores/summary.json",
        "separate/test/scores/RESULTS.md", "separate/test/scores/summary.json"]}
    manifest = parse_manifest(m["tiny/MANIFEST"].decode(), "MANIFEST")
    assert len(manifest) == len(files) - 1
    for rel, sha in manifest.items():
        assert hashlib.sha256(m[f"tiny/{rel}"]).hexdigest() == sha
    card = m["tiny/README.md"].decode()
    for needle in ["| corpus | mini |", "| task | sep_clean |", "| sample rate | 8000 Hz |",
                   "| sources | spk1 spk2 |", "| licence | CC-BY-4.0 |", "1:02:05 (3725 s)",
                   "| epochs | 3 |", "### dev", "### test", "| si_sdri.mean | 12.5 |",
                   "sepcore.load", "torch " + torch.__version__.split("+")[0]]:
        assert needle in card, needle
    n_params = sum(p.numel() for p in sepcore.load(exp).model.parameters())
    assert f"| parameters | {n_params:,} |" in card


def test_repack_is_byte_identical_and_up_to_date_check(exp):
    a = pack(exp).read_bytes()
    assert is_up_to_date(exp)
    assert pack(exp).read_bytes() == a


def test_pack_and_exp_dir_and_model_pt_give_bit_identical_outputs(exp):
    x = torch.from_numpy(tone_mix(1.5, 8000))
    ref = sepcore.load(exp).separate(x, 8000)
    archive = pack(exp)
    for path in (archive, exp / "model.pt"):
        m = sepcore.load(path)
        assert m.sources == ["spk1", "spk2"] and m.sample_rate == 8000
        assert torch.equal(m.separate(x, 8000), ref)


def test_tampered_member_gives_a_checksum_error(exp, tmp_path):
    archive = pack(exp)
    bad = tmp_path / "bad.tar.gz"

    def flip(name, data):
        if name.endswith("model.pt"):
            i = len(data) // 2
            return data[:i] + bytes([data[i] ^ 1]) + data[i + 1:]
        return data

    _rewrite(archive, bad, flip)
    with pytest.raises(ModelFileError, match=r"checksum mismatch for model.pt"):
        sepcore.load(bad)


def test_member_not_in_manifest_is_refused(exp, tmp_path):
    bad = tmp_path / "extra.tar.gz"
    ti = tarfile.TarInfo("tiny/evil.py")
    ti.size = 4
    _rewrite(pack(exp), bad, add=[(ti, b"pass")])
    with pytest.raises(ModelFileError, match=r"evil.py not listed in MANIFEST"):
        sepcore.load(bad)


@pytest.mark.parametrize("name,kind", [
    ("../x", "file"), ("tiny/../../x", "file"), ("/tmp/sepcore_abs_x", "file"),
    ("tiny/link", "symlink"), ("tiny/hard", "hardlink"),
])
def test_unsafe_members_are_refused(exp, tmp_path, name, kind):
    bad = tmp_path / "unsafe.tar.gz"
    ti = tarfile.TarInfo(name)
    if kind == "symlink":
        ti.type, ti.linkname = tarfile.SYMTYPE, "/etc/passwd"
        data = None
    elif kind == "hardlink":
        ti.type, ti.linkname = tarfile.LNKTYPE, "../../etc/passwd"
        data = None
    else:
        data = b"x"
        ti.size = 1
    _rewrite(pack(exp), bad, add=[(ti, data)])
    dest = tmp_path / "dest"
    with pytest.raises(ModelFileError, match="refusing member"):
        unpack(bad, dest)
    with pytest.raises(ModelFileError, match="refusing member"):
        sepcore.load(bad)
    assert not (tmp_path / "x").exists() and not (dest / "tiny" / "link").exists()
    assert not list(dest.rglob("*")) if dest.exists() else True


def test_unpack_then_load_the_folder(exp, tmp_path):
    root = unpack(pack(exp), tmp_path / "models")
    assert root == (tmp_path / "models" / "tiny").resolve()
    x = torch.from_numpy(tone_mix(0.5, 8000))
    assert torch.equal(sepcore.load(root).separate(x), sepcore.load(exp).separate(x))
    (root / "history.tsv").write_text("changed\n")
    with pytest.raises(ModelFileError, match="checksum mismatch for history.tsv"):
        sepcore.load(root)


def test_not_a_pack(tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"\x1f\x8b\x08" + bytes(100))
    with pytest.raises(ModelFileError, match="junk.tar.gz"):
        sepcore.load(junk)
    with pytest.raises(ModelFileError, match="no such file"):
        sepcore.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelFileError, match="no model.pt"):
        sepcore.load(tmp_path / "empty")


def test_pack_cli_and_exp_without_model(exp, tmp_path, capsys):
    from sepcore.bin.pack import main

    with pytest.raises(SystemExit) as e:
        main([str(exp)])
    assert e.value.code == 0 and (exp / "tiny.tar.gz").is_file()
    with pytest.raises(SystemExit) as e:
        main([str(tmp_path)])
    assert e.value.code == 1
    assert "no model.pt" in capsys.readouterr().err
    np.testing.assert_equal(is_up_to_date(exp), True)


@pytest.mark.slow
def test_steps_pack_sh(exp):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root), LC_ALL="C",
               PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    p = subprocess.run([str(root / "steps" / "pack.sh"), "--license", "MIT", str(exp)],
                       env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    archive = exp / "tiny.tar.gz"
    assert "| licence | MIT |" in _members(archive)["tiny/README.md"].decode()
    p = subprocess.run([str(root / "steps" / "pack.sh"), "--help"], env=env,
                       capture_output=True, text=True)
    assert p.returncode == 0 and "Usage: steps/pack.sh" in p.stdout


def test_errors_inside_a_pack_name_the_pack(exp, tmp_path):
    bad = b"not a model"
    sha = hashlib.sha256(bad).hexdigest().encode()

    def corrupt(name, data):  # a consistent pack (MANIFEST updated) with a broken model.pt
        if name.endswith("model.pt"):
            return bad
        if name.endswith("MANIFEST"):
            lines = [sha + b"  model.pt" if ln.endswith(b"  model.pt") else ln
                     for ln in data.splitlines()]
            return b"\n".join(lines) + b"\n"
        return data

    archive = tmp_path / "broken.tar.gz"
    _rewrite(pack(exp), archive, corrupt)
    with pytest.raises(ModelFileError,
                       match=r"broken.tar.gz: model.pt: not a file written by torch.save"):
        sepcore.load(archive)
