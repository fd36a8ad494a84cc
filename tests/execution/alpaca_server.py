"""A local server that speaks Alpaca's trading API v2 and its ``trade_updates`` stream.

It keeps real order state, as ``../shared/reference/provider-apis.md`` §5, §6 and §9
describe Alpaca's: orders under unique client order ids (a second POST with one is 422
``40010001``), the Order object with decimals as strings, ``PATCH`` replaces (the old
order ``replaced``, the new one answered), ``DELETE`` 204 or 422 when not cancelable,
positions, the account's cash; the stream's authenticate/listen handshake and one JSON
event per binary frame. Orders fill against a price path the test moves (``price``):
market orders at the price, limits when the price reaches them, at most ``fill_step``
shares per move (partial fills).

Faults on command (``faults``): answer the next requests 500 or 429, accept an order
and lose the answer, drop, duplicate or hold back stream events, drop the stream.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import uvicorn
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response

from cift.core.calendars import exchange_calendar, quiet_calendars

XNYS = exchange_calendar("XNYS", date(2020, 1, 1), date(2030, 12, 31))
NEW_YORK = "America/New_York"
KEY_ID = "PKTESTTRADE0000000"
SECRET = "tradesecrettradesecrettradesecret0000"
TERMINAL = {"filled", "canceled", "expired", "replaced", "rejected"}


@dataclass
class Faults:
    """What goes wrong next; each count is used up as it strikes."""

    http_500: int = 0
    http_429: int = 0
    lose_answer: int = 0
    """Orders taken, then the connection cut before the answer."""
    drop_events: int = 0
    duplicate_events: int = 0
    hold_events: int = 0
    """Events kept back and sent after the next one (out of order)."""
    retry_after: str = "0"
    injected: dict[str, int] = field(default_factory=dict)

    def take(self, name: str) -> bool:
        left = getattr(self, name)
        if left <= 0:
            return False
        setattr(self, name, left - 1)
        self.injected[name] = self.injected.get(name, 0) + 1
        return True


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def text(value: Decimal) -> str:
    return format(value.normalize(), "f")


class AlpacaServer:
    """Alpaca's trading API and stream on 127.0.0.1 (``url``)."""

    def __init__(self, cash: Decimal = Decimal(100_000), fill_step: Decimal | None = None) -> None:
        self.cash = cash
        self.fill_step = fill_step
        self.orders: dict[str, dict[str, Any]] = {}
        self.by_client: dict[str, str] = {}
        self.positions: dict[str, Decimal] = {}
        self.prices: dict[str, Decimal] = {}
        self.executions: list[dict[str, Any]] = []
        """Every fill: order id, client id, quantity, price."""
        self.posted: list[str] = []
        """Client order ids of every POST that created an order."""
        self.faults = Faults()
        self._sockets: list[WebSocket] = []
        self._held: deque[dict[str, Any]] = deque()
        self._lock = threading.RLock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.port = 0
        self.app = self._routes()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # The price path

    def price(self, symbol: str, value: float | Decimal) -> None:
        """Move ``symbol`` to ``value``: working orders that can fill do."""
        with self._lock:
            self.prices[symbol] = Decimal(str(value))
            for order in list(self.orders.values()):
                if order["symbol"] == symbol and order["status"] not in TERMINAL:
                    self._try_fill(order)

    def _try_fill(self, order: dict[str, Any]) -> None:
        price = self.prices.get(order["symbol"])
        if price is None:
            return
        limit = Decimal(order["limit_price"]) if order["limit_price"] else None
        buy = order["side"] == "buy"
        if limit is not None and (price > limit if buy else price < limit):
            return
        left = Decimal(order["qty"]) - Decimal(order["filled_qty"])
        qty = min(left, self.fill_step) if self.fill_step else left
        done = Decimal(order["filled_qty"]) + qty
        average = Decimal(order["filled_avg_price"] or 0)
        average = (average * Decimal(order["filled_qty"]) + price * qty) / done
        order.update(filled_qty=text(done), filled_avg_price=text(average), updated_at=now())
        order["status"] = "filled" if done == Decimal(order["qty"]) else "partially_filled"
        if order["status"] == "filled":
            order["filled_at"] = order["updated_at"]
        signed = qty if buy else -qty
        self.positions[order["symbol"]] = self.positions.get(order["symbol"], Decimal(0)) + signed
        self.cash -= signed * price
        execution = {"order": order["id"], "client": order["client_order_id"], "qty": qty}
        self.executions.append(execution | {"price": price})
        event = "fill" if order["status"] == "filled" else "partial_fill"
        position = self.positions[order["symbol"]]
        self._publish(event, order, price=text(price), qty=text(qty), position_qty=text(position))

    # The stream

    def _publish(self, event: str, order: dict[str, Any], **extra: str) -> None:
        message = {
            "stream": "trade_updates",
            "data": {
                "event": event,
                "execution_id": str(uuid.uuid4()),
                "timestamp": now(),
                "order": dict(order),
                **extra,
            },
        }
        if self.faults.take("drop_events"):
            return
        if self.faults.take("hold_events"):
            self._held.append(message)
            return
        copies = 2 if self.faults.take("duplicate_events") else 1
        out = [message] * copies + list(self._held)
        self._held.clear()
        for item in out:
            self._broadcast(item)

    def _broadcast(self, message: dict[str, Any]) -> None:
        if self._loop is None:
            return
        frame = json.dumps(message).encode()  # JSON in binary frames, as the paper endpoint
        for socket in list(self._sockets):
            asyncio.run_coroutine_threadsafe(socket.send_bytes(frame), self._loop)

    def drop_streams(self) -> None:
        """Cut every trade_updates connection (counted as an injected fault)."""
        self.faults.injected["drop_stream"] = self.faults.injected.get("drop_stream", 0) + 1
        for socket in list(self._sockets):
            if self._loop is not None:
                asyncio.run_coroutine_threadsafe(socket.close(code=1011), self._loop)

    # Orders

    def place(self, body: dict[str, Any]) -> dict[str, Any]:
        """An order placed at the broker by someone else (its own app, another tool)."""
        with self._lock:
            order = self._new_order(body)
            self.posted.remove(order["client_order_id"])
            return order

    def _new_order(self, body: dict[str, Any], replaces: str | None = None) -> dict[str, Any]:
        stamp = now()
        order = {
            "id": str(uuid.uuid4()),
            "client_order_id": body.get("client_order_id") or str(uuid.uuid4()),
            "created_at": stamp, "updated_at": stamp, "submitted_at": stamp,
            "filled_at": None, "expired_at": None, "canceled_at": None, "failed_at": None,
            "replaced_at": None, "replaced_by": None, "replaces": replaces,
            "asset_id": "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415", "symbol": body["symbol"],
            "asset_class": "us_equity", "notional": None, "qty": text(Decimal(str(body["qty"]))),
            "filled_qty": "0", "filled_avg_price": None, "order_class": "simple",
            "order_type": body["type"], "type": body["type"], "side": body["side"],
            "time_in_force": body["time_in_force"],
            "limit_price": _price(body.get("limit_price")),
            "stop_price": _price(body.get("stop_price")),
            "status": "accepted", "extended_hours": False, "legs": None,
            "trail_percent": None, "trail_price": None, "hwm": None,
        }  # fmt: skip
        self.orders[order["id"]] = order
        self.by_client[order["client_order_id"]] = order["id"]
        self.posted.append(order["client_order_id"])
        order["status"] = "new"
        self._publish("new", order)
        return order

    def _routes(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def gate(request: Request, call_next: Any) -> Response:
            headers = request.headers
            if (headers.get("APCA-API-KEY-ID"), headers.get("APCA-API-SECRET-KEY")) != (
                KEY_ID,
                SECRET,
            ):
                return _error(401, 40110000, "request is not authorized")
            if self.faults.take("http_500"):
                return _error(500, 50010000, "internal server error")
            if self.faults.take("http_429"):
                answer = _error(429, 42910000, "rate limit exceeded")
                answer.headers["Retry-After"] = self.faults.retry_after
                return answer
            response: Response = await call_next(request)
            return response

        @app.post("/v2/orders")
        async def submit(request: Request) -> Response:
            body = await request.json()
            with self._lock:
                if body.get("client_order_id") in self.by_client:
                    return _error(422, 40010001, "client_order_id must be unique")
                if Decimal(str(body["qty"])) <= 0:
                    return _error(422, 40010000, "qty must be > 0")
                order = self._new_order(body)
                self._try_fill(order)
                if self.faults.take("lose_answer"):
                    return _error(502, 50210000, "bad gateway")
                return JSONResponse(order)

        @app.get("/v2/orders:by_client_order_id")
        async def by_client(client_order_id: str) -> Response:
            with self._lock:
                found = self.by_client.get(client_order_id)
                if found is None:
                    return _error(404, 40410000, "order not found")
                return JSONResponse(self.orders[found])

        @app.get("/v2/orders")
        async def listing(status: str = "open", limit: int = 50) -> Response:
            with self._lock:
                rows = [
                    o for o in self.orders.values()
                    if status == "all" or (o["status"] not in TERMINAL) == (status == "open")
                ]  # fmt: skip
                return JSONResponse(rows[-limit:])

        @app.delete("/v2/orders/{order_id}")
        async def cancel(order_id: str) -> Response:
            with self._lock:
                order = self.orders.get(order_id)
                if order is None:
                    return _error(404, 40410000, "order not found")
                if order["status"] in TERMINAL:
                    return _error(422, 42210000, "order is not cancelable")
                order.update(status="canceled", canceled_at=now(), updated_at=now())
                self._publish("canceled", order)
                return Response(status_code=204)

        @app.patch("/v2/orders/{order_id}")
        async def replace(order_id: str, request: Request) -> Response:
            body = await request.json()
            with self._lock:
                old = self.orders.get(order_id)
                if old is None:
                    return _error(404, 40410000, "order not found")
                if body.get("client_order_id") in self.by_client:
                    return _error(422, 40010001, "client_order_id must be unique")
                if old["status"] in TERMINAL:
                    return _error(422, 42210000, "order is not replaceable")
                new = self._new_order(
                    {k: old[k] for k in ("symbol", "side", "type", "time_in_force")}
                    | {"qty": old["qty"], "limit_price": old["limit_price"]}
                    | {k: v for k, v in body.items() if v is not None},
                    replaces=old["id"],
                )
                old.update(status="replaced", replaced_by=new["id"], replaced_at=now())
                self._publish("replaced", old)
                self._try_fill(new)
                return JSONResponse(new)

        @app.get("/v2/positions")
        async def positions() -> Response:
            with self._lock:
                rows = [
                    {"symbol": s, "qty": text(q), "side": "long" if q > 0 else "short"}
                    for s, q in self.positions.items() if q
                ]  # fmt: skip
                return JSONResponse(rows)

        @app.get("/v2/account")
        async def account() -> Response:
            return JSONResponse(
                {"id": str(uuid.uuid4()), "account_number": "PA3T2XHXC1ZZ", "status": "ACTIVE",
                 "currency": "USD", "cash": text(self.cash)}
            )  # fmt: skip

        @app.get("/v2/clock")
        async def clock() -> Response:
            now = pd.Timestamp.now(tz="UTC").floor("min")
            with quiet_calendars():
                answer = {
                    "timestamp": _new_york(now),
                    "is_open": bool(XNYS.is_open_on_minute(now)),
                    "next_open": _new_york(XNYS.next_open(now)),
                    "next_close": _new_york(XNYS.next_close(now)),
                }
            return JSONResponse(answer)

        @app.get("/v2/calendar")
        async def calendar(start: str, end: str) -> Response:
            with quiet_calendars():
                rows = [
                    {"date": day.date().isoformat(),
                     "open": XNYS.session_open(day).tz_convert(NEW_YORK).strftime("%H:%M"),
                     "close": XNYS.session_close(day).tz_convert(NEW_YORK).strftime("%H:%M"),
                     "session_open": "0400", "session_close": "2000"}
                    for day in XNYS.sessions_in_range(start, end)
                ]  # fmt: skip
            return JSONResponse(rows)

        @app.websocket("/stream")
        async def stream(socket: WebSocket) -> None:
            await socket.accept()
            try:
                hello = json.loads(await socket.receive_text())
                auth = hello.get("data", {})
                ok = (auth.get("key_id"), auth.get("secret_key")) == (KEY_ID, SECRET)
                status = "authorized" if ok else "unauthorized"
                await socket.send_bytes(
                    json.dumps(
                        {"stream": "authorization",
                         "data": {"action": "authenticate", "status": status}}
                    ).encode()
                )  # fmt: skip
                if not ok:
                    await socket.close()
                    return
                listen = json.loads(await socket.receive_text())
                streams = listen.get("data", {}).get("streams", [])
                await socket.send_bytes(
                    json.dumps({"stream": "listening", "data": {"streams": streams}}).encode()
                )
                self._sockets.append(socket)
                while True:
                    await socket.receive_text()
            except WebSocketDisconnect:
                pass
            finally:
                if socket in self._sockets:
                    self._sockets.remove(socket)

        return app

    # Running

    def __enter__(self) -> AlpacaServer:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=0, log_level="warning")
        self._server = uvicorn.Server(config)

        def run() -> None:
            assert self._server is not None
            asyncio.run(self._serve())

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.port and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    async def _serve(self) -> None:
        assert self._server is not None
        self._loop = asyncio.get_running_loop()
        task = asyncio.create_task(self._server.serve())
        while not self._server.started:  # noqa: ASYNC110 (uvicorn sets a flag, no event)
            await asyncio.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        await task

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)


def _new_york(moment: pd.Timestamp) -> str:
    """RFC 3339 with the New York offset, as Alpaca's clock answers."""
    return str(moment.tz_convert(NEW_YORK).isoformat())


def _price(value: Any) -> str | None:
    return None if value is None else text(Decimal(str(value)))


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)
