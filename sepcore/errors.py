"""Errors that describe a user's mistake; entry points print them without a traceback."""


class SepcoreError(Exception):
    """Base class: the message alone tells the user what is wrong and where."""


class DataError(SepcoreError):
    """A data dir, scp file or audio file is malformed, inconsistent or unreadable."""


class ConfigError(SepcoreError):
    """A config file or command-line override is invalid."""


class ModelFileError(SepcoreError):
    """A model file or pack is missing, corrupt, tampered with or of an unknown format."""


class DiskFullError(DataError):
    """No space left where an output is written: a rerun after freeing space redoes it."""
