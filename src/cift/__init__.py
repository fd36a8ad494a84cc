"""CIFT Markets: Computational Intelligence for Financial Trading."""

from cift.core.heap import settle_at_exit

settle_at_exit()


def __getattr__(name: str) -> str:
    """``cift.__version__``, read from the installed package's metadata when first asked
    for: importlib.metadata costs a tenth of a second that most commands never need."""
    if name != "__version__":
        raise AttributeError(f"module 'cift' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("cift")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0.0.0+unknown"
    globals()["__version__"] = found
    return found
