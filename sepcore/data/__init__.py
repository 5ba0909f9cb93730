"""Data dirs (``DataDir``: torch-free) and the training datasets built on them.

``import sepcore.data`` does not import torch, so scoring and data preparation use
``DataDir`` without it; the datasets (torch) are imported on first use.
"""

from sepcore.data.datadir import DataDir
from sepcore.data.registry import DATASETS, build_train_dataset, build_valid_dataset

__all__ = ["DATASETS", "DataDir", "SegmentDataset", "UtteranceDataset", "build_train_dataset",
           "build_valid_dataset"]


def __getattr__(name: str):
    if name in ("SegmentDataset", "UtteranceDataset"):
        from sepcore.data import dataset

        return getattr(dataset, name)
    raise AttributeError(f"module 'sepcore.data' has no attribute {name!r}")
