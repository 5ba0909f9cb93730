"""Standalone entry points, one per step: ``python -m sepcore.bin.<name> --help``."""
