"""``cift keys``: create (shown once), list and revoke API keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import typer
from rich.table import Table

from cift.db.base import utcnow
from cift.db.models import ApiKey
from cift.identity import keys as api_keys
from cift.identity.scopes import parse_scopes

from .console import console, print_json
from .context import cli_actor, metadata_db, owner_id
from .entries import summary

app = typer.Typer(help=summary("keys"))


def key_row(key: ApiKey) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": str(key.id),
        "user_id": str(key.user_id),
        "name": key.name,
        "prefix": key.prefix,
        "scopes": list(key.scopes),
        "created_at": iso(key.created_at),
        "expires_at": iso(key.expires_at),
        "last_used_at": iso(key.last_used_at),
        "revoked_at": iso(key.revoked_at),
    }


@app.command("create")
def create(
    user: str = typer.Option(..., "--user", help="Owner: username, e-mail or id."),
    name: str = typer.Option(..., "--name", help="A name to tell keys apart, e.g. 'notebook'."),
    scopes: str = typer.Option("read", "--scopes", help="Comma-separated: read, trade, admin."),
    expires_days: int | None = typer.Option(
        None, "--expires-days", min=1, help="Days until the key stops working (default never)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Create a key and print it once; only its hash is stored."""
    wanted = parse_scopes(scopes.split(","))
    expires = utcnow() + timedelta(days=expires_days) if expires_days else None
    with metadata_db() as (_, db):
        owner = owner_id(db, user)
        key, plaintext = api_keys.create_key(db, cli_actor(), owner, name, wanted, expires)
    if as_json:
        print_json({**key_row(key), "key": plaintext})
        return
    console.print(f"created key [cyan]{key.name}[/] ({key.id}) with scopes {', '.join(key.scopes)}")
    console.print("Store it now; it is not shown again:")
    console.out(plaintext, highlight=False)


@app.command("ls")
def ls(
    user: str | None = typer.Option(None, "--user", help="Only this user's keys."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List keys (never the keys themselves): prefix, scopes, expiry, last use, revocation."""
    with metadata_db() as (_, db):
        owner = owner_id(db, user) if user else None
        rows = [key_row(k) for k in api_keys.list_keys(db, owner)]
    if as_json:
        print_json(rows)
        return
    table = Table(title="API keys (ids: --json)")
    for column in ("name", "prefix", "scopes", "expires", "last used", "revoked"):
        table.add_column(column, no_wrap=column != "name")
    for row in rows:
        table.add_row(
            row["name"],
            row["prefix"],
            ",".join(row["scopes"]),
            *(
                (row[c] or "")[:16].replace("T", " ")
                for c in ("expires_at", "last_used_at", "revoked_at")
            ),
        )
    console.print(table)


@app.command("revoke")
def revoke(key: str = typer.Argument(..., help="The key's id or prefix.")) -> None:
    """Revoke a key; requests with it fail from now on."""
    with metadata_db() as (_, db):
        done = api_keys.revoke_key(db, cli_actor(), key, owner_id=None)
    console.print(f"revoked key [cyan]{done.name}[/] ({done.prefix})")
