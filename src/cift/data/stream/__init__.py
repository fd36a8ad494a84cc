"""The live stages of the data path: each reads the bus, does its work, acknowledges."""

from cift.data.stream.store_stage import StageStats, store_stage

__all__ = ["StageStats", "store_stage"]
