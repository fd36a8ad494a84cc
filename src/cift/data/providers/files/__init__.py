"""The ``files`` provider: CSV (plain or gzip) and Parquet files with column mapping."""

from cift.data.providers.files.mapping import FileMapping, symbol_from_path
from cift.data.providers.files.provider import FilesProvider, create, load

__all__ = ["FileMapping", "FilesProvider", "create", "load", "symbol_from_path"]
