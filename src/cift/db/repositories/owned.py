"""Rows a user owns (accounts, model configurations, alerts): one owner check for all.

Every read and change names the owner; another user's row is reported exactly like a
missing one, so ids cannot be probed. Unique-constraint clashes become ConflictError.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cift.core.errors import ConflictError, NotFoundError
from cift.db.base import OwnedByUser
from cift.db.engine import transaction

Row = TypeVar("Row", bound=OwnedByUser)


class OwnedRecords(Generic[Row]):
    """One owned table, one short transaction per call.

    ``noun`` names the row in messages ("trading account"); ``listing`` says how the
    user finds their ids ("GET /api/v1/accounts"); ``clash`` what to do when a write
    breaks a unique constraint.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        model: type[Row],
        noun: str,
        listing: str,
        clash: str = "choose another name",
    ) -> None:
        self.sessions = sessions
        self.model = model
        self.noun = noun
        self.listing = listing
        self.clash = clash

    def missing(self, row_id: object) -> NotFoundError:
        return NotFoundError(f"No {self.noun} {row_id}; list yours with {self.listing}.")

    def fetch(self, session: Session, row_id: uuid.UUID, owner: uuid.UUID) -> Row:
        """The owner's row in an open session (for changes that read other rows too)."""
        row = session.get(self.model, row_id)
        if row is None or row.user_id != owner:
            raise self.missing(row_id)
        return row

    def get(self, row_id: uuid.UUID, owner: uuid.UUID) -> Row:
        with self.sessions() as session:
            return self.fetch(session, row_id, owner)

    def list(self, owner: uuid.UUID, *where: ColumnElement[bool]) -> list[Row]:
        """The owner's rows matching ``where``, newest first (ids are time-ordered)."""
        query = select(self.model).where(self.model.user_id == owner, *where)
        with self.sessions() as session:
            return list(session.scalars(query.order_by(self.model.id.desc())))

    def add(self, build: Callable[[Session], Row]) -> Row:
        """Insert the row ``build`` makes (it may read the session, e.g. for a version)."""
        with self._writing() as session:
            row = build(session)
            session.add(row)
            session.flush()
            return row

    def change(self, row_id: uuid.UUID, owner: uuid.UUID, **values: Any) -> Row:
        """Set ``values`` on the owner's row; None values are left as they are."""
        with self._writing() as session:
            row = self.fetch(session, row_id, owner)
            for name, value in values.items():
                if value is not None:
                    setattr(row, name, value)
            session.flush()
            return row

    def remove(self, row_id: uuid.UUID, owner: uuid.UUID) -> Row:
        with self._writing() as session:
            row = self.fetch(session, row_id, owner)
            session.delete(row)
            return row

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        try:
            with transaction(self.sessions) as session:
                yield session
        except IntegrityError as exc:
            raise ConflictError(
                f"This {self.noun} clashes with one you already have; {self.clash}."
            ) from exc
