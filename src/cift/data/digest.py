"""Content hashes of market data: the snapshot a result was computed from."""

from __future__ import annotations

import hashlib

import polars as pl


def frame_digest(frame: pl.DataFrame) -> str:
    """SHA-256 of a frame's column names and values (independent of file layout)."""
    digest = hashlib.sha256()
    for name in sorted(frame.columns):
        column = frame.get_column(name)
        digest.update(f"{name}:{column.dtype}:{column.null_count()}".encode())
        if column.dtype.is_numeric() or column.dtype.is_temporal():
            digest.update(column.to_physical().fill_null(0).to_numpy().tobytes())
        else:
            # the values joined by \x1f, joined by Polars rather than through Python strings
            joined = column.cast(pl.String).fill_null("").str.join("\x1f").item()
            digest.update((joined or "").encode())
    return digest.hexdigest()
