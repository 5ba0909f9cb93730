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


def test_dead_keys_are_gone_and_values_are_checked_in_one_place():
    for key in ("--data.min_segment", "--training.valid_batch_size"):
        with pytest.raises(ConfigError, match="unknown config key"):
            load_config(None, [key, "1"])
    assert load_config(None)["data"]["sample_rate"] is None  # the data's rate
    for override, message in (
        (["--training.ema_decay", "1.5"], "training.ema_decay must be null or a number"),
        (["--optim.name", "sgd"], "optim.name must be 'adam'"),
        (["--scheduler.name", "step"],
         "scheduler.name must be 'plateau', 'cosine' or 'cosine_time'"),
        (["--scheduler.name", "cosine"], "cosine needs a number of steps, training.max_steps"),
        (["--training.max_steps", "0"], "training.max_steps must be"),
        (["--scheduler.name", "cosine_time"], "cosine_time needs a training.max_minutes"),
        (["--scheduler.hold_fraction", "1"], r"scheduler.hold_fraction must be in \[0, 1\)"),
        (["--loss.name", "l1"], "loss.name must be one of si_sdr"),
        (["--loss.pit", "maybe"], "loss.pit must be true or false"),
    ):
        with pytest.raises(ConfigError, match=message):
            load_config(None, override)
