"""Data dirs and the datasets built on them."""

from sepcore.data.datadir import DataDir
from sepcore.data.dataset import SegmentDataset, UtteranceDataset
from sepcore.data.noisy import NoisyDataset

__all__ = ["DataDir", "NoisyDataset", "SegmentDataset", "UtteranceDataset"]
