"""sepcore/io/atomic.py: temporaries name their writer, and those of killed writers of this
host are removed when a run starts over their folder (kill -9 cannot clean up)."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
from helpers.inference import make_exp_dir, tone_mix

from sepcore.io import atomic
from sepcore.io.atomic import atomic_path, remove_stale_temporaries

ROOT = Path(__file__).resolve().parents[1]


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_only_dead_writers_of_this_host_are_swept(tmp_path):
    pid = dead_pid()
    stale = tmp_path / f".a.wav.tmp-{atomic._HOST}-{pid}-abc_1234.wav"
    other_host = tmp_path / f".a.wav.tmp-elsewhere-{pid}-abc_1234.wav"
    live = tmp_path / f".b.pt.tmp-{atomic._HOST}-{os.getpid()}-zzzzzzzz.pt"
    plain = [tmp_path / ".hidden", tmp_path / "a.wav", tmp_path / f".c.tmp-{atomic._HOST}-x-1"]
    for p in (stale, other_host, live, *plain):
        p.write_text("x")
    (tmp_path / f".d.tmp-{atomic._HOST}-{pid}-abcdefgh").mkdir()  # not a file: kept
    assert remove_stale_temporaries(tmp_path) == 1
    assert not stale.exists()
    assert all(p.exists() for p in (other_host, live, *plain))
    assert remove_stale_temporaries(tmp_path / "missing") == 0


def test_a_temporary_names_its_writer(tmp_path):
    with atomic_path(tmp_path / "out.wav") as tmp:
        name = Path(tmp).name
        assert name.startswith(f".out.wav.tmp-{atomic._HOST}-{os.getpid()}-")
        assert name.endswith(".wav") and atomic._TEMP.match(name)
        assert remove_stale_temporaries(tmp_path) == 0  # its writer is alive: kept
        Path(tmp).write_text("x")
    assert (tmp_path / "out.wav").read_text() == "x" and os.listdir(tmp_path) == ["out.wav"]


WRITER = """
import sys, time
from sepcore.io.atomic import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    open(tmp, "w").write("half")
    print("writing", flush=True)
    time.sleep(600)
"""


@pytest.mark.slow
def test_separation_sweeps_the_temporary_of_a_writer_killed_by_kill_9(tmp_path):
    out = tmp_path / "out"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(out / "a_spk1.wav")],
                              stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert writer.stdout.readline().strip() == "writing"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    left = [n for n in os.listdir(out) if n.startswith(".")]
    assert len(left) == 1 and str(writer.pid) in left[0]
    sf.write(tmp_path / "a.wav", tone_mix(0.5, 8000), 8000)
    exp = make_exp_dir(tmp_path / "exp")
    from sepcore.bin.separate import main
    with pytest.raises(SystemExit) as e:
        main(["--model", str(exp), "--out-dir", str(out), str(tmp_path / "a.wav")])
    assert e.value.code == 0
    assert sorted(os.listdir(out)) == ["a_spk1.wav", "a_spk2.wav"]
