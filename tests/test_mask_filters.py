"""Face-mask filters (sepcore/data/mask_filters.py) and the masked dataset (sepcore/data/masked.py).

The DeMask recipe's responses (egs/demask/demask/conf/masks.yaml, Corey et al. 2020) must
be reproduced by their FIR filters within 1 dB at every response point, jittered or not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers.datadirs import make_datadir

from sepcore.data import DataDir
from sepcore.data.mask_filters import (
    MaskResponse,
    apply_fir,
    design_fir,
    fir_taps,
    jitter_db,
    load_mask_responses,
    response_db,
    select_masks,
)
from sepcore.data.masked import MaskedSpeechDataset, mask_example
from sepcore.errors import ConfigError, DataError
from sepcore.scoring.breakdown import read_groups

ROOT = Path(__file__).resolve().parents[1]
MASKS = ROOT / "egs" / "demask" / "demask" / "conf" / "masks.yaml"
SR = 16000


@pytest.fixture(scope="module")
def masks():
    return load_mask_responses(MASKS)


def test_the_recipe_has_the_nine_responses_of_the_source(masks):
    assert list(masks) == ["surgical", "kn95", "n95", "cotton_jersey_2l", "cotton_plain_2l",
                           "cotton_spandex_2l", "cotton_spandex_3l", "cotton_denim_2l",
                           "polyester_bedsheet_2l"]
    s = masks["surgical"]
    assert s.freqs.tolist() == [0, 250, 1000, 1500, 2000, 2500, 2815, 3175, 3500, 4000, 5000,
                                6000, 7000]
    assert s.gains_db[6] == pytest.approx(20 * np.log10(0.53))
    assert masks["cotton_denim_2l"].gains_db.min() == pytest.approx(20 * np.log10(0.11))
    assert "Corey" in MASKS.read_text() and "10.1121/10.0002279" in MASKS.read_text()


def test_filters_reproduce_every_response_point_within_1_db(masks):
    taps = fir_taps(SR, 32.0)
    assert taps == 513
    for m in masks.values():
        h = design_fir(m, SR, taps)
        assert len(h) == taps and np.allclose(h, h[::-1])  # linear phase
        err = np.abs(response_db(h, m.freqs, SR) - m.gains_db)
        assert err.max() < 1.0, (m.name, err.round(2).tolist())


def test_jittered_responses_are_reproduced_within_1_db_too(masks):
    rng = np.random.default_rng(0)
    for i in range(27):
        base = list(masks.values())[i % len(masks)]
        m = jitter_db(base, rng, 1.5)
        assert m.gains_db[0] == base.gains_db[0] and not np.allclose(m.gains_db, base.gains_db)
        err = np.abs(response_db(design_fir(m, SR, 513), m.freqs, SR) - m.gains_db)
        assert err.max() < 1.0, (m.name, err.round(2).tolist())
    assert jitter_db(base, rng, 0.0) is base


def test_8khz_audio_drops_points_above_nyquist(masks):
    m = masks["n95"]
    h = design_fir(m, 8000, fir_taps(8000, 32.0))
    below = m.freqs <= 3500
    err = np.abs(response_db(h, m.freqs[below], 8000) - m.gains_db[below])
    assert err.max() < 1.0


def test_apply_fir_removes_the_delay(masks):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(8000)
    flat = MaskResponse("flat", np.array([0.0, 8000.0]), np.array([0.0, 0.0]))
    y = apply_fir(x, design_fir(flat, SR, 257))
    assert len(y) == len(x)
    assert np.max(np.abs(y[300:-300] - x[300:-300])) < 0.02  # a flat filter: the signal back
    h = design_fir(masks["surgical"], SR, 513)
    y = apply_fir(x, h)
    lags = np.arange(-20, 21)
    corr = [np.dot(np.roll(x, k), y) for k in lags]
    assert lags[int(np.argmax(corr))] == 0
    with_margin = apply_fir(np.concatenate([x[:600], x, x[:600]]), h, margin=600)
    assert len(with_margin) == len(x)


def test_mask_example_snr_level_and_target(masks):
    rng = np.random.default_rng(2)
    clean = 0.1 * rng.standard_normal(16000 + 2 * 513)
    mix, target = mask_example(clean, masks["n95"], SR, 513, 513, 20.0, -25.0, rng)
    assert len(mix) == len(target) == 16000
    g = target[100] / clean[513 + 100]
    assert np.allclose(target, g * clean[513:-513])  # the target: the clean window, scaled
    assert 20 * np.log10(np.sqrt(np.mean(mix**2))) == pytest.approx(-25.0, abs=1e-6)
    # high frequencies are attenuated by the mask, low ones are not
    spec_mix, spec_t = np.abs(np.fft.rfft(mix)) ** 2, np.abs(np.fft.rfft(target)) ** 2
    f = np.fft.rfftfreq(16000, 1 / SR)
    band = lambda s, lo, hi: s[(f >= lo) & (f < hi)].sum()  # noqa: E731
    assert 10 * np.log10(band(spec_mix, 100, 900) / band(spec_t, 100, 900)) > -1.0
    assert 10 * np.log10(band(spec_mix, 2700, 3600) / band(spec_t, 2700, 3600)) < -4.0


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    root = tmp_path_factory.mktemp("masked")
    return DataDir.load(make_datadir(root, "train", num_utts=4, num_sources=1, sample_rate=SR,
                                     min_len=0.5, max_len=1.5))


def test_dataset_examples_are_deterministic_and_shaped(speech):
    ds = MaskedSpeechDataset(speech, MASKS, segment=1.0, sample_rate=SR, epoch_size=6,
                             mask_types="surgical,n95")
    assert [m.name for m in ds.masks] == ["surgical", "n95"] and ds.numtaps == 513
    for i in range(3):
        mix, target = ds[i]
        assert mix.shape == (SR,) and target.shape == (1, SR)
        assert float(mix.abs().max()) <= 0.99 + 1e-6
        again = ds[i]
        assert np.array_equal(mix.numpy(), again[0].numpy())
    ds.set_epoch(1)
    assert not np.array_equal(ds[0][0].numpy(), mix.numpy())


def test_bad_mask_specs_are_clear_errors(tmp_path, speech):
    with pytest.raises(ConfigError, match="freq must start at 0 Hz"):
        load_mask_responses({"m": {"freq": [100, 200], "gain": [1, 1]}})
    with pytest.raises(ConfigError, match="same length"):
        load_mask_responses({"m": {"freq": [0, 200, 300], "gain": [1, 1]}})
    with pytest.raises(ConfigError, match="linear gains must be >= 0"):
        load_mask_responses({"m": {"freq": [0, 200], "gain": [1, -1]}})
    with pytest.raises(ConfigError, match="expected \\{freq"):
        load_mask_responses({"m": [1, 2]})
    with pytest.raises(ConfigError, match="mask response file not found"):
        load_mask_responses(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="unknown mask type\\(s\\) paper; known: surgical"):
        select_masks(load_mask_responses(MASKS), "surgical,paper")
    with pytest.raises(ConfigError, match="numtaps must be odd"):
        design_fir(load_mask_responses(MASKS)["n95"], SR, 512)
    two = make_datadir(tmp_path, "two", num_utts=2, num_sources=2, sample_rate=SR)
    with pytest.raises(DataError, match="exactly one source"):
        MaskedSpeechDataset(DataDir.load(two), MASKS, segment=1.0, sample_rate=SR)
    with pytest.raises(ConfigError, match="noise_snr_range.*backwards"):
        MaskedSpeechDataset(speech, MASKS, segment=1.0, sample_rate=SR,
                            noise_snr_range=[30, 10])


def test_scoring_breaks_results_down_per_mask_type(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "utt2mask_type").write_text("a surgical\nb n95\n")
    assert read_groups(d, ["a", "b"]) == {"mask_type": {"a": "surgical", "b": "n95"}}
    with pytest.raises(DataError, match="utt2mask_type: no line for utterance 'c'"):
        read_groups(d, ["a", "b", "c"])


@pytest.mark.parametrize("conf,model", [("train.yaml", "demask"), ("tiny.yaml", "demask"),
                                        ("train_crn.yaml", "crn")])
def test_the_recipe_configs_load_and_build(conf, model):
    from sepcore.config import load_config
    from sepcore.models import build_model

    cfg = load_config(ROOT / "egs" / "demask" / "demask" / "conf" / conf)
    assert cfg["data"]["dataset"] == "masked" and cfg["model"]["name"] == model
    assert cfg["data"]["mask_jitter_db"] == 1.5 and cfg["data"]["masks"] == "conf/masks.yaml"
    build_model(dict(cfg["model"], num_sources=1))
