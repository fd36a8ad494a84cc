"""Batches on the wire: a short header (format, schema version, publish time, the trace
context of the publish) and the rows as an Arrow IPC stream, so a batch of ten thousand
ticks is one message that decodes without a row loop, not ten thousand JSON documents.

Version 2 added the trace context (W3C headers as JSON, often empty); version 1
messages still decode, with no context."""

from __future__ import annotations

import io
import json
import struct
import time
from collections.abc import Mapping

import polars as pl

from cift.core.errors import ValidationError

MAGIC = b"CIFT"
SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)
_HEADER = struct.Struct(">4sHq")  # magic, schema version, published ns
_TRACE = struct.Struct(">H")  # length of the trace context that follows (version 2)


def encode(
    frame: pl.DataFrame, published_ns: int | None = None, trace: Mapping[str, str] | None = None
) -> bytes:
    """``frame`` as one message, with the publisher's ``trace`` context."""
    buffer = io.BytesIO()
    stamp = time.time_ns() if published_ns is None else published_ns
    context = json.dumps(dict(trace), separators=(",", ":")).encode() if trace else b""
    buffer.write(_HEADER.pack(MAGIC, SCHEMA_VERSION, stamp))
    buffer.write(_TRACE.pack(len(context)))
    buffer.write(context)
    frame.write_ipc_stream(buffer, compression="uncompressed")
    return buffer.getvalue()


def decode(message: bytes) -> tuple[pl.DataFrame, int, dict[str, str]]:
    """The rows, publish time and trace context of a message; a ValidationError saying
    why when it is not a CIFT batch of a version this code reads (a poison message)."""
    if len(message) < _HEADER.size:
        raise ValidationError(f"A bus message of {len(message)} bytes is too short to be a batch.")
    magic, version, stamp = _HEADER.unpack_from(message)
    if magic != MAGIC:
        raise ValidationError(f"A bus message starts with {magic!r}, not a CIFT batch header.")
    if version not in READABLE_VERSIONS:
        raise ValidationError(
            f"A bus message has schema version {version}; this CIFT reads version "
            f"{SCHEMA_VERSION}. Upgrade the consumer, or replay from a newer producer."
        )
    offset, trace = _HEADER.size, {}
    try:
        if version >= 2:
            (length,) = _TRACE.unpack_from(message, offset)
            offset += _TRACE.size
            if length:
                headers = json.loads(message[offset : offset + length])
                trace = {str(k): str(v) for k, v in headers.items()}
            offset += length
        frame = pl.read_ipc_stream(io.BytesIO(message[offset:]))
    except (pl.exceptions.PolarsError, OSError, ValueError, struct.error, AttributeError) as exc:
        raise ValidationError(f"A bus message's rows cannot be read ({exc}).") from None
    return frame, int(stamp), trace
