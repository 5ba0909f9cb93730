"""Reading and writing the file contracts: scp files, audio, atomic writes."""

from sepcore.io.atomic import atomic_path, atomic_torch_save, atomic_write_text
from sepcore.io.audio import Audio, audio_num_frames, fit_to_range, read_audio, write_audio
from sepcore.io.scp import read_int_scp, read_scp, read_scp_dict, write_scp

__all__ = [
    "Audio", "atomic_path", "atomic_torch_save", "atomic_write_text", "audio_num_frames",
    "fit_to_range", "read_audio", "read_int_scp", "read_scp", "read_scp_dict", "write_audio",
    "write_scp",
]
