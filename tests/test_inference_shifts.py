"""--shifts: the average of a model's estimates of its input delayed within one frame hop."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from helpers.inference import make_exp_dir, tone_mix

import sepcore
from sepcore.bin.separate import main
from sepcore.errors import ConfigError
from sepcore.shift_average import ShiftAveraged, shift_offsets

ROOT = Path(__file__).resolve().parents[1]


class Framed(torch.nn.Module):
    """Two sources that depend on where the frames (``stride`` samples) fall: each output
    sample is its frame's mean (source 1) and the input minus it (source 2)."""

    num_sources = 2

    def __init__(self, stride=4, swap_odd=False):
        super().__init__()
        self.stride, self.swap_odd, self.calls = stride, swap_odd, 0

    def forward(self, x):
        n = x.shape[-1]
        pad = -n % self.stride
        frames = torch.nn.functional.pad(x, (0, pad)).unflatten(-1, (-1, self.stride))
        mean = frames.mean(-1, keepdim=True).expand_as(frames).flatten(-2)[..., :n]
        y = torch.stack([mean, x - mean], 1)
        self.calls += 1
        if self.swap_odd and self.calls % 2 == 0:  # every other call: the other order
            y = y.flip(1)
        return y


def test_offsets_spread_over_one_hop_and_bad_counts_are_named():
    assert shift_offsets(1, 32) == [0]
    assert shift_offsets(8, 32) == [0, 4, 8, 12, 16, 20, 24, 28]
    assert shift_offsets(3, 32) == [0, 10, 21]
    for bad in (0, -2, 2.5, True, "4"):
        with pytest.raises(ConfigError, match="--shifts"):
            shift_offsets(bad, 32)
    with pytest.raises(ConfigError, match="--shifts 33: .*32 sample.*at most 32"):
        shift_offsets(33, 32)


def test_average_of_delayed_estimates():
    x = torch.from_numpy(tone_mix(0.1, 8000)).unsqueeze(0)  # [1, 800]
    base = Framed()
    wrapped = ShiftAveraged(base, 4)
    assert wrapped.offsets == [0, 1, 2, 3] and wrapped.extra_context == 3
    want = sum(base(torch.nn.functional.pad(x, (d, 0)))[..., d:d + 800] for d in range(4)) / 4
    got = wrapped(x)
    assert got.shape == (1, 2, 800)
    torch.testing.assert_close(got, want)
    # the frame mean now varies within a frame: not the undelayed estimate
    assert float((got - base(x)).abs().max()) > 1e-3
    torch.testing.assert_close(got.sum(1), x)  # each estimate still sums to the input


def test_sources_aligned_to_the_undelayed_order():
    x = torch.from_numpy(np.stack([tone_mix(0.1, 8000, seed=s) for s in (0, 1)]))
    want = ShiftAveraged(Framed(), 4)(x)
    aligned = ShiftAveraged(Framed(swap_odd=True), 4)(x)
    torch.testing.assert_close(aligned, want)
    mixed = ShiftAveraged(Framed(swap_odd=True), 4, align=False)(x)  # fixed-order models
    assert float((mixed - want).abs().max()) > 0.05  # left as the model ordered them


@pytest.fixture(scope="module")
def exp(tmp_path_factory):
    return make_exp_dir(tmp_path_factory.mktemp("exp"))


def test_api_set_shifts(exp):
    model = sepcore.load(exp)
    x = tone_mix(0.5, 8000)
    plain = model.separate(x, rescale=False)
    hop = model.model.stride
    shifted = model.set_shifts(hop).separate(x, rescale=False)
    with torch.inference_mode():
        want = ShiftAveraged(model.model, hop)(torch.from_numpy(x)[None])[0]
    torch.testing.assert_close(shifted, want)
    assert float((shifted - plain).norm() / plain.norm()) > 1e-3
    torch.testing.assert_close(model.set_shifts(1).separate(x, rescale=False), plain)
    with pytest.raises(ConfigError, match=f"--shifts {hop + 1}:.*at most {hop}"):
        model.set_shifts(hop + 1)


def run(args):
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in args])
    return e.value.code


def test_data_dir_records_shifts_and_refuses_other_shifts(exp, tmp_path, capsys):
    d = tmp_path / "data"
    d.mkdir()
    sf.write(tmp_path / "u.wav", tone_mix(0.4, 8000), 8000)
    (d / "wav.scp").write_text(f"utt0 {tmp_path / 'u.wav'}\n")
    out = tmp_path / "sep"
    assert run(["--model", exp, "--data-dir", d, "--out-dir", out, "--shifts", 2]) == 0
    assert json.loads((out / "separate.json").read_text())["shifts"] == 2
    assert run(["--model", exp, "--data-dir", d, "--out-dir", out]) == 1
    err = capsys.readouterr().err
    assert "separate.json" in err and "Traceback" not in err
    p = subprocess.run([sys.executable, "-m", "sepcore.bin.separate", "--model", str(exp),
                        "--shifts", "0", str(tmp_path / "u.wav")], cwd=ROOT,
                       capture_output=True, text=True)
    assert p.returncode != 0 and "--shifts" in p.stderr and "Traceback" not in p.stderr


def test_steps_separate_sh_checks_shifts(exp, tmp_path):
    p = subprocess.run([str(ROOT / "steps" / "separate.sh"), "--shifts", "0", str(exp),
                        str(tmp_path), str(tmp_path / "out")], capture_output=True, text=True)
    assert p.returncode != 0 and "--shifts" in p.stderr and not (tmp_path / "out").exists()
