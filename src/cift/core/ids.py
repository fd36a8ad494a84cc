"""Identifiers: time-ordered UUIDs (version 7, RFC 9562) and request ids."""

from __future__ import annotations

import os
import re
import secrets
import time
import uuid

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def uuid7() -> uuid.UUID:
    """A UUIDv7: 48-bit millisecond timestamp then 74 random bits, so ids sort by creation."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= (rand >> 68) << 64  # 12 random bits (rand_a)
    value |= 0b10 << 62  # RFC 9562 variant
    value |= rand & ((1 << 62) - 1)  # 62 random bits (rand_b)
    return uuid.UUID(int=value)


def new_request_id() -> str:
    """A fresh request id: 32 hex characters."""
    return secrets.token_hex(16)


def accept_request_id(candidate: str | None) -> str:
    """Reuse a caller's ``X-Request-ID`` when it is safe to log and echo, else make one."""
    if candidate and _REQUEST_ID.fullmatch(candidate):
        return candidate
    return new_request_id()
