"""egs/mini/convtasnet/conf: the recipe trains a fixed number of steps (the same numbers
on any machine), and the causal config is trained exactly the same way."""

from pathlib import Path

from sepcore.config import load_config
from sepcore.models import build_model

CONF = Path(__file__).resolve().parents[1] / "egs/mini/convtasnet/conf"


def test_train_yaml_is_a_fixed_number_of_steps_with_fixed_threads():
    cfg = load_config(str(CONF / "train.yaml"))
    t = cfg["training"]
    assert t["max_steps"] == 17000 and t["max_minutes"] is None
    assert t["num_threads"] == 2 and t["seed"] == 0
    # the LR schedule is a function of the step, not of the clock
    assert cfg["scheduler"]["name"] == "cosine" and cfg["data"]["epoch_size"] == 3200
    assert not cfg["early_stop"]["patience"]  # nothing cuts the run short


def test_causal_config_differs_only_in_causality():
    plain = load_config(str(CONF / "train.yaml"))
    causal = load_config(str(CONF / "train_causal.yaml"))
    assert causal["model"].pop("causal") is True and "causal" not in plain["model"]
    assert (plain["model"].pop("norm"), causal["model"].pop("norm")) == ("gLN", "cLN")
    for cfg in (plain, causal):
        del cfg["description"]
    assert plain == causal


def test_train_yaml_model_is_the_measured_one():
    # 7 blocks a repeat without the skip path: the README's 0.33 M parameters and a
    # receptive field of 1 s on either side of a sample (6 blocks: 0.5 s)
    model = build_model(load_config(str(CONF / "train.yaml"))["model"])
    assert sum(p.numel() for p in model.parameters()) == 329437
    assert model.receptive_field() == 8192
