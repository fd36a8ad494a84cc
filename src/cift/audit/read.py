"""Reading the audit log: the newest entries, a page at a time, optionally of one action."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cift.db.models import AuditEntry


def newest_entries(
    session: Session, limit: int, *, before_seq: int | None = None, action: str | None = None
) -> list[AuditEntry]:
    """Up to ``limit`` entries, newest first: those before ``before_seq`` (the next page)
    and of ``action`` when given."""
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(session.scalars(query))
