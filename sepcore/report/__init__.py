"""Reports: one offline HTML page per experiment (``build_report``), one page comparing
experiments on the same utterances (``build_compare_report``), and what a training run
saves of itself for them (``monitor``: ``training.examples``, ``training.tensorboard``)."""

from sepcore.report.build import ReportOptions, build_report
from sepcore.report.compare import build_compare_report

__all__ = ["ReportOptions", "build_compare_report", "build_report"]
