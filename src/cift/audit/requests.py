"""The audit entry of a state-changing request, written in the transaction that commits
the change, so a crash can lose neither alone.

The API sets :data:`CURRENT` for each mutating request. Session events then watch every
transaction of that request: the first one that commits a change and carries no audit
entry of its own gets the request's entry appended just before it commits (with the id
of the object it created, if any). Bookkeeping writes (an API key's ``last_used_at``)
are marked with :func:`bookkeeping` and left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from cift.audit.chain import Actor, append
from cift.db.models import AuditEntry

_CHANGED = "cift_audit_changed"
_OWN_ENTRY = "cift_audit_own_entry"
_CREATED = "cift_audit_created"
_BOOKKEEPING = "cift_audit_bookkeeping"
_WRITING = "cift_audit_writing"
_KEYS = (_CHANGED, _OWN_ENTRY, _CREATED, _BOOKKEEPING, _WRITING)


@dataclass(frozen=True)
class EntryFields:
    """What the entry of a request says (computed when it is written)."""

    actor: Actor
    action: str
    target_type: str | None
    target_id: str | None
    details: dict[str, str | int | bool | None] = field(default_factory=dict)


@dataclass
class RequestEntry:
    """One request's entry: how to describe it (None when the request records its own
    precise events), and whether it is written yet."""

    describe: Callable[[], EntryFields | None]
    written: bool = False


CURRENT: ContextVar[RequestEntry | None] = ContextVar("cift_request_entry", default=None)


def bookkeeping(session: Session) -> None:
    """Mark the session's transaction as no change a request's entry should record."""
    session.info[_BOOKKEEPING] = True


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _: UOWTransaction) -> None:
    for instance in chain(session.new, session.dirty, session.deleted):
        if isinstance(instance, AuditEntry):
            session.info[_OWN_ENTRY] = True
            continue
        session.info[_CHANGED] = True
        identifier = getattr(instance, "id", None)
        if instance in session.new and identifier is not None:
            session.info.setdefault(_CREATED, str(identifier))


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _append_request_entry(session: Session) -> None:
    entry = CURRENT.get()
    if entry is None or entry.written or session.info.get(_BOOKKEEPING):
        return
    session.flush()
    if session.info.get(_OWN_ENTRY) or not session.info.get(_CHANGED):
        return
    fields = entry.describe()
    if fields is None:
        return
    session.info[_WRITING] = entry  # written once the commit succeeds
    append(
        session,
        fields.actor,
        fields.action,
        target_type=fields.target_type,
        target_id=fields.target_id or session.info.get(_CREATED),
        details=fields.details,
    )


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    written = session.info.get(_WRITING)
    if isinstance(written, RequestEntry):
        written.written = True
    _forget(session)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session, *_: Any) -> None:
    for key in _KEYS:
        session.info.pop(key, None)
