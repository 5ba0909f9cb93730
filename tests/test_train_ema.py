import pytest
import torch
from torch import nn

from sepcore.train.ema import WeightAverage


@pytest.mark.slow
def test_moving_average_matches_the_closed_form():
    model = nn.Linear(3, 2)
    ema = WeightAverage(model, decay=0.5)
    expected = model.weight.detach().clone()
    for step in range(1, 31):
        with torch.no_grad():
            model.weight.fill_(float(step))
        ema.update(model)
        decay = min(0.5, (1 + step) / (10 + step))  # ramp-up, then the configured decay
        expected = decay * expected + (1 - decay) * step
    torch.testing.assert_close(ema.model.weight, expected)
    assert not any(p.requires_grad for p in ema.model.parameters())
    assert model.weight.requires_grad  # the trained model is untouched


def test_buffers_are_copied_and_state_round_trips():
    model = nn.BatchNorm1d(4)
    ema = WeightAverage(model, decay=0.9)
    model.running_mean.fill_(3.0)
    ema.update(model)
    assert torch.equal(ema.model.running_mean, model.running_mean)
    other = WeightAverage(nn.BatchNorm1d(4), decay=0.9)
    other.load_state_dict(ema.state_dict())
    assert other.updates == 1 and torch.equal(other.model.running_mean, model.running_mean)
    other.reset(nn.BatchNorm1d(4))
    assert other.updates == 0 and other.model.running_mean.abs().sum() == 0
