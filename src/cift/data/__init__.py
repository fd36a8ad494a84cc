"""Market data: providers, the store, backfill and quality checks."""
