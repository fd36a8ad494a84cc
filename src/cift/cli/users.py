"""``cift users``: create users (the first admin too), list them, disable, change roles."""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.table import Table

from cift.core.errors import ValidationError
from cift.db.models import Role, User
from cift.identity import users as accounts
from cift.identity.scopes import parse_role

from .console import console, print_json
from .context import cli_actor, metadata_db, owner_id
from .entries import summary

app = typer.Typer(help=summary("users"))


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise ValidationError("--password-stdin was given but standard input was empty.")
        return password
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


def user_row(user: User) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "username": user.username,
        "email": user.email,
        "role": user.role.value,
        "active": user.is_active,
        "locked_until": user.locked_until.isoformat() if user.locked_until else None,
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
        "created_at": user.created_at.isoformat(),
    }


@app.command("create")
def create(
    username: str = typer.Argument(..., help="Sign-in name: lowercase letters, digits, . _ -"),
    email: str = typer.Option(..., "--email", help="The user's e-mail address."),
    role: str = typer.Option("viewer", "--role", help="admin, trader or viewer."),
    admin: bool = typer.Option(
        False, "--admin", help="Make the user an admin (same as --role admin)."
    ),
    full_name: str | None = typer.Option(None, "--name", help="Full name, for display."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (scripts)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Create a user. The first admin is made with: cift users create NAME --email E --admin"""
    chosen = Role.ADMIN if admin else parse_role(role)
    password = _read_password(password_stdin)
    with metadata_db() as (settings, db):
        user = accounts.create_user(
            db,
            settings,
            cli_actor(),
            username=username,
            email=email,
            password=password,
            role=chosen,
            full_name=full_name,
        )
    if as_json:
        print_json(user_row(user))
        return
    console.print(f"created {user.role.value} [cyan]{user.username}[/] ({user.id})")


@app.command("password")
def password(
    user: str = typer.Argument(..., help="Username, e-mail or id; 'local' for the CLI's own."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (scripts)."
    ),
) -> None:
    """Set a user's password (their sessions end). Setting one for 'local' lets you sign
    in to the dashboard as the command line's user and see what it recorded."""
    new = _read_password(password_stdin)
    with metadata_db() as (settings, db):
        owner_id(db, user)  # 'local' is made on first use
        changed = accounts.set_password(db, settings, cli_actor(), user, new)
    console.print(f"password set for [cyan]{changed.username}[/]; sign in with it now")


@app.command("ls")
def ls(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List every user with role, state and last login."""
    with metadata_db() as (_, db):
        rows = [user_row(u) for u in accounts.list_users(db)]
    if as_json:
        print_json(rows)
        return
    table = Table(title="Users (ids: --json)")
    for column in ("username", "email", "role", "active", "locked until", "last login"):
        table.add_column(column, no_wrap=column != "email")
    for row in rows:
        table.add_row(
            row["username"],
            row["email"],
            row["role"],
            "yes" if row["active"] else "no",
            (row["locked_until"] or "")[:16].replace("T", " "),
            (row["last_login_at"] or "")[:16].replace("T", " "),
        )
    console.print(table)


@app.command("disable")
def disable(user: str = typer.Argument(..., help="Username, e-mail or id.")) -> None:
    """Disable a user: sign-in, sessions and API keys stop working at once."""
    with metadata_db() as (_, db):
        done = accounts.set_active(db, cli_actor(), user, active=False)
    console.print(f"disabled [cyan]{done.username}[/]")


@app.command("enable")
def enable(user: str = typer.Argument(..., help="Username, e-mail or id.")) -> None:
    """Enable a disabled user again."""
    with metadata_db() as (_, db):
        done = accounts.set_active(db, cli_actor(), user, active=True)
    console.print(f"enabled [cyan]{done.username}[/]")


@app.command("set-role")
def set_role(
    user: str = typer.Argument(..., help="Username, e-mail or id."),
    role: str = typer.Argument(..., help="admin, trader or viewer."),
) -> None:
    """Change a user's role; the scopes of their sessions and keys follow at once."""
    with metadata_db() as (_, db):
        done = accounts.set_role(db, cli_actor(), user, parse_role(role))
    console.print(f"[cyan]{done.username}[/] is now {done.role.value}")
