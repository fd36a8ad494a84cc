"""Trading accounts: where a user's strategies hold cash and positions."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cift.db.base import Base, OwnedByUser, Timestamps, str_enum
from cift.db.types import JSONDocument, Money

if TYPE_CHECKING:
    from cift.db.models.identity import User


class BrokerKind(StrEnum):
    """The broker an account routes orders to."""

    PAPER = "paper"
    ALPACA = "alpaca"


class AccountMode(StrEnum):
    """Whether orders reach a real market."""

    PAPER = "paper"
    LIVE = "live"


class TradingAccount(OwnedByUser, Timestamps, Base):
    """A user's account at a broker, with its cash in exact decimals."""

    __tablename__ = "trading_accounts"
    __table_args__ = (
        Index("ix_trading_accounts_user_id_name", "user_id", "name", unique=True),
        CheckConstraint("CAST(initial_cash AS NUMERIC) >= 0", name="initial_cash_non_negative"),
        CheckConstraint("length(base_currency) = 3", name="base_currency_iso"),
    )

    name: Mapped[str] = mapped_column(String(100))
    broker: Mapped[BrokerKind] = mapped_column(str_enum(BrokerKind, "broker"))
    mode: Mapped[AccountMode] = mapped_column(
        str_enum(AccountMode, "mode"), default=AccountMode.PAPER
    )
    base_currency: Mapped[str] = mapped_column(String(3), default="USD")
    initial_cash: Mapped[Decimal] = mapped_column(Money())
    cash: Mapped[Decimal] = mapped_column(Money())
    broker_account_id: Mapped[str | None] = mapped_column(String(100))
    credentials_ref: Mapped[str | None] = mapped_column(
        String(200),
        doc="Name of the secret holding the broker credentials; never the credentials.",
    )
    risk_limits: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))

    user: Mapped[User] = relationship()
