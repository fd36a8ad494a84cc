"""The ``files`` provider: serves the rows of local CSV (plain or gzip) and Parquet files
(read and mapped by :mod:`cift.data.files`) for symbols and a time range."""

from cift.data.providers.files.factories import create
from cift.data.providers.files.provider import FilesProvider

__all__ = ["FilesProvider", "create"]
