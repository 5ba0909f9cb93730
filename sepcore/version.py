"""The sepcore version, and the version of the model-file format it writes."""

__version__ = "0.1.0"

# Bumped whenever the layout of model.pt changes; readers accept every version <= this.
MODEL_FORMAT_VERSION = 2
