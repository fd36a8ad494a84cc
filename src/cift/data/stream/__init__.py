"""The live stages of the data path: each reads the bus, does its work, acknowledges."""

from cift.data.stream.metrics import StageMetrics
from cift.data.stream.store_stage import StageStats, store_stage

__all__ = ["StageMetrics", "StageStats", "store_stage"]
