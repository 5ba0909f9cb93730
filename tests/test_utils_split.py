"""utils/split_scp.pl, filter_scp.pl, split_data_dir.sh."""

import os
import subprocess
import time
from pathlib import Path

import pytest

UTILS = Path(__file__).resolve().parents[1] / "utils"


def run(cwd, *args):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "LC_ALL": "C"}, timeout=60)


def write_scp(path, n, fmt="/audio/{}.wav"):
    lines = [f"utt{i:02d} {fmt.format(i)}\n" for i in range(n)]
    path.write_text("".join(lines))
    return lines


@pytest.mark.parametrize("n,parts", [(10, 3), (9, 3), (7, 7), (5, 1), (11, 4)])
def test_split_scp_contiguous_near_equal(tmp_path, n, parts):
    lines = write_scp(tmp_path / "in.scp", n)
    outs = [tmp_path / f"out{k}.scp" for k in range(1, parts + 1)]
    r = run(tmp_path, UTILS / "split_scp.pl", "in.scp", *outs)
    assert r.returncode == 0, r.stderr
    got = [o.read_text().splitlines(keepends=True) for o in outs]
    sizes = [len(g) for g in got]
    assert sum(sizes) == n and max(sizes) - min(sizes) <= 1 and min(sizes) >= 1
    assert sizes == sorted(sizes, reverse=True)  # the first parts get the extra lines
    assert [line for g in got for line in g] == lines  # contiguous, order kept


def test_split_scp_exact_sizes_and_job_mode(tmp_path):
    write_scp(tmp_path / "in.scp", 10)
    assert run(tmp_path, UTILS / "split_scp.pl", "in.scp", "a", "b", "c").returncode == 0
    assert [len((tmp_path / p).read_text().splitlines()) for p in "abc"] == [4, 3, 3]
    assert (tmp_path / "c").read_text().split()[::2] == ["utt07", "utt08", "utt09"]
    r = run(tmp_path, UTILS / "split_scp.pl", "-j", "3", "1", "in.scp")
    assert r.stdout == (tmp_path / "b").read_text()


def test_split_scp_more_parts_than_lines_is_an_error(tmp_path):
    write_scp(tmp_path / "in.scp", 2)
    r = run(tmp_path, UTILS / "split_scp.pl", "in.scp", "a", "b", "c")
    assert r.returncode == 1
    assert "cannot split 2 lines into 3 parts" in r.stderr


def test_split_scp_keeps_speakers_together(tmp_path):
    write_scp(tmp_path / "in.scp", 10)
    spk = ["A"] * 5 + ["B"] * 3 + ["C"] + ["D"]
    (tmp_path / "utt2spk").write_text("".join(f"utt{i:02d} {s}\n" for i, s in enumerate(spk)))
    r = run(tmp_path, UTILS / "split_scp.pl", "--utt2spk=utt2spk", "in.scp", "a", "b", "c")
    assert r.returncode == 0, r.stderr
    parts = [[int(line.split()[0][3:]) for line in (tmp_path / p).read_text().splitlines()]
             for p in "abc"]
    assert parts == [[0, 1, 2, 3, 4], [5, 6, 7], [8, 9]]
    r = run(tmp_path, UTILS / "split_scp.pl", "--utt2spk=utt2spk", "in.scp", *"abcde")
    assert r.returncode == 1 and "cannot split 4 speakers into 5 parts" in r.stderr


def test_filter_scp(tmp_path):
    write_scp(tmp_path / "in.scp", 5)
    (tmp_path / "ids").write_text("utt03 x\nutt01\nnope\n")
    r = run(tmp_path, UTILS / "filter_scp.pl", "ids", "in.scp")
    assert r.stdout == "utt01 /audio/1.wav\nutt03 /audio/3.wav\n"
    r = run(tmp_path, UTILS / "filter_scp.pl", "--exclude", "ids", "in.scp")
    assert r.stdout.split()[::2] == ["utt00", "utt02", "utt04"]
    r = run(tmp_path, UTILS / "filter_scp.pl", "-f", "2", "ids", "in.scp")
    assert r.stdout == ""


def make_data_dir(d, n=7):
    d.mkdir()
    write_scp(d / "wav.scp", n, "/mix/{}.wav")
    write_scp(d / "spk1.scp", n, "/s1/{}.wav")
    write_scp(d / "spk2.scp", n, "/s2/{}.wav")
    write_scp(d / "noise1.scp", n, "sox /n/{}.wav -t wav - |")
    write_scp(d / "utt2num_samples", n, "{}000")
    (d / "utt2spk").write_text("".join(f"utt{i:02d} spk{i // 2}\n" for i in range(n)))
    (d / "spk2utt").write_text("ignored\n")
    (d / "mix_info").write_text("".join(f"utt{i:02d} a b c\n" for i in range(n)))  # other per-utt
    (d / "sources").write_text("s1 s2\n")
    (d / "README").write_text("a note\n")


def test_split_data_dir_consistent_parts(tmp_path):
    data = tmp_path / "data"
    make_data_dir(data)
    r = run(tmp_path, UTILS / "split_data_dir.sh", "data", "3")
    assert r.returncode == 0, r.stderr
    per_utt = ["wav.scp", "spk1.scp", "spk2.scp", "noise1.scp", "utt2num_samples", "utt2spk",
               "mix_info"]
    all_ids = []
    for k in (1, 2, 3):
        part = data / "split3" / str(k)
        ids = [line.split()[0] for line in (part / "wav.scp").read_text().splitlines()]
        all_ids += ids
        for name in per_utt:
            full = (data / name).read_text().splitlines()
            expect = [line for line in full if line.split()[0] in ids]
            assert (part / name).read_text().splitlines() == expect, (k, name)
        assert (part / "sources").read_text() == "s1 s2\n"
        assert (part / "README").read_text() == "a note\n"
        utt2spk = dict(line.split() for line in (part / "utt2spk").read_text().splitlines())
        spk2utt = (part / "spk2utt").read_text().splitlines()
        assert sorted(u for line in spk2utt for u in line.split()[1:]) == sorted(utt2spk)
    assert all_ids == [f"utt{i:02d}" for i in range(7)]
    assert [len((data / f"split3/{k}/wav.scp").read_text().splitlines()) for k in (1, 2, 3)] \
        == [3, 2, 2]


def test_split_data_dir_skips_when_up_to_date(tmp_path):
    data = tmp_path / "data"
    make_data_dir(data)
    assert run(tmp_path, UTILS / "split_data_dir.sh", "data", "2").returncode == 0
    marker = data / "split2/1/wav.scp"
    old = os.path.getmtime(marker)
    time.sleep(0.05)
    assert run(tmp_path, UTILS / "split_data_dir.sh", "data", "2").returncode == 0
    assert os.path.getmtime(marker) == old  # not redone
    # a changed input makes it redo the split
    time.sleep(0.05)
    write_scp(data / "spk1.scp", 7, "/new/{}.wav")
    assert run(tmp_path, UTILS / "split_data_dir.sh", "data", "2").returncode == 0
    assert "/new/0.wav" in (data / "split2/1/spk1.scp").read_text()


def test_split_data_dir_errors(tmp_path):
    data = tmp_path / "data"
    make_data_dir(data, n=3)
    r = run(tmp_path, UTILS / "split_data_dir.sh", "data", "4")
    assert r.returncode == 1 and "cannot split the 3 utterances" in r.stderr
    assert not (data / "split4").exists()
    r = run(tmp_path, UTILS / "split_data_dir.sh", "nodir", "2")
    assert r.returncode == 1 and "nodir/wav.scp: file not found" in r.stderr
    r = run(tmp_path, UTILS / "split_data_dir.sh", "--help")
    assert r.returncode == 0 and r.stdout.startswith("Usage: utils/split_data_dir.sh")
