"""Data dirs and the datasets built on them."""

from sepcore.data.datadir import DataDir
from sepcore.data.dataset import SegmentDataset, UtteranceDataset

__all__ = ["DataDir", "SegmentDataset", "UtteranceDataset"]
