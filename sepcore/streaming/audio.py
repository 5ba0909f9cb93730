"""Where a stream's audio comes from and goes to: files, stdin/stdout, sound devices.

A source has ``sample_rate``, ``channels``, ``subtype`` (the sample format outputs are
written in), ``name`` (the stem of output file names) and ``read(n)``, which returns up
to ``n`` frames as float32 ``[frames, channels]`` (fewer only at the end; an empty
array at the end). Raw PCM on stdin is little-endian, channels interleaved.
Sound devices need the optional ``sounddevice`` package (PortAudio).
"""

from __future__ import annotations

import contextlib
import os
import struct
import sys
from pathlib import Path
from typing import BinaryIO

import numpy as np

from sepcore.errors import ConfigError, DataError, DiskFullError

# --format names of raw PCM → numpy dtype, full scale, soundfile subtype
RAW_FORMATS = {
    "s16le": ("<i2", 32768.0, "PCM_16"),
    "s32le": ("<i4", 2147483648.0, "PCM_32"),
    "f32le": ("<f4", 1.0, "FLOAT"),
    "f64le": ("<f8", 1.0, "DOUBLE"),
}


def _sounddevice():
    try:
        import sounddevice
    except ImportError:
        raise ConfigError("sound device input/output needs the optional sounddevice package "
                          "(pip install sounddevice; it needs the PortAudio library)") from None
    except OSError as e:  # sounddevice is there, PortAudio is not
        raise ConfigError(f"sounddevice cannot load PortAudio ({e})") from None
    return sounddevice


def _device_id(sd, device: str, kind: str):
    """``device`` (an index, a name, or "default") → what sounddevice takes; checked."""
    dev = None if device in ("", "default") else (int(device) if device.isdigit() else device)
    try:
        info = sd.query_devices(dev, kind)
    except (ValueError, sd.PortAudioError) as e:
        listing = str(sd.query_devices()) or "(none)"
        raise ConfigError(f"no {kind} sound device {device!r} ({e}); devices:\n{listing}") \
            from None
    return dev, info


class FileSource:
    """An audio file that soundfile reads (wav, flac, ogg), read block by block."""

    def __init__(self, path: str):
        import soundfile as sf

        if not os.path.exists(path):
            raise DataError(f"{path}: audio file not found")
        try:
            self._f = sf.SoundFile(path)
        except (sf.LibsndfileError, RuntimeError) as e:
            raise DataError(f"{path}: cannot read as audio ({e})") from None
        self.sample_rate, self.channels = self._f.samplerate, self._f.channels
        self.subtype, self.name = self._f.subtype, Path(path).stem

    def read(self, n: int) -> np.ndarray:
        return self._f.read(n, dtype="float32", always_2d=True)

    def close(self) -> None:
        self._f.close()


class RawSource:
    """Raw little-endian PCM, channels interleaved, from a binary stream (stdin)."""

    def __init__(self, stream: BinaryIO, sample_rate: int, channels: int, fmt: str,
                 name: str = "stdin", limit: int | None = None):
        if fmt not in RAW_FORMATS:
            raise ConfigError(f"--format {fmt!r}: expected one of {', '.join(RAW_FORMATS)}")
        if sample_rate is None or sample_rate < 1:
            raise ConfigError("raw PCM input needs --rate (samples per second)")
        if channels < 1:
            raise ConfigError(f"--channels must be >= 1, got {channels}")
        self._stream, self.name = stream, name
        self.sample_rate, self.channels = int(sample_rate), int(channels)
        dtype, self._scale, self.subtype = RAW_FORMATS[fmt]
        self._dtype = np.dtype(dtype)
        self._rest = b""
        self._left = limit  # bytes still to read (None: to the end of the stream)

    def read(self, n: int) -> np.ndarray:
        frame = self._dtype.itemsize * self.channels
        want = n * frame - len(self._rest)
        if self._left is not None:
            want = min(want, self._left)
        data = self._rest
        while want > 0:  # a pipe returns what is there: read until the block is whole
            chunk = self._stream.read(want)
            if not chunk:
                break
            data += chunk
            want -= len(chunk)
            if self._left is not None:
                self._left -= len(chunk)
        whole = len(data) - len(data) % frame
        self._rest = data[whole:]
        x = np.frombuffer(data[:whole], dtype=self._dtype).reshape(-1, self.channels)
        return (x.astype(np.float32) / self._scale) if self._scale != 1.0 else \
            x.astype(np.float32)

    def close(self) -> None:
        if self._rest:
            raise DataError(f"{self.name}: input ends with a partial frame "
                            f"({len(self._rest)} bytes)")


def wav_stream_source(stream: BinaryIO, name: str = "stdin") -> RawSource:
    """A WAV file read from a pipe: its header parsed, then its PCM data streamed.

    Writers to pipes cannot fill in the data chunk's size (they leave 0 or 0xFFFFFFFF):
    then the data runs to the end of the stream; otherwise the size is obeyed.
    """
    def need(n: int) -> bytes:
        b = stream.read(n)
        while len(b) < n:
            more = stream.read(n - len(b))
            if not more:
                raise DataError(f"{name}: truncated WAV header (expected a WAV file on stdin, "
                                "or give --format for raw PCM)")
            b += more
        return b

    head = need(12)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise DataError(f"{name}: not a WAV file (no RIFF/WAVE header); for raw PCM give "
                        f"--format ({', '.join(RAW_FORMATS)}) --rate --channels")
    fmt = None
    while True:
        cid, size = struct.unpack("<4sI", need(8))
        if cid == b"data":
            data_size = None if size in (0, 0xFFFFFFFF) else size
            break
        body = need(size + (size & 1))
        if cid == b"fmt ":
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the subformat
                tag = struct.unpack("<H", body[24:26])[0]
            fmt = (tag, channels, rate, bits)
    if fmt is None:
        raise DataError(f"{name}: WAV file without a fmt chunk before its data")
    tag, channels, rate, bits = fmt
    kinds = {(1, 16): "s16le", (1, 32): "s32le", (3, 32): "f32le", (3, 64): "f64le"}
    if (tag, bits) not in kinds:
        raise DataError(f"{name}: WAV sample format {tag} with {bits} bits is not streamable "
                        f"from a pipe (expected 16/32-bit PCM or 32/64-bit float)")
    return RawSource(stream, rate, channels, kinds[(tag, bits)], name, data_size)


class DeviceSource:
    """A sound card's input (sounddevice), read in blocks; ``seconds`` stops it (0: never)."""

    def __init__(self, device: str, sample_rate: int, channels: int, seconds: float = 0.0):
        sd = _sounddevice()
        dev, info = _device_id(sd, device, "input")
        self.sample_rate = int(sample_rate)
        self.channels = max(1, min(int(channels), int(info["max_input_channels"])))
        self.subtype, self.name = "PCM_16", "device"
        self._left = int(seconds * sample_rate) if seconds else None
        self._stream = sd.InputStream(device=dev, samplerate=self.sample_rate,
                                      channels=self.channels, dtype="float32")
        self._stream.start()
        self.overflows = 0

    def read(self, n: int) -> np.ndarray:
        if self._left is not None:
            n = min(n, self._left)
            self._left -= n
        if n == 0:
            return np.zeros((0, self.channels), np.float32)
        data, overflowed = self._stream.read(n)
        self.overflows += bool(overflowed)
        return np.asarray(data, dtype=np.float32)

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()


def open_source(spec: str | None, *, device: str | None = None, rate: int | None = None,
                channels: int = 1, fmt: str | None = None, seconds: float = 0.0):
    """``spec``: a file path, or ``-`` for stdin (WAV, or raw PCM with ``fmt``)."""
    if device is not None:
        if spec is not None:
            raise ConfigError("give either an input file (or -) or --input-device, not both")
        return DeviceSource(device, rate, channels, seconds)
    if spec is None:
        raise ConfigError("no input: give a file, - for stdin, or --input-device")
    if spec == "-":
        stdin = sys.stdin.buffer
        return RawSource(stdin, rate, channels, fmt) if fmt else wav_stream_source(stdin)
    if fmt:
        with open(spec, "rb") as f:  # a raw PCM file: read it like stdin
            data = f.read()
        import io

        return RawSource(io.BytesIO(data), rate, channels, fmt, Path(spec).stem)
    return FileSource(spec)


class FileSink:
    """One output file per source, written block by block under a temporary name.

    ``close`` renames them onto their names (a killed stream leaves no half file
    under a real name); ``abort`` removes them.
    """

    def __init__(self, paths: list[str], sample_rate: int, subtype: str):
        import soundfile as sf

        self.paths = [Path(p) for p in paths]
        self._tmp = [p.with_name(f".{p.name}.part.wav") for p in self.paths]
        self._files = []
        for p, path in zip(self._tmp, self.paths):
            p.parent.mkdir(parents=True, exist_ok=True)
            with self._named(path):
                self._files.append(sf.SoundFile(p, "w", int(sample_rate), 1, subtype,
                                                format="WAV"))

    @staticmethod
    @contextlib.contextmanager
    def _named(path: Path):
        """Write errors name the output, not its temporary file; a full disk says so."""
        import soundfile as sf

        from sepcore.io.atomic import disk_full

        try:
            yield
        except (sf.LibsndfileError, RuntimeError, OSError) as e:
            if disk_full(path.parent):
                raise DiskFullError(f"disk full writing {path}") from None
            raise DataError(f"{path}: cannot write ({getattr(e, 'error_string', e)})") from None

    def write(self, out: np.ndarray) -> None:
        """``out``: float32 ``[sources, frames]``."""
        for f, x, path in zip(self._files, out, self.paths):
            with self._named(path):
                f.write(x)

    def close(self) -> None:
        try:
            for f, path in zip(self._files, self.paths):
                with self._named(path):
                    f.close()
        except BaseException:
            self.abort()
            raise
        for tmp, path in zip(self._tmp, self.paths):  # all written: publish them together
            os.replace(tmp, path)

    def abort(self) -> None:
        for f, tmp in zip(self._files, self._tmp):
            f.close()
            tmp.unlink(missing_ok=True)


class RawSink:
    """Raw little-endian PCM on a binary stream (stdout): the sources as interleaved channels."""

    def __init__(self, stream: BinaryIO, fmt: str):
        if fmt not in RAW_FORMATS:
            raise ConfigError(f"--out-format {fmt!r}: expected one of {', '.join(RAW_FORMATS)}")
        dtype, self._scale, _ = RAW_FORMATS[fmt]
        self._dtype, self._stream = np.dtype(dtype), stream
        self._int = self._dtype.kind == "i"

    def write(self, out: np.ndarray) -> None:
        x = out.T * self._scale
        if self._int:
            x = np.clip(np.rint(x), -self._scale, self._scale - 1)
        self._stream.write(np.ascontiguousarray(x, dtype=self._dtype).tobytes())
        self._stream.flush()

    def close(self) -> None:
        self._stream.flush()

    abort = close


class DeviceSink:
    """Plays one source on a sound card's output (sounddevice)."""

    def __init__(self, device: str, sample_rate: int, source: int):
        sd = _sounddevice()
        dev, _ = _device_id(sd, device, "output")
        self._source = source
        self._stream = sd.OutputStream(device=dev, samplerate=int(sample_rate), channels=1,
                                       dtype="float32")
        self._stream.start()

    def write(self, out: np.ndarray) -> None:
        if out.shape[1]:
            self._stream.write(np.ascontiguousarray(out[self._source, :, None]))

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()

    abort = close
