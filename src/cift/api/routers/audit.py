"""The audit log for administrators: newest entries and a check of the chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cift.audit import newest_entries, verify_chain

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
    with state.db() as session:
        found = newest_entries(session, limit, before_seq=before_seq, action=action)
        return [AuditEntryOut.model_validate(e) for e in found]


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
