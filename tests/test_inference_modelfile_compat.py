"""Forward compatibility: a model.pt written in format version 1 keeps loading and computing.

tests/data/model_v1.pt was written once by tests/data/make_model_v1.py (sepcore 0.1.0,
format 1) and is committed; it must never be regenerated. If a later sepcore changes
the model-file layout, it must upgrade this file on load (sepcore.modelfile._upgrade).
"""

from pathlib import Path

import numpy as np
import pytest
import torch

import sepcore
from sepcore.errors import ModelFileError
from sepcore.modelfile import load_model_file
from sepcore.version import MODEL_FORMAT_VERSION

DATA = Path(__file__).resolve().parent / "data"


def _fixture_input():
    t = np.arange(800) / 8000.0
    return (0.5 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 97 * t)).astype(
        np.float32)


def test_v1_file_is_still_format_1_and_loads_with_weights_only():
    raw = torch.load(DATA / "model_v1.pt", map_location="cpu", weights_only=True)
    assert raw["format"] == "sepcore-model" and raw["format_version"] == 1
    loaded = load_model_file(DATA / "model_v1.pt")
    assert loaded.format_version == 1 <= MODEL_FORMAT_VERSION
    assert loaded.sample_rate == 8000 and loaded.sources == ["spk1", "spk2"]


def test_v1_file_computes_the_same_outputs():
    model = sepcore.load(DATA / "model_v1.pt")
    with torch.inference_mode():
        out = model.model(torch.from_numpy(_fixture_input())[None])[0].numpy()
    np.testing.assert_allclose(out, np.load(DATA / "model_v1_expected.npy"), atol=1e-5)
    est = model.separate(_fixture_input(), 8000, rescale=False)
    np.testing.assert_allclose(est.numpy(), np.load(DATA / "model_v1_expected.npy"), atol=1e-5)


def test_a_newer_format_is_refused_with_a_clear_message(tmp_path):
    raw = torch.load(DATA / "model_v1.pt", map_location="cpu", weights_only=True)
    raw["format_version"] = MODEL_FORMAT_VERSION + 1
    torch.save(raw, tmp_path / "model.pt")
    with pytest.raises(ModelFileError, match="newer sepcore"):
        sepcore.load(tmp_path / "model.pt")


def test_a_pickled_object_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("code ran",))

    torch.save({"format": "sepcore-model", "x": Evil()}, tmp_path / "model.pt")
    with pytest.raises(ModelFileError, match=r"holds Python objects other than tensors and "
                       r"plain data \(refused: loading it could run code\)"):
        sepcore.load(tmp_path / "model.pt")
