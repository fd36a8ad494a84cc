"""``cift audit``: read the newest audit entries and verify the hash chain."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from cift.audit import newest_entries, verify_chain
from cift.db.models import AuditEntry

from .console import console, print_error, print_json
from .context import metadata_db
from .entries import summary

app = typer.Typer(help=summary("audit"))


def entry_row(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "seq": entry.seq,
        "occurred_at": entry.occurred_at.isoformat(),
        "actor": entry.actor,
        "actor_user_id": str(entry.actor_user_id) if entry.actor_user_id else None,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "outcome": entry.outcome.value,
        "client_ip": entry.client_ip,
        "request_id": entry.request_id,
        "details": entry.details,
        "row_hash": entry.row_hash,
    }


@app.command("tail")
def tail(
    lines: int = typer.Option(20, "-n", "--lines", min=1, max=10_000, help="How many entries."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Show the newest entries, oldest of them first."""
    with metadata_db() as (_, db), db() as session:
        rows = [entry_row(e) for e in reversed(newest_entries(session, lines))]
    if as_json:
        print_json(rows)
        return
    table = Table(title="Audit log")
    for column in ("seq", "time (UTC)", "actor", "action", "outcome", "client"):
        table.add_column(column, no_wrap=column in {"seq", "time (UTC)", "outcome"})
    for row in rows:
        table.add_row(
            str(row["seq"]),
            row["occurred_at"][:19].replace("T", " "),
            row["actor"],
            row["action"],
            row["outcome"],
            row["client_ip"] or "",
        )
    console.print(table)


@app.command("verify")
def verify(
    expect_head: str | None = typer.Option(
        None,
        "--expect-head",
        help="A head hash printed by an earlier verify: detects cut-off rows.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Check every row's hash and link; name each edited, deleted or reordered row."""
    with metadata_db() as (_, db), db() as session:
        report = verify_chain(session, expect_head)
    if as_json:
        print_json(
            {
                "rows": report.rows,
                "intact": report.intact,
                "head_hash": report.head_hash,
                "problems": [p.__dict__ for p in report.problems],
            }
        )
    elif report.intact:
        console.print(f"audit chain intact: {report.rows} rows, head {report.head_hash}")
    else:
        for problem in report.problems:
            print_error(problem.message)
        print_error(f"audit chain broken: {len(report.problems)} problem(s) in {report.rows} rows")
    if not report.intact:
        raise typer.Exit(1)
