"""Checking the audit chain: every edited, deleted, inserted or reordered row is named."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from cift.audit.chain import GENESIS_HASH, hashed_fields, row_digest
from cift.db.models import AuditEntry

BATCH = 1000


@dataclass(frozen=True)
class ChainProblem:
    """One break in the chain, at the row with database id ``row_id`` and position ``seq``."""

    row_id: int
    seq: int
    kind: str  # edited | missing_before | relinked | out_of_order
    message: str


@dataclass
class ChainReport:
    """The outcome of a walk over the whole log."""

    rows: int = 0
    head_hash: str = GENESIS_HASH
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_chain(session: Session, expect_head: str | None = None) -> ChainReport:
    """Walk the log in chain order and report every row that does not link up.

    ``expect_head`` is a head hash recorded earlier (``cift audit verify`` prints it):
    rows cut from the end of the chain are only detectable against such a record.
    """
    report = ChainReport()
    prev_hash, prev_seq, prev_id = GENESIS_HASH, 0, 0
    seen_heads = {GENESIS_HASH}
    last = 0
    while True:
        batch = session.scalars(
            select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(BATCH)
        ).all()
        if not batch:
            break
        for entry in batch:
            report.problems += _check(entry, prev_hash, prev_seq, prev_id)
            prev_hash, prev_seq, prev_id = entry.row_hash, entry.seq, entry.id
            seen_heads.add(entry.row_hash)
            report.rows += 1
        last = batch[-1].seq
        session.expunge_all()
    report.head_hash = prev_hash
    if expect_head and expect_head not in seen_heads:
        report.problems.append(
            ChainProblem(
                row_id=prev_id,
                seq=prev_seq,
                kind="truncated",
                message=f"the recorded head {expect_head[:16]}... is not in the chain: rows "
                "after it were deleted or the chain was rewritten",
            )
        )
    return report


def _check(entry: AuditEntry, prev_hash: str, prev_seq: int, prev_id: int) -> list[ChainProblem]:
    problems = []

    def add(kind: str, message: str) -> None:
        problems.append(ChainProblem(entry.id, entry.seq, kind, f"row {entry.id}: {message}"))

    if row_digest(hashed_fields(entry)) != entry.row_hash:
        add("edited", "its contents do not match its hash (the row was edited)")
    if entry.seq != prev_seq + 1:
        missing = (
            f"{prev_seq + 1}" if entry.seq == prev_seq + 2 else f"{prev_seq + 1}-{entry.seq - 1}"
        )
        add("missing_before", f"position {entry.seq} follows {prev_seq}: row(s) {missing} deleted")
    elif entry.prev_hash != prev_hash:
        add(
            "relinked",
            "its predecessor hash does not match the row before it (rows were deleted, "
            "inserted or reordered)",
        )
    if entry.id <= prev_id:
        add("out_of_order", f"stored before row {prev_id} it follows in the chain (reordered)")
    return problems
