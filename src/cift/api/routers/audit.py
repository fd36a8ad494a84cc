"""The audit log for administrators: newest entries and a check of the chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from cift.audit import verify_chain
from cift.db.models import AuditEntry

from ..deps import State
from ..schemas.audit import AuditEntryOut, ChainProblemOut, ChainReportOut
from ..security import AdminAccess
from . import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/audit", tags=["audit"])
MAX_BIGINT = 2**63 - 1


@router.get("", summary="Audit entries, newest first")
def entries(
    state: State,
    who: AdminAccess,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_seq: Annotated[
        int | None, Query(ge=1, le=MAX_BIGINT, description="Page: entries before it.")
    ] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
) -> list[AuditEntryOut]:
    query = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    if action:
        query = query.where(AuditEntry.action == action)
    with state.db() as session:
        return [AuditEntryOut.model_validate(e) for e in session.scalars(query)]


@router.get("/verify", summary="Check the hash chain")
def verify(state: State, who: AdminAccess) -> ChainReportOut:
    """Walks every row: edited, deleted, inserted or reordered rows are named."""
    with state.db() as session:
        report = verify_chain(session)
    return ChainReportOut(
        rows=report.rows,
        intact=report.intact,
        head_hash=report.head_hash,
        problems=[ChainProblemOut(**p.__dict__) for p in report.problems],
    )
