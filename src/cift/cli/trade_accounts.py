"""``cift trade open`` and ``cift trade accounts``: trading accounts from the command line."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import typer

from cift.db.models import AccountMode, BrokerKind
from cift.execution.accounts import AccountSpec, accounts, open_account
from cift.model.fields import validated

from .console import console, print_json
from .context import metadata_db, owner_id
from .render import frame_table
from .trade_orders import JSON, OWNER


def open_command(
    name: str = typer.Argument(..., help="The account's name, e.g. alpaca-paper."),
    broker: BrokerKind = typer.Option(BrokerKind.PAPER, help="paper (simulated) or alpaca."),
    mode: AccountMode = typer.Option(AccountMode.PAPER, help="paper or live (real money)."),
    credentials_ref: str | None = typer.Option(
        None,
        help="The environment variable holding the broker's KEY_ID:SECRET_KEY (never the "
        "keys themselves), e.g. CIFT_ALPACA_PAPER.",
    ),
    cash: str = typer.Option("100000", help="Starting cash in the ledger."),
    user: str = OWNER,
) -> None:
    """Open a trading account: a paper one is simulated; an Alpaca one trades through
    Alpaca's paper or live endpoint with the keys in $CREDENTIALS_REF.

      export CIFT_ALPACA_PAPER=PK...:secret...
      cift trade open alpaca-paper --broker alpaca --credentials-ref CIFT_ALPACA_PAPER
    """
    fields = {"name": name, "broker": broker, "mode": mode, "initial_cash": cash}
    if credentials_ref is not None:
        fields["credentials_ref"] = credentials_ref
    spec = validated(AccountSpec, fields, "account")
    with metadata_db() as (_, db):
        account = open_account(db, owner_id(db, user), spec)
    console.print(
        f"Opened {account.broker.value} account {account.name} ({account.mode.value}) with "
        f"{Decimal(account.cash):,.2f} {account.base_currency}."
    )


def accounts_command(as_json: bool = JSON, user: str = OWNER) -> None:
    """Your trading accounts: broker, mode, cash, whether active."""
    with metadata_db() as (_, db):
        rows = [
            {
                "name": a.name,
                "broker": a.broker.value,
                "mode": a.mode.value,
                "cash": format(Decimal(a.cash).normalize(), "f"),
                "active": a.is_active,
                "credentials_ref": a.credentials_ref,
                "id": str(a.id),
            }
            for a in accounts(db).list(owner_id(db, user))
        ]
    if as_json:
        print_json(rows)
    elif not rows:
        console.print("No trading accounts yet; open one with 'cift trade open NAME'.")
    else:
        console.print(frame_table(pl.DataFrame(rows), title="trading accounts"))
