"""``cift trade`` order commands: place, replace and cancel by hand; read orders, fills
and positions."""

from __future__ import annotations

import uuid

import polars as pl
import typer
from sqlalchemy.orm import Session, sessionmaker

from cift.core.errors import ValidationError
from cift.execution import manual
from cift.execution.reports import fills_frame, orders_frame, positions_frame
from cift.execution.requests import OrderChange, OrderRequest
from cift.execution.runs import account_named
from cift.model.fields import validated

from .console import console, print_json
from .context import market_store, metadata_db, owner_id
from .render import frame_records, frame_table

OWNER = typer.Option("local", "--user", help="Owner: username, e-mail or id.")
ACCOUNT = typer.Option(..., "--account", help="The trading account's name (or id).")
JSON = typer.Option(False, "--json", help="Print JSON.")


def orders_command(
    account: str = ACCOUNT,
    run: str | None = typer.Option(None, help="Only this run's orders."),
    open_only: bool = typer.Option(False, "--open", help="Only orders still working."),
    as_json: bool = JSON,
    user: str = OWNER,
) -> None:
    """The account's orders, newest first, each with its fills (--json)."""
    with metadata_db() as (_, db):
        chosen = account_named(db, owner_id(db, user), account)
        frame = orders_frame(db, chosen.id, None if run is None else parse_run_id(run), open_only)
        if as_json:
            fills = fills_frame(db, chosen.id)
            records = frame_records(frame)
            for record in records:
                record["fills"] = frame_records(fills.filter(fills["order_id"] == record["id"]))
            print_json(records)
            return
        shown = frame.select(
            pl.col("created_at").str.slice(0, 19).alias("created"),
            "symbol",
            "side",
            "order_type",
            "quantity",
            "state",
            "filled_quantity",
            "average_price",
            "reason",
        )
        console.print(frame_table(shown, title=f"orders of {chosen.name}"))


def order_command(
    account: str = ACCOUNT,
    symbol: str = typer.Option(..., help="The symbol, e.g. AAPL."),
    side: str = typer.Option(..., help="buy or sell."),
    quantity: str = typer.Option(..., help="How many (a decimal)."),
    limit: str | None = typer.Option(None, help="Limit price (a limit order)."),
    signal: str | None = typer.Option(None, help="Your id for it: asking again returns it."),
    as_json: bool = JSON,
    user: str = OWNER,
) -> None:
    """Place an order by hand: risk-checked at the store's last price and kept in the
    ledger; the account's running session (cift trade run) sends it."""
    if side not in ("buy", "sell"):
        raise ValidationError(f"--side {side!r}: buy or sell.")
    fields = {"symbol": symbol, "side": 1 if side == "buy" else -1, "quantity": quantity}
    if limit is not None:
        fields |= {"order_type": "limit", "limit_price": limit}
    request = validated(OrderRequest, fields | {"signal_id": signal}, "the order")
    with metadata_db() as (settings, db), market_store(settings) as market:
        chosen = account_named(db, owner_id(db, user), account)
        row = manual.place(db, market, chosen.id, request)
        _show_order(db, chosen.id, row.id, as_json)


def cancel_command(
    order: str = typer.Argument(..., help="The order's id or client order id."),
    account: str = ACCOUNT,
    as_json: bool = JSON,
    user: str = OWNER,
) -> None:
    """Cancel an order: withdrawn at once if not sent yet, else asked of the broker."""
    with metadata_db() as (_, db):
        chosen = account_named(db, owner_id(db, user), account)
        row = manual.cancel(db, chosen.id, order)
        _show_order(db, chosen.id, row.id, as_json)


def replace_command(
    order: str = typer.Argument(..., help="The working order's id or client order id."),
    account: str = ACCOUNT,
    quantity: str | None = typer.Option(None, help="New quantity (default: what is left)."),
    limit: str | None = typer.Option(None, help="New limit price."),
    stop: str | None = typer.Option(None, help="New stop price."),
    time_in_force: str | None = typer.Option(None, help="New time in force: day or gtc."),
    as_json: bool = JSON,
    user: str = OWNER,
) -> None:
    """Replace a working order: a new order with the quantity or prices given takes its
    place (risk-checked like any order; the old one's fills stay its own). The
    account's running session (cift trade run) sends it.

      cift trade replace 0193... --account paper-1 --limit 101.5
    """
    fields = {
        "quantity": quantity,
        "limit_price": limit,
        "stop_price": stop,
        "time_in_force": time_in_force,
    }
    change = validated(
        OrderChange, {k: v for k, v in fields.items() if v is not None}, "replacement"
    )
    with metadata_db() as (settings, db), market_store(settings) as market:
        chosen = account_named(db, owner_id(db, user), account)
        row = manual.replace(db, market, chosen.id, order, change)
        _show_order(db, chosen.id, row.id, as_json)


def _show_order(
    db: sessionmaker[Session], account_id: uuid.UUID, order_id: uuid.UUID, as_json: bool
) -> None:
    frame = orders_frame(db, account_id, order_id=order_id)
    if as_json:
        print_json(frame_records(frame)[0])
        return
    (row,) = frame.iter_rows(named=True)
    reason = f" ({row['reason']})" if row["reason"] else ""
    console.print(f"Order {row['id']}: {row['state']}{reason}.")


def fills_command(account: str = ACCOUNT, as_json: bool = JSON, user: str = OWNER) -> None:
    """Every fill of the account, newest first."""
    with metadata_db() as (_, db):
        chosen = account_named(db, owner_id(db, user), account)
        frame = fills_frame(db, chosen.id)
        if as_json:
            print_json(frame_records(frame))
            return
        console.print(frame_table(frame, title=f"fills of {chosen.name}"))


def positions_command(account: str = ACCOUNT, as_json: bool = JSON, user: str = OWNER) -> None:
    """What the account holds, at its last prices, with realized and unrealized P&L."""
    with metadata_db() as (_, db):
        chosen = account_named(db, owner_id(db, user), account)
        frame = positions_frame(db, chosen.id)
        if as_json:
            print_json({"cash": str(chosen.cash), "positions": frame_records(frame)})
            return
        console.print(frame_table(frame, title=f"positions of {chosen.name}"))
        console.print(f"cash {chosen.cash:,.2f} {chosen.base_currency}")


def parse_run_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise ValidationError(
            f"{text!r} is not a run id; list them with 'cift trade runs'."
        ) from None
