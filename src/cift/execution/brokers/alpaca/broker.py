"""The Alpaca broker: orders over REST, their news over the ``trade_updates`` stream.

Every order goes out under its client order id, so asking again is always safe: a
transient failure (5xx, a dropped connection, 429 after its wait) is retried with the
same id, and Alpaca's "client_order_id must be unique" (422) means the order is there
already: it is fetched, never sent twice. When retries run out the order's fate is
unknown (:class:`~cift.core.errors.BrokerError`) and the OMS asks ``find`` before doing
anything else with it. Refused keys (401, 403 without a code) stop trading with a
configuration error instead of being retried. Keys travel in headers and are scrubbed
from every message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from cift.core.errors import BrokerError, ConfigurationError, ProviderError
from cift.data.providers.http import Fetched, HttpClient
from cift.db.base import utcnow
from cift.db.models.ledger import OrderState
from cift.execution.brokers.alpaca.parse import (
    WireError,
    decimal,
    order_body,
    order_status,
    parse_time,
    replace_body,
)
from cift.execution.brokers.alpaca.stream import TradeUpdates
from cift.execution.brokers.base import (
    BrokerEvent,
    BrokerEventKind,
    BrokerOrder,
    BrokerOrderStatus,
)

NEW_YORK = ZoneInfo("America/New_York")
DUPLICATE_CLIENT_ID = 40010001
"""Alpaca's code for a client order id it holds already."""
ANSWERED = (200, 204, 207, 401, 403, 404, 422)
"""Statuses the broker reads itself (the client retries the transient rest)."""


class AlpacaBroker:
    """Alpaca's paper or live trading API for one account."""

    name = "alpaca"

    def __init__(self, client: HttpClient, stream: TradeUpdates | None = None) -> None:
        self.client = client
        self.stream = stream
        self._ids: dict[str, str] = {}
        """Client order id -> Alpaca's order id, for the calls that take the latter."""
        self._events: list[BrokerEvent] = []
        self._connections = 1

    # The broker protocol

    def submit(self, order: BrokerOrder) -> BrokerEvent:
        answer = self._call("POST", "/v2/orders", body=order_body(order))
        return self._answer(order.client_order_id, answer)

    def replace(self, client_order_id: str, order: BrokerOrder) -> BrokerEvent:
        old = self._order_id(client_order_id)
        if old is None:
            return self._refused_replace(client_order_id, order, "unknown order")
        answer = self._call("PATCH", f"/v2/orders/{old}", body=replace_body(order))
        if answer.status == 422 and _code(answer) != DUPLICATE_CLIENT_ID:
            return self._refused_replace(client_order_id, order, _message(answer))
        return self._answer(order.client_order_id, answer)

    def cancel(self, client_order_id: str) -> None:
        broker_id = self._order_id(client_order_id)
        if broker_id is None:
            self._tell(BrokerEventKind.CANCEL_REJECTED, client_order_id, "unknown order")
            return
        answer = self._call("DELETE", f"/v2/orders/{broker_id}")
        if answer.status in (404, 422):
            self._tell(BrokerEventKind.CANCEL_REJECTED, client_order_id, _message(answer))

    def find(self, client_order_id: str) -> BrokerOrderStatus | None:
        answer = self._call(
            "GET", "/v2/orders:by_client_order_id", params={"client_order_id": client_order_id}
        )
        if answer.status == 404:
            return None
        status: BrokerOrderStatus = self._read(answer, order_status)
        self._ids[client_order_id] = status.broker_order_id
        return status

    def events(self) -> list[BrokerEvent]:
        """What this broker concluded itself (refused cancels and replaces), then the
        stream's news."""
        news = self.stream.drain() if self.stream is not None else []
        for event in news:
            if event.broker_order_id is not None:
                self._ids[event.client_order_id] = event.broker_order_id
        told, self._events = self._events, []
        return told + news

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
        self.client.close()

    # The account

    def reconnected(self) -> bool:
        """Whether trade_updates connected again since the last call."""
        if self.stream is None or self.stream.connections == self._connections:
            return False
        self._connections = self.stream.connections
        return True

    def positions(self) -> dict[str, Decimal]:
        """What Alpaca holds per symbol (negative: short)."""
        answer = self._call("GET", "/v2/positions")
        rows = self._read(answer, _rows)
        return {str(row["symbol"]): decimal(row["qty"]) for row in rows}

    def open_orders(self) -> list[BrokerOrderStatus]:
        """Every order still working at Alpaca (up to its page limit of 500)."""
        answer = self._call("GET", "/v2/orders", params={"status": "open", "limit": 500})
        return [order_status(row) for row in self._read(answer, _rows)]

    def cash(self) -> Decimal:
        answer = self._call("GET", "/v2/account")
        return decimal(self._read(answer, _object)["cash"])

    def clock(self) -> MarketClock:
        """Alpaca's market clock: now, whether the market is open, the next open and close."""
        body = self._read(self._call("GET", "/v2/clock"), _object)
        return MarketClock(
            at=parse_time(body["timestamp"]),
            is_open=bool(body["is_open"]),
            next_open=parse_time(body["next_open"]),
            next_close=parse_time(body["next_close"]),
        )

    def calendar(self, start: date, end: date) -> list[TradingDay]:
        """Alpaca's trading days from ``start`` to ``end``, with their open and close in UTC
        (early closes included)."""
        params = {"start": start.isoformat(), "end": end.isoformat()}
        rows = self._read(self._call("GET", "/v2/calendar", params=params), _rows)
        return [_trading_day(row) for row in rows]

    # Calls and answers

    def _call(self, method: str, target: str, *, params: Any = None, body: Any = None) -> Fetched:
        try:
            answer = self.client.send(method, target, params=params, body=body, accept=ANSWERED)
        except ProviderError as exc:  # retries ran out, or the connection failed
            raise BrokerError(str(exc.message), details=exc.details) from None
        if answer.status == 401 or (answer.status == 403 and _code(answer) is None):
            raise ConfigurationError(
                f"Alpaca refused the account's keys (HTTP {answer.status}: {_message(answer)}). "
                "Check the key pair in the account's credentials_ref variable, and that paper "
                "keys go to the paper endpoint."
            )
        return answer

    def _answer(self, client_order_id: str, answer: Fetched) -> BrokerEvent:
        """The broker's answer to a submission (or a replacement) of ``client_order_id``."""
        if answer.status == 422 and _code(answer) == DUPLICATE_CLIENT_ID:
            held = self.find(client_order_id)  # sent before: its answer was lost
            if held is None:
                raise BrokerError(f"Alpaca holds {client_order_id} and cannot find it.")
            return BrokerEvent(
                BrokerEventKind.ACCEPTED, client_order_id, utcnow(), held.broker_order_id
            )
        if answer.status in (403, 422):  # buying power, validation, business rules
            return BrokerEvent(
                BrokerEventKind.REJECTED, client_order_id, utcnow(), reason=_message(answer)
            )
        if answer.status != 200:
            raise BrokerError(f"Alpaca answered HTTP {answer.status} to order {client_order_id}.")
        status, at = self._read(answer, _sent)
        self._ids[client_order_id] = status.broker_order_id
        refused = status.state is OrderState.REJECTED
        kind = BrokerEventKind.REJECTED if refused else BrokerEventKind.ACCEPTED
        return BrokerEvent(kind, client_order_id, at, status.broker_order_id)

    def _refused_replace(self, old: str, order: BrokerOrder, why: str) -> BrokerEvent:
        self._tell(BrokerEventKind.REPLACE_REJECTED, old, why)
        return BrokerEvent(
            BrokerEventKind.REJECTED, order.client_order_id, utcnow(), reason=f"not replaced: {why}"
        )

    def _tell(self, kind: BrokerEventKind, client_order_id: str, reason: str) -> None:
        self._events.append(BrokerEvent(kind, client_order_id, utcnow(), reason=reason))

    def _order_id(self, client_order_id: str) -> str | None:
        known = self._ids.get(client_order_id)
        if known is None:
            held = self.find(client_order_id)
            known = None if held is None else held.broker_order_id
        return known

    def _read(self, answer: Fetched, parse: Any) -> Any:
        try:
            return parse(answer.json())
        except (WireError, ValueError, KeyError) as exc:
            raise BrokerError(
                f"Alpaca sent a body CIFT cannot read from {answer.url}: {exc}"
            ) from None


@dataclass(frozen=True)
class MarketClock:
    at: datetime
    is_open: bool
    next_open: datetime
    next_close: datetime


@dataclass(frozen=True)
class TradingDay:
    day: date
    open: datetime
    close: datetime


def _trading_day(row: dict[str, Any]) -> TradingDay:
    """A calendar row (New York local ``HH:MM`` times) with its times in UTC."""
    day = date.fromisoformat(str(row["date"]))

    def at(text: str) -> datetime:
        local = datetime.combine(day, time.fromisoformat(text), tzinfo=NEW_YORK)
        return local.astimezone(UTC)

    return TradingDay(day, at(str(row["open"])), at(str(row["close"])))


def _sent(payload: Any) -> tuple[BrokerOrderStatus, datetime]:
    """An Order answered to a submission: its status and when Alpaca took it."""
    order = _object(payload)
    return order_status(order), parse_time(order.get("submitted_at") or order["created_at"])


def _rows(payload: Any) -> list[dict[str, Any]]:
    if not isinstance(payload, list):
        raise WireError("expected a JSON array")
    return payload


def _object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise WireError("expected a JSON object")
    return payload


def _code(answer: Fetched) -> int | None:
    try:
        body = answer.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None


def _message(answer: Fetched) -> str:
    try:
        body = answer.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])[:300]
    return f"HTTP {answer.status}"
