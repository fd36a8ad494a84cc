"""The schema enforces its rules on both backends: keys, cascades, checks, exact money."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from cift.core.settings import Settings
from cift.db.engine import session_factory, transaction
from cift.db.models import (
    ApiKey,
    AuditEntry,
    AuditOutcome,
    Backtest,
    Role,
    TradingAccount,
    User,
)
from cift.db.models.trading import BrokerKind
from tests.budget import deep
from tests.schema import migrated_engine


@pytest.fixture
def engine(db_settings: Settings) -> Iterator[Engine]:
    engine = migrated_engine(db_settings)
    yield engine
    engine.dispose()


def _user(name: str = "ada") -> User:
    return User(email=f"{name}@example.com", username=name, password_hash="x", role=Role.TRADER)


def _account(user: User, cash: str = "100000") -> TradingAccount:
    return TradingAccount(
        user=user,
        name="main",
        broker=BrokerKind.PAPER,
        initial_cash=Decimal(cash),
        cash=Decimal(cash),
    )


def test_defaults_and_timezone_aware_timestamps(engine: Engine) -> None:
    with transaction(session_factory(engine)) as session:
        session.add(_user())
    with Session(engine) as session:
        user = session.scalars(select(User)).one()
        assert user.role is Role.TRADER
        assert user.is_active is True
        assert user.failed_login_count == 0
        assert user.created_at.tzinfo is not None
        assert user.created_at.utcoffset() == timedelta(0)
        assert abs(datetime.now(UTC) - user.created_at) < timedelta(minutes=1)


def test_non_utc_input_is_stored_as_the_same_instant(engine: Engine) -> None:
    tokyo = datetime(2024, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=9)))
    with transaction(session_factory(engine)) as session:
        session.add(
            User(email="t@example.com", username="t", password_hash="x", locked_until=tokyo)
        )
    with Session(engine) as session:
        locked = session.scalars(select(User.locked_until)).one()
    assert locked == tokyo
    assert locked is not None
    assert locked.tzinfo is not None
    assert locked.hour == 0


def test_naive_datetime_is_refused(engine: Engine) -> None:
    with (
        pytest.raises(StatementError, match="naive datetime"),
        transaction(session_factory(engine)) as session,
    ):
        session.add(
            User(
                email="n@example.com",
                username="n",
                password_hash="x",
                locked_until=datetime(2024, 1, 1),
            )
        )


def test_unique_email_and_lowercase_check(engine: Engine) -> None:
    factory = session_factory(engine)
    with transaction(factory) as session:
        session.add(_user())
    with pytest.raises(IntegrityError), transaction(factory) as session:
        session.add(User(email="ada@example.com", username="other", password_hash="x"))
    with pytest.raises(IntegrityError), transaction(factory) as session:
        session.add(User(email="Bob@Example.com", username="bob", password_hash="x"))


def test_role_outside_the_enum_is_rejected_by_the_database(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, username, password_hash, role, is_active, "
                "failed_login_count, created_at, updated_at) VALUES "
                "(:id, 'r@example.com', 'r', 'x', 'root', true, 0, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"id": "0190a4c2-0000-7000-8000-000000000001"},
        )


def test_deleting_a_user_cascades_to_keys_and_accounts(engine: Engine) -> None:
    factory = session_factory(engine)
    with transaction(factory) as session:
        user = _user()
        session.add_all([user, _account(user)])
        session.add(
            ApiKey(
                user=user,
                name="ci",
                prefix="cift_abc123",
                key_hash="h",
                created_at=datetime.now(UTC),
            )
        )
    with engine.begin() as connection:  # bypass the ORM: the database itself must cascade
        connection.execute(delete(User))
    with Session(engine) as session:
        assert session.scalars(select(ApiKey)).all() == []
        assert session.scalars(select(TradingAccount)).all() == []


def test_audited_user_cannot_be_deleted(engine: Engine) -> None:
    factory = session_factory(engine)
    with transaction(factory) as session:
        user = _user()
        session.add(user)
        session.flush()
        session.add(
            AuditEntry(
                seq=1,
                occurred_at=datetime.now(UTC),
                actor_user_id=user.id,
                actor="user:ada",
                action="login",
                outcome=AuditOutcome.SUCCESS,
                prev_hash="0" * 64,
                row_hash="a" * 64,
            )
        )
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(delete(User))


def test_negative_cash_is_rejected(engine: Engine) -> None:
    user = _user()
    with pytest.raises(IntegrityError), transaction(session_factory(engine)) as session:
        session.add_all([user, _account(user, cash="-1")])


def test_backtest_range_and_progress_checks(engine: Engine) -> None:
    factory = session_factory(engine)
    start = datetime(2024, 1, 2, tzinfo=UTC)
    with transaction(factory) as session:
        user = _user()
        session.add(user)
    for bad in ({"progress": 1.5}, {"start_at": start, "end_at": start - timedelta(days=1)}):
        with pytest.raises(IntegrityError), transaction(factory) as session:
            session.add(
                Backtest(user_id=user.id, strategy="sma_cross", initial_cash=Decimal(1000), **bad)
            )


money = st.decimals(
    min_value=Decimal("-999999999999999999"),
    max_value=Decimal("999999999999999999"),
    places=10,
    allow_nan=False,
    allow_infinity=False,
)


@settings(
    max_examples=deep(25),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(amount=money)
def test_money_round_trips_exactly(engine: Engine, amount: Decimal) -> None:
    factory = session_factory(engine)
    with transaction(factory) as session:
        session.execute(delete(Backtest))
        session.execute(delete(User))
        user = _user()
        session.add(user)
        session.flush()
        session.add(
            Backtest(user_id=user.id, strategy="s", initial_cash=Decimal(1), final_equity=amount)
        )
    with Session(engine) as session:
        stored = session.scalars(select(Backtest.final_equity)).one()
    assert stored == amount
