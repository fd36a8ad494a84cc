"""Trading accounts: where a user's strategies hold cash and positions, and their limits.

An account is opened at a broker, in paper or live mode, with its starting cash. Broker
credentials never enter the database: a live account names the secret (an environment
variable) that holds them. Accounts belong to one user; nobody else sees them.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy.orm import Session, sessionmaker

from cift.db.base import utcnow
from cift.db.models import AccountMode, BrokerKind, CashKind, CashMovement, TradingAccount
from cift.db.repositories.owned import OwnedRecords
from cift.model.fields import Amount, Label, Symbol

SecretName = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{1,99}$")]
"""The name of an environment variable, e.g. CIFT_ALPACA_LIVE."""


class RiskLimits(BaseModel):
    """Pre-trade limits applied to every order of the account; None means no limit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_order_quantity: Amount | None = Field(None, description="Largest quantity of one order.")
    max_order_value: Amount | None = Field(None, description="Largest notional of one order.")
    max_position_value: Amount | None = Field(
        None, description="Largest absolute notional held in one symbol."
    )
    max_gross_exposure: Amount | None = Field(
        None, description="Largest sum of absolute position notionals."
    )
    max_daily_loss: Amount | None = Field(
        None, description="Loss since the session's start that halts new orders."
    )
    max_orders_per_second: int | None = Field(None, ge=1, le=100_000)
    max_orders_per_minute: int | None = Field(None, ge=1, le=100_000)
    price_collar_bps: int | None = Field(
        None,
        ge=1,
        le=10_000,
        description="Refuse limit and stop prices further than this from the last price.",
    )
    allowed_symbols: list[Symbol] | None = Field(
        None, max_length=1000, description="Only these symbols may be traded (None: any)."
    )
    restricted_symbols: list[Symbol] | None = Field(
        None, max_length=1000, description="These symbols may not be traded."
    )


class AccountSpec(BaseModel):
    """What opening an account needs."""

    model_config = ConfigDict(extra="forbid")

    name: Label
    broker: BrokerKind = BrokerKind.PAPER
    mode: AccountMode = AccountMode.PAPER
    base_currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "USD"
    initial_cash: Amount = Field(description="Starting cash in the base currency.")
    broker_account_id: Label | None = Field(None, description="The broker's id of the account.")
    credentials_ref: SecretName | None = Field(
        None, description="Environment variable holding the broker credentials (not them)."
    )
    risk_limits: RiskLimits = Field(default_factory=RiskLimits)

    @model_validator(mode="after")
    def _broker_and_mode(self) -> Self:
        if self.broker is BrokerKind.PAPER and self.mode is AccountMode.LIVE:
            raise ValueError("the paper broker fills orders in simulation: its mode is paper")
        if self.broker is not BrokerKind.PAPER and self.credentials_ref is None:
            raise ValueError(
                f"a {self.broker.value} account needs credentials_ref, the environment "
                "variable that holds its API key and secret"
            )
        return self


class AccountChanges(BaseModel):
    """What may change on an open account; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: Label | None = None
    credentials_ref: SecretName | None = None
    risk_limits: RiskLimits | None = None
    is_active: bool | None = Field(None, description="False stops new orders on the account.")


def accounts(db: sessionmaker[Session]) -> OwnedRecords[TradingAccount]:
    return OwnedRecords(
        db,
        TradingAccount,
        "trading account",
        "GET /api/v1/accounts",
        clash="you have an account with this name: choose another name",
    )


def open_account(db: sessionmaker[Session], owner: uuid.UUID, spec: AccountSpec) -> TradingAccount:
    """A new account of ``owner`` holding its initial cash."""
    fields = spec.model_dump(exclude={"risk_limits"})
    limits = spec.risk_limits.model_dump(mode="json", exclude_none=True)

    def build(session: Session) -> TradingAccount:
        account = TradingAccount(
            user_id=owner, cash=spec.initial_cash, risk_limits=limits, **fields
        )
        session.add(account)
        session.flush()
        session.add(
            CashMovement(
                account_id=account.id,
                kind=CashKind.DEPOSIT,
                amount=spec.initial_cash,
                occurred_at=utcnow(),
                note="initial cash",
            )
        )
        return account

    return accounts(db).add(build)


def change_account(
    db: sessionmaker[Session], account_id: uuid.UUID, owner: uuid.UUID, changes: AccountChanges
) -> TradingAccount:
    values = changes.model_dump(exclude={"risk_limits"})
    if changes.risk_limits is not None:
        values["risk_limits"] = changes.risk_limits.model_dump(mode="json", exclude_none=True)
    return accounts(db).change(account_id, owner, **values)
