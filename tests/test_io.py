import numpy as np
import pytest
import soundfile as sf

from sepcore.errors import DataError
from sepcore.io import fit_to_range, read_audio, read_scp, write_audio, write_scp


def test_read_scp_values_may_contain_spaces(tmp_path):
    scp = tmp_path / "wav.scp"
    scp.write_text("a /x/a.wav\nb sox /x/b.wav -t wav - |\n")
    assert read_scp(scp) == [("a", "/x/a.wav"), ("b", "sox /x/b.wav -t wav - |")]


@pytest.mark.parametrize(
    "text, message",
    [("a /x.wav\nb\n", r"wav.scp:2: expected '<utt> <value>'"),
     ("a /x.wav\na /y.wav\n", r"wav.scp:2: utterance id 'a' repeated \(first on line 1\)"),
     ("a /x.wav\n\n", r"wav.scp:2: empty line")],
)
def test_read_scp_errors_name_file_and_line(tmp_path, text, message):
    scp = tmp_path / "wav.scp"
    scp.write_text(text)
    with pytest.raises(DataError, match=message):
        read_scp(scp)


def test_write_scp_sorts_like_lc_all_c(tmp_path):
    write_scp(tmp_path / "x.scp", [("b", 1), ("B", 2), ("a_1", 3), ("a-1", 4)])
    assert (tmp_path / "x.scp").read_text() == "B 2\na-1 4\na_1 3\nb 1\n"


def test_audio_round_trip_and_pipe(tmp_path):
    x = (0.5 * np.sin(np.arange(800) / 10)).astype(np.float32)
    path = tmp_path / "x.wav"
    write_audio(path, x, 8000, subtype="PCM_24")
    audio = read_audio(path)
    assert (audio.sample_rate, audio.subtype, audio.num_frames) == (8000, "PCM_24", 800)
    np.testing.assert_allclose(audio.data, x, atol=1e-6)
    piped = read_audio(f"cat {path} |")
    np.testing.assert_array_equal(piped.data, audio.data)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_bad_audio_inputs_are_named(tmp_path):
    with pytest.raises(DataError, match="missing.wav: audio file not found"):
        read_audio(tmp_path / "missing.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(DataError, match="empty.wav: file is empty"):
        read_audio(tmp_path / "empty.wav")
    (tmp_path / "text.wav").write_text("not audio at all")
    with pytest.raises(DataError, match="text.wav: cannot read as audio"):
        read_audio(tmp_path / "text.wav")
    with pytest.raises(DataError, match="exit code 3"):
        read_audio("exit 3 |")


def test_fit_to_range_restores_level_and_never_clips():
    rng = np.random.default_rng(0)
    sources = 0.2 * rng.standard_normal((2, 4000))
    mixture = sources.sum(axis=0)
    # a scale-invariant model may output any gain per source
    fitted = fit_to_range(sources * np.array([[3000.0], [-0.01]]), mixture, "PCM_16")
    # both back at their level in the mixture, the inverted one with its sign restored
    np.testing.assert_allclose(fitted, sources, atol=0.02)
    assert np.abs(fitted).max() <= 0.99
    loud = fit_to_range(sources * 50, mixture * 50, "PCM_16")
    assert np.abs(loud).max() == pytest.approx(0.99, abs=1e-6)


def test_write_audio_keeps_subtype(tmp_path):
    write_audio(tmp_path / "y.flac", np.zeros((100, 2), np.float32), 44100, subtype="PCM_16")
    info = sf.info(tmp_path / "y.flac")
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (44100, 2, "PCM_16", 100)
