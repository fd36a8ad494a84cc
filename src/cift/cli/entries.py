"""What the root ``cift`` command offers, without importing any of it.

Each command group pulls in its stage (the store, the engine, numba, the API...), which
takes seconds all together. The root lists its commands from here, so ``cift --help``
answers at once, and ``cift data ls`` imports the data commands only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """A root command: a module's ``app`` command group, or one of its functions."""

    module: str
    summary: str
    """The line ``cift --help`` shows (a group's whole help; a command's first line)."""
    function: str | None = None


def _group(name: str, summary: str) -> Entry:
    return Entry(f"cift.cli.{name}", summary)


ENTRIES: dict[str, Entry] = {
    "serve": Entry("cift.cli.serve", "Start the HTTP API.", "serve"),
    "demo": Entry(
        "cift.cli.demo",
        "Simulate a market, store it, compute features, train a model, backtest strategies.",
        "demo",
    ),
    "config": _group("config", "Show the effective configuration and document every setting."),
    "db": _group(
        "db",
        "Manage the metadata database schema (SQLite file in CIFT_HOME by default, or the "
        "PostgreSQL server named by CIFT_DATABASE_URL).",
    ),
    "data": _group("data", "Fetch, import, inspect and export ticks, quotes and bars."),
    "features": _group(
        "features", "Technical, order-flow and microstructure features: list, compute, show."
    ),
    "ml": _group("ml", "Machine learning: datasets, purged cross-validation, training, models."),
    "lineage": _group(
        "lineage",
        "Lineage: data -> features -> dataset -> model -> backtest and live run, either way.",
    ),
    "backtest": _group(
        "backtest", "Backtest strategies on stored data or a file; every run is recorded."
    ),
    "users": _group("users", "Manage who may sign in to the API and with which role."),
    "keys": _group(
        "keys", "Manage API keys: scoped, expiring, revocable credentials for programs."
    ),
    "audit": _group("audit", "Inspect the tamper-evident audit log."),
    "alerts": _group(
        "alerts",
        "Price alert rules: add, list, disable or delete them, and check them against "
        "stored prices.",
    ),
    "stream": _group(
        "stream",
        "Run the live stages of the data path: a feed onto the bus (ingest), the bus into "
        "the store (store), trades into bars (bars), bars into features (features), or all "
        "of them in one process (run).",
    ),
    "trade": _group(
        "trade",
        "Trade a strategy on live data (paper by default), read orders, fills and "
        "positions, and stop everything with the kill switch.",
    ),
}
"""The root's commands, in the order ``cift --help`` lists them."""


def summary(name: str) -> str:
    """The help of the command group ``name`` (its module declares it with this)."""
    return ENTRIES[name].summary
