"""Concurrent refreshes of one token: one winner, and the race itself counts as reuse."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cift.core.errors import AuthenticationError
from cift.core.settings import Settings
from cift.db.models import AuditEntry, AuthSession
from cift.identity import tokens
from cift.identity.tokens import TokenPair
from tests.security.conftest import ROBOT, make_user

RACERS = 24


def race(db: sessionmaker[Session], settings: Settings, token: str) -> list[TokenPair | str]:
    """Refresh ``token`` from RACERS threads released at once."""
    start = threading.Barrier(RACERS)

    def attempt(_: int) -> TokenPair | str:
        start.wait()
        try:
            return tokens.refresh(db, settings, ROBOT, token)
        except AuthenticationError as exc:
            return str(exc)

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(attempt, range(RACERS)))


def test_concurrent_refreshes_have_one_winner_and_revoke_the_family(
    any_db: sessionmaker[Session], any_db_settings: Settings
) -> None:
    user = make_user(any_db, any_db_settings, "racer")
    first = tokens.start_session(any_db, any_db_settings, ROBOT, user, None)

    outcomes = race(any_db, any_db_settings, first.refresh_token)

    winners = [o for o in outcomes if isinstance(o, TokenPair)]
    assert len(winners) == 1
    assert {o for o in outcomes if isinstance(o, str)} == {tokens.INVALID_REFRESH}
    (winner,) = winners
    # The losers presented a replaced token: the family ends, the winner's pair with it.
    with any_db() as session:
        assert not tokens.family_alive(session, user.id, first.family_id)
        rows = session.scalars(select(AuthSession)).all()
        reuses = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "auth.refresh_reuse")
        ).all()
    assert len(rows) == 2  # the first token and the winner's, nothing from the losers
    assert all(row.revoked_at is not None for row in rows)
    assert len(reuses) == RACERS - 1
    try:
        tokens.refresh(any_db, any_db_settings, ROBOT, winner.refresh_token)
    except AuthenticationError:
        pass
    else:
        raise AssertionError("the winner's refresh token outlived its family")
