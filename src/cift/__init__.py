"""CIFT Markets: Computational Intelligence for Financial Trading."""

from importlib.metadata import PackageNotFoundError, version

from cift.core.heap import settle_at_exit

try:
    __version__ = version("cift")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

settle_at_exit()

__all__ = ["__version__"]
