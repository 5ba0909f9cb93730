"""sepcore: Kaldi-style recipes for audio source separation.

``import sepcore`` stays light (no torch): ``sepcore.load`` is imported on first use.
"""

from sepcore.version import MODEL_FORMAT_VERSION, __version__

__all__ = ["MODEL_FORMAT_VERSION", "__version__", "load"]


def __getattr__(name: str):
    if name == "load":
        from sepcore.api import load

        return load
    if name == "SeparationModel":
        from sepcore.api import SeparationModel

        return SeparationModel
    raise AttributeError(f"module 'sepcore' has no attribute {name!r}")
