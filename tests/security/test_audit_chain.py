"""The audit chain: edits, deletions and reorderings made directly in the database are
found and named; the database itself refuses UPDATE and DELETE on the log."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cift.audit import GENESIS_HASH, Actor, append, row_digest, verify_chain
from cift.audit.chain import hashed_fields
from cift.cli.app import app as cli
from cift.db.engine import transaction
from cift.db.models import AuditEntry, AuditOutcome

ACTOR = Actor(None, "tests", client_ip="198.51.100.7", request_id="req-9")
ROWS = 6


@pytest.fixture
def chain(any_db: sessionmaker[Session]) -> Iterator[sessionmaker[Session]]:
    for i in range(ROWS):
        with transaction(any_db) as session:
            append(
                session,
                ACTOR,
                f"test.action{i}",
                target_type="thing",
                target_id=str(i),
                details={"n": i, "flag": i % 2 == 0},
            )
    return any_db


def _engine(db: sessionmaker[Session]) -> Engine:
    bind = db.kw["bind"]
    assert isinstance(bind, Engine)
    return bind


def _tamper(db: sessionmaker[Session], *statements: str) -> None:
    """Change the log as an attacker with direct database access would: triggers off first."""
    engine = _engine(db)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))
        for statement in statements:
            connection.execute(text(statement))


def _report(db: sessionmaker[Session], expect_head: str | None = None):  # type: ignore[no-untyped-def]
    with db() as session:
        return verify_chain(session, expect_head)


def test_an_untouched_chain_verifies(chain: sessionmaker[Session]) -> None:
    report = _report(chain)
    assert report.intact
    assert report.rows == ROWS
    with chain() as session:
        rows = session.query(AuditEntry).order_by(AuditEntry.seq).all()
    assert rows[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.row_hash
    # the stored hash is SHA-256 over the canonical fields, recomputed here independently
    import hashlib
    import json

    fields = hashed_fields(rows[2])
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    assert rows[2].row_hash == hashlib.sha256(canonical).hexdigest() == row_digest(fields)
    assert report.head_hash == rows[-1].row_hash
    assert rows[0].client_ip == "198.51.100.7"
    assert rows[0].request_id == "req-9"


def test_the_database_refuses_update_and_delete(chain: sessionmaker[Session]) -> None:
    engine = _engine(chain)
    for statement in (
        "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 3",
    ):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    if engine.dialect.name == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(text("TRUNCATE audit_log"))
    assert _report(chain).intact


def _ids(db: sessionmaker[Session]) -> dict[int, int]:
    with db() as session:
        return dict(session.execute(text("SELECT seq, id FROM audit_log")).all())


def test_an_edited_row_is_named(chain: sessionmaker[Session]) -> None:
    row = _ids(chain)[3]
    _tamper(chain, f"UPDATE audit_log SET outcome = 'failure' WHERE id = {row}")
    report = _report(chain)
    assert [(p.row_id, p.kind) for p in report.problems] == [(row, "edited")]
    assert f"row {row}" in report.problems[0].message


def test_a_deleted_row_is_named_by_its_position_and_successor(chain: sessionmaker[Session]) -> None:
    ids = _ids(chain)
    _tamper(chain, f"DELETE FROM audit_log WHERE id = {ids[4]}")
    report = _report(chain)
    assert [(p.row_id, p.seq, p.kind) for p in report.problems] == [(ids[5], 5, "missing_before")]
    assert "row(s) 4 deleted" in report.problems[0].message


def test_a_deleted_and_renumbered_row_is_still_found(chain: sessionmaker[Session]) -> None:
    ids = _ids(chain)
    shifts = ["UPDATE audit_log SET seq = seq - 1 WHERE seq > 2"]
    _tamper(chain, f"DELETE FROM audit_log WHERE id = {ids[2]}", *shifts)
    kinds = {(p.row_id, p.kind) for p in _report(chain).problems}
    assert (ids[3], "relinked") in kinds
    assert (ids[3], "edited") in kinds


def test_reordered_rows_are_named(chain: sessionmaker[Session]) -> None:
    ids = _ids(chain)
    _tamper(
        chain,
        f"UPDATE audit_log SET seq = -1 WHERE id = {ids[2]}",
        f"UPDATE audit_log SET seq = 2 WHERE id = {ids[3]}",
        f"UPDATE audit_log SET seq = 3 WHERE id = {ids[2]}",
    )
    problems = _report(chain).problems
    assert {p.row_id for p in problems if p.kind == "edited"} == {ids[2], ids[3]}
    assert {p.kind for p in problems if p.row_id == ids[2]} >= {"relinked", "out_of_order"}
    # the row after the swapped pair no longer links to the row now before it
    assert {p.row_id for p in problems if p.kind == "relinked"} == {ids[2], ids[3], ids[4]}


def test_cut_tail_is_found_against_a_recorded_head(chain: sessionmaker[Session]) -> None:
    head = _report(chain).head_hash
    ids = _ids(chain)
    _tamper(chain, f"DELETE FROM audit_log WHERE id = {ids[ROWS]}")
    assert _report(chain).intact  # a cut tail leaves a valid, shorter chain ...
    report = _report(chain, expect_head=head)  # ... which the recorded head exposes
    assert [p.kind for p in report.problems] == ["truncated"]


def test_cli_verify_names_each_broken_row_and_fails(
    chain: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch, any_db_settings
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CIFT_HOME", str(any_db_settings.home))
    if any_db_settings.database_url is not None:
        monkeypatch.setenv("CIFT_DATABASE_URL", any_db_settings.database_url.get_secret_value())
    runner = CliRunner()
    assert runner.invoke(cli, ["audit", "verify"]).exit_code == 0
    ids = _ids(chain)
    _tamper(
        chain,
        f"UPDATE audit_log SET actor = 'mallory' WHERE id = {ids[1]}",
        f"DELETE FROM audit_log WHERE id = {ids[5]}",
    )
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"row {ids[1]}: its contents do not match its hash" in result.output
    assert f"row {ids[6]}: position 6 follows 4: row(s) 5 deleted" in result.output
    tail = runner.invoke(cli, ["audit", "tail", "-n", "2"])
    assert tail.exit_code == 0


def test_concurrent_appends_never_fork_the_chain(any_db: sessionmaker[Session]) -> None:
    import threading

    def writer(n: int) -> None:
        for i in range(5):
            with transaction(any_db) as session:
                append(session, ACTOR, f"w{n}.{i}", AuditOutcome.SUCCESS)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = _report(any_db)
    assert report.intact, report.problems
    assert report.rows == 20
