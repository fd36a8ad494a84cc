"""Appending to the hash-chained audit log.

Each row stores ``seq`` (its position, 1, 2, ...), the ``row_hash`` of its predecessor
(``prev_hash``; zeros for the first) and its own ``row_hash``: SHA-256 over a canonical
JSON of every field it holds, ``prev_hash`` included. Editing a field changes the row's
hash; deleting, inserting or reordering rows breaks the predecessor links.

Appends are serialised so the chain never forks: PostgreSQL takes a transaction-scoped
advisory lock, SQLite takes its single write lock before the tail is read. ``seq`` is
unique as a last guard.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cift.db.base import utcnow
from cift.db.models import AuditEntry, AuditOutcome

GENESIS_HASH = "0" * 64
ADVISORY_LOCK_KEY = 0x43494654_4155444954 & 0x7FFF_FFFF_FFFF_FFFF
"""A fixed bigint that names the audit-append lock among PostgreSQL advisory locks."""


@dataclass(frozen=True)
class Actor:
    """Who did it and from where: a user (or the command line) and the request."""

    user_id: uuid.UUID | None
    name: str
    client_ip: str | None = None
    request_id: str | None = None


def row_digest(fields: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of an entry's fields."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def hashed_fields(entry: AuditEntry) -> dict[str, Any]:
    """The fields a row's hash covers, in a form that round-trips through both databases."""
    return {
        "seq": entry.seq,
        "occurred_at": _instant(entry.occurred_at),
        "actor_user_id": str(entry.actor_user_id) if entry.actor_user_id else None,
        "actor": entry.actor,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "outcome": AuditOutcome(entry.outcome).value,
        "client_ip": entry.client_ip,
        "request_id": entry.request_id,
        "details": entry.details or {},
        "prev_hash": entry.prev_hash,
    }


def append(
    session: Session,
    actor: Actor,
    action: str,
    outcome: AuditOutcome = AuditOutcome.SUCCESS,
    *,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, str | int | bool | None] | None = None,
) -> AuditEntry:
    """Add one entry at the end of the chain, in the caller's transaction."""
    _lock_tail(session)
    tail = session.execute(
        select(AuditEntry.seq, AuditEntry.row_hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (tail[0] + 1, tail[1]) if tail else (1, GENESIS_HASH)
    entry = AuditEntry(
        seq=seq,
        occurred_at=utcnow(),
        actor_user_id=actor.user_id,
        actor=actor.name[:200],
        action=action[:100],
        target_type=target_type,
        target_id=target_id,
        outcome=outcome,
        client_ip=actor.client_ip,
        request_id=actor.request_id,
        details=dict(details or {}),
        prev_hash=prev_hash,
    )
    entry.row_hash = row_digest(hashed_fields(entry))
    session.add(entry)
    session.flush()
    return entry


def _lock_tail(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    else:  # a write statement takes SQLite's write lock before the tail is read
        session.execute(text("UPDATE audit_log SET seq = seq WHERE 1 = 0"))


def _instant(value: datetime) -> str:
    return value.isoformat(timespec="microseconds")
