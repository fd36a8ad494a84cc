"""A stand-in for the SQL endpoint: records every statement and answers queries with
rows shaped as psycopg returns them from QuestDB (text, float, int, None)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from cift.data.store.questdb.sql import Query

Row = tuple[Any, ...]
Answer = list[Row] | Callable[[Query], list[Row]]


class FakeSql:
    """Answers by the last registered pattern matching the SQL text."""

    def __init__(self, tables: Iterable[str] = ()) -> None:
        self.tables = set(tables)
        self.queries: list[Query] = []
        self.statements: list[str] = []
        self.answers: list[tuple[re.Pattern[str], Answer]] = []
        self.closed = False

    def on(self, pattern: str, answer: Answer) -> None:
        self.answers.append((re.compile(pattern, re.S), answer))

    def rows(self, query: Query) -> list[Row]:
        self.queries.append(query)
        for pattern, answer in reversed(self.answers):
            if pattern.search(query.text):
                return answer(query) if callable(answer) else answer
        if "FROM tables()" in query.text:
            return [(name,) for name in sorted(self.tables)]
        if "wal_tables()" in query.text:
            return [(7, 7, False)]
        if query.text.startswith("SELECT count()"):
            return [(0,)]
        return []

    def execute(self, statement: str) -> None:
        self.statements.append(statement)
        created = re.match(r'CREATE TABLE (?:IF NOT EXISTS )?"(\w+)"', statement)
        if created:
            self.tables.add(created.group(1))
        dropped = re.match(r'DROP TABLE "(\w+)"', statement)
        if dropped:
            self.tables.discard(dropped.group(1))

    def describe(self) -> str:
        return "fake:8812"

    def close(self) -> None:
        self.closed = True

    def texts(self, needle: str) -> list[Query]:
        """Queries whose text contains ``needle``."""
        return [q for q in self.queries if needle in q.text]
