"""The live stages of the data path: each reads the bus, does its work, acknowledges."""

from cift.data.stream.bars_stage import LiveBars, bars_stage
from cift.data.stream.metrics import StageMetrics
from cift.data.stream.stage import StageStats
from cift.data.stream.store_stage import store_stage

__all__ = ["LiveBars", "StageMetrics", "StageStats", "bars_stage", "store_stage"]
