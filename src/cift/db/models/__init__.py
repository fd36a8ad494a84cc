"""Every metadata table, imported here so ``Base.metadata`` knows them all."""

from cift.db.base import Base
from cift.db.models.data import BackfillCheckpoint
from cift.db.models.identity import ApiKey, AuthSession, Role, User
from cift.db.models.monitoring import (
    Alert,
    AlertSeverity,
    AlertStatus,
    AuditEntry,
    AuditOutcome,
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
    "AccountMode",
    "Alert",
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
    "JobStatus",
    "ModelConfiguration",
    "ModelStatus",
    "Role",
    "TradingAccount",
    "TrainingJob",
    "User",
]
