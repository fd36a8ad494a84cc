"""``cift alerts``: add price alert rules, list them, check them against the store (and
deliver what fires), and show every delivery."""

from __future__ import annotations

import time
import uuid
from typing import Any

import polars as pl
import typer
from rich.table import Table

from cift.core.errors import ValidationError
from cift.data.stream.board import open_board
from cift.db.models import Alert, AlertSeverity, AlertStatus
from cift.execution import alerts
from cift.execution.delivery.send import deliver, history
from cift.execution.runs import account_named
from cift.model.fields import validated

from .console import console, print_json
from .context import market_store, metadata_db, owner_id
from .entries import summary
from .render import frame_table

app = typer.Typer(help=summary("alerts"))

OWNER = typer.Option("local", "--user", help="Owner: username, e-mail or id.")
ALERT_ID = typer.Argument(..., help="The rule's id (cift alerts ls --json).")


def alert_row(rule: Alert) -> dict[str, Any]:
    condition = alerts.CONDITIONS.validate_python(rule.condition)
    if isinstance(condition, alerts.PriceCondition):
        source = condition.source if condition.source == "trades" else condition.timeframe
    else:
        source = "account"
    last = rule.last_triggered_at
    return {
        "id": str(rule.id),
        "name": rule.name,
        "symbol": rule.symbol,
        "condition": condition.describe(),
        "source": source,
        "severity": rule.severity.value,
        "status": rule.status.value,
        "fired": rule.trigger_count,
        "last_fired": last.isoformat() if last else None,
        "channels": ", ".join(f"{c['kind']} {c.get('url') or c.get('to')}" for c in rule.channels),
    }


def fired_row(event: alerts.Fired) -> dict[str, Any]:
    condition = event.condition
    return {
        "alert_id": str(event.alert_id),
        "user_id": str(event.user_id),
        "name": event.name,
        "symbol": event.symbol,
        "condition": condition.describe(),
        event.measure: event.price,
        "observed_at": event.observed_at.isoformat(),
        "severity": event.severity.value,
    }


ACCOUNT_KINDS = ("pnl_below", "drawdown_above", "risk_rejections", "reconciliation_differences")


@app.command("add")
def add(
    name: str = typer.Argument(..., help="A name for the rule, e.g. 'NVDA breakout'."),
    symbol: str | None = typer.Option(None, "--symbol", help="A stored symbol (price rules)."),
    above: float | None = typer.Option(None, "--above", help="Fire at or above this price."),
    below: float | None = typer.Option(None, "--below", help="Fire at or below this price."),
    trades: bool = typer.Option(False, "--trades", help="Watch the last trade, not bar closes."),
    timeframe: str = typer.Option("1m", "--timeframe", help="Bars whose close is watched."),
    account: str | None = typer.Option(
        None, "--account", help="A trading account (account rules: --when and --level)."
    ),
    when: str | None = typer.Option(
        None, "--when", help=f"Account rules: {', '.join(ACCOUNT_KINDS)}."
    ),
    level: float | None = typer.Option(
        None, "--level", help="Account rules: P&L amount, drawdown fraction (0.05), or count."
    ),
    window: int = typer.Option(60, "--window", help="Minutes the counts look back."),
    severity: AlertSeverity = typer.Option(AlertSeverity.WARNING, "--severity"),
    cooldown: int = typer.Option(300, "--cooldown", help="Seconds before it may fire again."),
    webhook: list[str] | None = typer.Option(
        None, "--webhook", help="Also POST it, signed, to this URL (its host allowed)."
    ),
    email: list[str] | None = typer.Option(None, "--email", help="Also e-mail it to this address."),
    user: str = OWNER,
) -> None:
    """Add a rule: on a price (--symbol with exactly one of --above and --below), or on a
    trading account (--account, --when, --level). It is logged when it fires, and sent to
    each --webhook and --email given (see docs/alerts.md).

      cift alerts add "NVDA breakout" --symbol NVDA --above 150 --email desk@example.com
      cift alerts add "desk loss" --account paper-1 --when pnl_below --level -500
    """
    fields: dict[str, object] = {
        "name": name,
        "severity": severity,
        "cooldown_seconds": cooldown,
        "channels": [{"kind": "webhook", "url": url} for url in webhook or []]
        + [{"kind": "email", "to": to} for to in email or []],
    }
    with metadata_db() as (_, db):
        owner = owner_id(db, user)
        if account is not None:
            chosen = account_named(db, owner, account)
            condition = {"kind": when, "level": level, "window_minutes": window}
            fields |= {"trading_account_id": chosen.id, "condition": condition}
        else:
            fields |= {
                "symbol": symbol,
                "condition": _price_condition(above, below, trades, timeframe),
            }
        rule = alerts.create_alert(db, owner, validated(alerts.AlertSpec, fields, "alert rule"))
    console.print(f"added alert [cyan]{rule.name}[/] ({rule.id}): {alert_row(rule)['condition']}")


def _price_condition(
    above: float | None, below: float | None, trades: bool, timeframe: str
) -> dict[str, object]:
    if (above is None) == (below is None):
        raise ValidationError(
            "Give exactly one of --above PRICE and --below PRICE (or --account, --when and "
            "--level for an account rule)."
        )
    kind, price = ("price_above", above) if above is not None else ("price_below", below)
    source = "trades" if trades else "bars"
    return {"kind": kind, "price": price, "source": source, "timeframe": timeframe}


@app.command("ls")
def list_rules(
    user: str = OWNER,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """The user's rules, newest first."""
    with metadata_db() as (_, db):
        rows = [alert_row(r) for r in alerts.alert_rules(db).list(owner_id(db, user))]
    if as_json:
        print_json(rows)
    elif not rows:
        console.print("no alert rules; add one with 'cift alerts add NAME --symbol S --above P'")
    else:
        table = Table(title="alert rules (ids: --json)")
        columns = ("name", "symbol", "condition", "source", "severity", "status", "fired")
        for column in (*columns, "last_fired"):
            table.add_column(column.replace("_", " "), min_width=8 if column == "name" else None)
        for row in rows:
            table.add_row(*(str(row[c]) for c in columns), row["last_fired"] or "")
        console.print(table)


def _rule_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise ValidationError(
            f"{text!r} is not an alert id; 'cift alerts ls --json' lists them."
        ) from None


@app.command("disable")
def disable(
    alert_id: str = ALERT_ID,
    user: str = OWNER,
) -> None:
    """Stop a rule from watching (enable starts it again)."""
    _set_status(alert_id, user, AlertStatus.DISABLED)


@app.command("enable")
def enable(
    alert_id: str = ALERT_ID,
    user: str = OWNER,
) -> None:
    """Let a disabled rule watch again."""
    _set_status(alert_id, user, AlertStatus.ACTIVE)


def _set_status(alert_id: str, user: str, status: AlertStatus) -> None:
    changes = alerts.AlertChanges(status=status)
    with metadata_db() as (_, db):
        rule = alerts.change_alert(db, _rule_id(alert_id), owner_id(db, user), changes)
    console.print(f"alert [cyan]{rule.name}[/] is {rule.status.value}")


@app.command("rm")
def remove(
    alert_id: str = ALERT_ID,
    user: str = OWNER,
) -> None:
    """Delete a rule."""
    with metadata_db() as (_, db):
        rule = alerts.alert_rules(db).remove(_rule_id(alert_id), owner_id(db, user))
    console.print(f"deleted alert [cyan]{rule.name}[/]")


@app.command("check")
def check(
    every: float | None = typer.Option(
        None, "--every", min=1, help="Check again every SECONDS until Ctrl-C (default: once)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print what fired as JSON."),
) -> None:
    """Check every user's watching rules against the newest stored prices."""
    with metadata_db() as (settings, db), market_store(settings) as store:
        board = open_board(settings)
        while True:
            events = alerts.check_alerts(db, store, board=board)
            sent = deliver(settings, db, events)
            fired = [fired_row(f) for f in events]
            if as_json:
                print_json(fired)
            elif fired:
                shown = pl.DataFrame(fired).drop("alert_id", "user_id", strict=False)
                console.print(frame_table(shown, title="fired (ids: --json)"))
                for row in sent:
                    console.print(f"  {row.channel} {row.target}: {row.status.value}")
            else:
                console.print("no alert fired")
            if every is None:
                return
            time.sleep(every)


@app.command("history")
def history_command(
    alert: str | None = typer.Option(None, "--alert", help="Only this rule's (its id)."),
    limit: int = typer.Option(50, min=1, max=1000, help="How many, newest first."),
    user: str = OWNER,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Every delivery of your fired alerts: channel, target, delivered, failed or refused,
    attempts and the error."""
    with metadata_db() as (_, db):
        rule = None if alert is None else _rule_id(alert)
        rows = history(db, owner_id(db, user), rule, limit)
    if as_json:
        print_json(rows)
    elif not rows:
        console.print("no alert delivered yet (rules without --webhook or --email only log)")
    else:
        table = Table(title="alert deliveries")
        for column in ("fired", "alert", "to", "status", "tries"):
            table.add_column(column, no_wrap=column != "to")
        table.add_column("error", overflow="fold")
        for row in rows:
            table.add_row(
                row["fired_at"][:19].replace("T", " "),
                row["alert"],
                f"{row['channel']} {row['target']}",
                row["status"],
                str(row["attempts"]),
                row["error"] or "",
            )
        console.print(table)
