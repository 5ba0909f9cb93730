"""The DeMask recipe's data prep on LibriSpeech's layout (egs/demask/demask/local/make_data.py):
a tiny fake LibriSpeech made here; a missing folder is an error naming it, a partial copy
a warning; the fixed dev/test files record their mask type and SNR and are reproducible."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from helpers.recipes import load_script

from sepcore.data import DataDir

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "egs" / "demask" / "demask"


def load_make_data():
    return load_script(RECIPE / "local" / "make_data.py", "demask_make_data")


def fake_librispeech(root: Path, counts=None) -> Path:
    rng = np.random.default_rng(0)
    counts = counts or {"train-clean-360": 3, "dev-clean": 2, "test-clean": 4}
    for folder, n in counts.items():
        for i in range(n):
            spk, chapter = 100 + i % 2, 7
            d = root / folder / str(spk) / str(chapter)
            d.mkdir(parents=True, exist_ok=True)
            x = 0.1 * rng.standard_normal(int(16000 * rng.uniform(0.6, 1.0)))
            sf.write(d / f"{spk}-{chapter}-{i:04d}.flac", x, 16000, subtype="PCM_16")
    return root


def run(md, libri, out, *extra):
    return md.main(["--masks", str(RECIPE / "conf" / "masks.yaml"), "--librispeech-dir",
                    str(libri), "--dev-utts", "0", "--test-utts", "0", *extra,
                    str(out / "corpus"), str(out / "data")])


def test_librispeech_layout(tmp_path, capsys):
    md = load_make_data()
    libri = fake_librispeech(tmp_path / "LibriSpeech")
    assert run(md, libri, tmp_path / "a") == 0
    err = capsys.readouterr().err
    assert "train-clean-360: 3 utterances, the published train-clean-360 has 104014" in err
    data = tmp_path / "a" / "data"
    train = DataDir.load(data / "train")
    assert len(train) == 3 and train.source_names == ["speech"]
    assert sorted(set(train.utt2spk.values())) == ["100", "101"]
    test = DataDir.load(data / "test")
    masks = [ln.split()[1] for ln in (data / "test" / "utt2mask_type").read_text().splitlines()]
    assert sorted(masks) == ["cotton_jersey_2l", "kn95", "n95", "surgical"]  # cycled in order
    for utt in test.utts:
        mix, sr = sf.read(test.wav[utt])
        clean, _ = sf.read(test.sources[0][utt])
        assert sr == 16000 and len(mix) == len(clean) == test.num_samples[utt]
        snr = 10 * np.log10(np.sum(clean**2) / np.sum((mix - clean) ** 2))
        assert 0 < snr < 45  # the mask and the white noise, not a copy
    first = (data / "test" / "wav.scp").read_text().replace(str(tmp_path / "a"), "")
    assert run(md, libri, tmp_path / "b") == 0
    again = (tmp_path / "b" / "data" / "test" / "wav.scp").read_text()
    assert again.replace(str(tmp_path / "b"), "") == first
    x = sf.read(next((tmp_path / "a" / "corpus" / "test" / "masked").iterdir()))[0]
    name = next((tmp_path / "a" / "corpus" / "test" / "masked").iterdir()).name
    assert np.array_equal(x, sf.read(tmp_path / "b" / "corpus" / "test" / "masked" / name)[0])


def test_missing_librispeech_folder(tmp_path, capsys):
    md = load_make_data()
    libri = fake_librispeech(tmp_path / "LibriSpeech", {"train-clean-360": 2, "dev-clean": 1})
    assert run(md, libri, tmp_path / "a") == 1
    err = capsys.readouterr().err
    assert f"make_data.py: error: {libri / 'test-clean'}: LibriSpeech folder not found" in err
    (libri / "test-clean").mkdir()
    assert run(md, libri, tmp_path / "a") == 1
    assert "test-clean: no .flac files" in capsys.readouterr().err
