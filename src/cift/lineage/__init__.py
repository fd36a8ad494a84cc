"""The lineage record: from market data to features, datasets, models, backtests and trades."""
