"""Every metadata table, imported here so ``Base.metadata`` knows them all."""

from cift.db.base import Base
from cift.db.models.data import BackfillCheckpoint
from cift.db.models.identity import ApiKey, AuthSession, Role, User
from cift.db.models.ledger import (
    AccountDay,
    CashKind,
    CashMovement,
    LedgerFill,
    LedgerOrder,
    LedgerOrderType,
    LedgerPosition,
    LedgerTimeInForce,
    OrderEvent,
    OrderState,
    RunState,
    TradingHalt,
    TradingRun,
)
from cift.db.models.monitoring import (
    Alert,
    AlertDelivery,
    AlertSeverity,
    AlertStatus,
    AuditEntry,
    AuditOutcome,
    DeliveryStatus,
)
from cift.db.models.research import (
    Backtest,
    JobStatus,
    ModelConfiguration,
    ModelStatus,
    TrainingJob,
)
from cift.db.models.trading import AccountMode, BrokerKind, TradingAccount

__all__ = [
    "AccountDay",
    "AccountMode",
    "Alert",
    "AlertDelivery",
    "AlertSeverity",
    "AlertStatus",
    "ApiKey",
    "AuditEntry",
    "AuditOutcome",
    "AuthSession",
    "BackfillCheckpoint",
    "Backtest",
    "Base",
    "BrokerKind",
    "CashKind",
    "CashMovement",
    "DeliveryStatus",
    "JobStatus",
    "LedgerFill",
    "LedgerOrder",
    "LedgerOrderType",
    "LedgerPosition",
    "LedgerTimeInForce",
    "ModelConfiguration",
    "ModelStatus",
    "OrderEvent",
    "OrderState",
    "Role",
    "RunState",
    "TradingAccount",
    "TradingHalt",
    "TradingRun",
    "TrainingJob",
    "User",
]
