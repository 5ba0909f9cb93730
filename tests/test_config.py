import pytest

from sepcore.config import DEFAULTS, load_config, parse_overrides
from sepcore.errors import ConfigError


def test_overrides_are_typed_and_nested(tmp_path):
    conf = tmp_path / "c.yaml"
    conf.write_text("model:\n  name: convtasnet\n  N: 64\noptim:\n  lr: 0.001\n")
    cfg = load_config(conf, ["--optim.lr", "3e-4", "--model.causal=true", "--data.segment", "2"])
    assert cfg["optim"]["lr"] == pytest.approx(3e-4)
    assert cfg["model"] == {"name": "convtasnet", "N": 64, "causal": True}
    assert cfg["data"]["segment"] == 2
    assert cfg["training"]["batch_size"] == DEFAULTS["training"]["batch_size"]


def test_unknown_keys_are_errors(tmp_path):
    conf = tmp_path / "c.yaml"
    conf.write_text("optim:\n  learning_rate: 0.1\n")
    with pytest.raises(ConfigError, match="c.yaml: unknown config key 'optim.learning_rate'"):
        load_config(conf)
    with pytest.raises(ConfigError, match="unknown config key 'training.epochs'"):
        load_config(None, ["--training.epochs", "3"])
    with pytest.raises(ConfigError, match="expected an override"):
        parse_overrides(["lr", "3"])
    with pytest.raises(ConfigError, match="has no value"):
        parse_overrides(["--optim.lr"])


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(bad)
