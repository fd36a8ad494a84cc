"""Batches on the wire: a short header (format, schema version, publish time) and the
rows as an Arrow IPC stream, so a batch of ten thousand ticks is one message that decodes
without a row loop, not ten thousand JSON documents."""

from __future__ import annotations

import io
import struct
import time

import polars as pl

from cift.core.errors import ValidationError

MAGIC = b"CIFT"
SCHEMA_VERSION = 1
_HEADER = struct.Struct(">4sHq")  # magic, schema version, published ns


def encode(frame: pl.DataFrame, published_ns: int | None = None) -> bytes:
    """``frame`` as one message."""
    buffer = io.BytesIO()
    stamp = time.time_ns() if published_ns is None else published_ns
    buffer.write(_HEADER.pack(MAGIC, SCHEMA_VERSION, stamp))
    frame.write_ipc_stream(buffer, compression="uncompressed")
    return buffer.getvalue()


def decode(message: bytes) -> tuple[pl.DataFrame, int]:
    """The rows and publish time of a message; a ValidationError saying why when it is
    not a CIFT batch of a version this code reads (a poison message)."""
    if len(message) < _HEADER.size:
        raise ValidationError(f"A bus message of {len(message)} bytes is too short to be a batch.")
    magic, version, stamp = _HEADER.unpack_from(message)
    if magic != MAGIC:
        raise ValidationError(f"A bus message starts with {magic!r}, not a CIFT batch header.")
    if version != SCHEMA_VERSION:
        raise ValidationError(
            f"A bus message has schema version {version}; this CIFT reads version "
            f"{SCHEMA_VERSION}. Upgrade the consumer, or replay from a newer producer."
        )
    try:
        frame = pl.read_ipc_stream(io.BytesIO(message[_HEADER.size :]))
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise ValidationError(f"A bus message's rows cannot be read ({exc}).") from None
    return frame, int(stamp)
