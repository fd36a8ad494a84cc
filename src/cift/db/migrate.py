"""Schema migrations with Alembic, run from code (``cift db ...``, ``cift serve``, tests).

Alembic is imported only when a migration runs or is written: opening a database whose
schema is at the newest revision, as every command does, needs none of it (its import
took 0.1-0.2 s of each such command).
"""

from __future__ import annotations

import ast
import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, String, column, inspect, select, table, text

from cift.core.errors import ValidationError
from cift.db.engine import ping

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"
SCRIPT_IDS = ("revision", "down_revision")
ADVISORY_KEY = 0x43494654  # "CIFT": the PostgreSQL advisory lock that migrations take turns on


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that runs on ``engine`` (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest migration shipped with this version of CIFT."""
    return head_of(MIGRATIONS_DIR / "versions")


def head_of(versions: Path) -> str:
    """The one revision among the scripts in ``versions`` that no other names as its
    ``down_revision``, read from their source (a test checks it is Alembic's head)."""
    scripts = sorted(versions.glob("*.py"))
    downs = dict(_script_ids(path, path.stat().st_mtime_ns) for path in scripts)
    followed = {down for parents in downs.values() for down in parents}
    heads = sorted(set(downs) - followed)
    if len(heads) != 1:
        raise ValidationError(
            f"The migrations in {versions} have {len(heads)} newest revisions {heads}, not "
            "one; write a merge script whose down_revision names them all, or remove a "
            "stray script."
        )
    return heads[0]


@cache
def _script_ids(path: Path, modified_ns: int) -> tuple[str, tuple[str, ...]]:
    """A migration script's ``revision`` and the revisions it follows (its
    ``down_revision``: none, one, or several for a merge); kept per version of the file,
    as parsing them all takes some 10 ms and the readiness probe asks every few seconds."""
    values: dict[str, str | tuple[str, ...] | None] = {"down_revision": None}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target: ast.expr | None = None
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        if isinstance(target, ast.Name) and target.id in SCRIPT_IDS:
            values[target.id] = ast.literal_eval(value)
    down = values["down_revision"]
    parents = () if down is None else (down,) if isinstance(down, str) else down
    return str(values["revision"]), parents


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    ping(engine)
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        revisions = (
            connection.execute(
                select(column("version_num", String)).select_from(table(VERSION_TABLE))
            )
            .scalars()
            .all()
        )
    if len(revisions) > 1:
        raise ValidationError(f"The database has several heads {revisions}; merge them first.")
    return revisions[0] if revisions else None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (nothing to do, and nothing logged, at head).

    Processes started together on a new database (``cift serve`` and a ``cift stream``
    worker) take turns: the first migrates, the others find it done."""
    if revision == "head" and current_revision(engine) == head_revision():
        return
    from alembic import command

    with migration_lock(engine):
        if revision == "head" and current_revision(engine) == head_revision():
            return
        _run(lambda cfg: command.upgrade(cfg, revision), engine, revision)


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the database's migration lock: a PostgreSQL advisory lock, or a lock file
    beside a SQLite database."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
        return
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    with open(f"{url.database}.migrate.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


def downgrade(engine: Engine, revision: str) -> None:
    """Revert migrations down to ``revision`` (``base`` empties the schema)."""
    from alembic import command

    ping(engine)
    _run(lambda cfg: command.downgrade(cfg, revision), engine, revision)


def new_revision(engine: Engine, message: str) -> Path:
    """Write a migration with the difference between the models and the database at head."""
    from alembic import command

    if not is_at_head(engine):
        raise ValidationError(
            "The database is not at the newest migration; run 'cift db upgrade' first so "
            "the new revision holds only the model changes."
        )
    script = command.revision(alembic_config(engine), message=message, autogenerate=True)
    if script is None or isinstance(script, list):  # pragma: no cover - single head
        raise ValidationError("Alembic produced no single revision; merge heads first.")
    return Path(script.path)


def is_at_head(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


def _run(action: Callable[[Config], None], engine: Engine, revision: str) -> None:
    from alembic.util.exc import CommandError

    try:
        action(alembic_config(engine))
    except CommandError as exc:
        raise ValidationError(
            f"Cannot migrate to {revision!r}: {exc}. Use 'head', 'base', a revision id "
            "from 'cift db history', or a relative step such as -1."
        ) from None
