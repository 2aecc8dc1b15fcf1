"""The report: `analyze` (the pipeline, `pipeline.py`) and `Report` (its tables, figures,
HTML page and files, `report.py`)."""

from rfmkit._report.pipeline import analyze
from rfmkit._report.report import Report

__all__ = ["Report", "analyze"]
