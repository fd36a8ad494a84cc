"""Trading runs: a strategy trading an account, recorded like a backtest (who, what, which
code, which parameters and symbols, how far it got) so it can be resumed and compared."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cift.core.errors import ConflictError, NotFoundError
from cift.core.settings import Settings
from cift.core.version import code_version
from cift.db.base import utcnow
from cift.db.engine import transaction
from cift.db.models import TradingAccount
from cift.db.models.ledger import RunState, TradingRun
from cift.db.repositories.owned import OwnedRecords
from cift.execution.accounts import accounts
from cift.ml.tracking import resolve_version
from cift.model.symbols import canonical_symbol


def trading_runs(db: sessionmaker[Session]) -> OwnedRecords[TradingRun]:
    return OwnedRecords(db, TradingRun, "trading run", "cift trade runs")


def account_named(db: sessionmaker[Session], owner: uuid.UUID, name: str) -> TradingAccount:
    """The owner's account called ``name`` (or with that id)."""
    found = accounts(db).list(owner, TradingAccount.name == name)
    if not found:
        try:
            return accounts(db).get(uuid.UUID(name), owner)
        except ValueError:
            raise NotFoundError(
                f"No trading account named {name!r}; open one with POST /api/v1/accounts, or "
                "let 'cift trade run' open a paper account of that name."
            ) from None
    return found[0]


def run_lineage(settings: Settings, params: dict[str, Any]) -> dict[str, Any]:
    """What a run's record links to beyond its parameters: for a strategy trading a
    registered model (its ``model`` and ``version`` parameters), the model version and
    the training run that made it, pinned when the run starts."""
    if "model" not in params or "version" not in params:
        return {}
    version = resolve_version(settings, str(params["model"]), str(params["version"]))
    return {"model_version": f"{version.name}/{version.version}", "training_run": version.run_id}


def start_run(
    db: sessionmaker[Session],
    owner: uuid.UUID,
    account: TradingAccount,
    strategy: str,
    params: dict[str, Any],
    symbols: list[str],
    timeframe: str,
    config: dict[str, Any],
    lineage: dict[str, Any] | None = None,
) -> TradingRun:
    """Record a new run of ``strategy`` on ``account`` (state ``running``)."""
    if not account.is_active:
        raise ConflictError(f"Account {account.name} is deactivated; reactivate it first.")
    return trading_runs(db).add(
        lambda _: TradingRun(
            user_id=owner,
            account_id=account.id,
            strategy=strategy,
            params=params,
            symbols=[canonical_symbol(s) for s in symbols],
            timeframe=timeframe,
            config=config,
            code_version=code_version(),
            state=RunState.RUNNING,
            bars_seen=0,
            checkpoint={},
            lineage=lineage or {},
            started_at=utcnow(),
        )
    )


def resume_run(db: sessionmaker[Session], owner: uuid.UUID, run_id: uuid.UUID) -> TradingRun:
    """Mark a stopped or failed run running again, to carry on where it was."""
    with transaction(db) as session:
        run = trading_runs(db).fetch(session, run_id, owner)
        run.state, run.error, run.stopped_at = RunState.RUNNING, None, None
        return run


def finish_run(
    db: sessionmaker[Session], run_id: uuid.UUID, state: RunState, error: str | None = None
) -> None:
    with transaction(db) as session:
        run = session.get(TradingRun, run_id)
        if run is not None:
            run.state, run.error, run.stopped_at = state, error, utcnow()
