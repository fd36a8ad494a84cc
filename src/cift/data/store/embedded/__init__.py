"""The embedded (default) market-data store: a Parquet catalog on local disk."""

from cift.data.store.embedded.store import EmbeddedStore, create

__all__ = ["EmbeddedStore", "create"]
