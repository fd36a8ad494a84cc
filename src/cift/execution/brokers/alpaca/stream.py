"""Alpaca's ``trade_updates`` stream, read in a background thread.

The handshake is ``authenticate`` -> ``authorization: authorized`` -> ``listen`` ->
``listening``; then each order event comes as one JSON object (the paper endpoint sends
them in binary frames). A dropped connection is opened again with back-off; events sent
while it was down are lost to the stream, so each new connection is counted
(``connections``) and the OMS reconciles with the broker's REST view after it. Refused
keys end the stream with a configuration error instead of retrying.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import threading
from typing import Any

from loguru import logger
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from cift.core.errors import CiftError, ConfigurationError
from cift.execution.brokers.alpaca.parse import WireError, trade_update
from cift.execution.brokers.base import BrokerEvent


class TradeUpdates:
    """Order events from Alpaca as they happen."""

    def __init__(
        self,
        url: str,
        key_id: str,
        secret: str,
        *,
        timeout: float = 10.0,
        backoff: float = 0.2,
        max_backoff: float = 10.0,
    ) -> None:
        self.url = url
        self._auth = {"key_id": key_id, "secret_key": secret}
        self.timeout = timeout
        self.backoff, self.max_backoff = backoff, max_backoff
        self.connections = 0
        """Connections that reached ``listening``: each one after the first may have
        missed events."""
        self.error: CiftError | None = None
        self._queue: queue.SimpleQueue[BrokerEvent] = queue.SimpleQueue()
        self._listening = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alpaca-trade-updates", daemon=True)
        self._running: tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]] | None = None
        """The thread's event loop and its task, for ``close`` to cut a wait short."""

    def start(self) -> None:
        """Connect and wait until the stream listens (or refuses the keys)."""
        self._thread.start()
        if not self._listening.wait(self.timeout):
            raise ConfigurationError(
                f"Alpaca's trade_updates stream at {self.url} did not answer within "
                f"{self.timeout:.0f} s; check the account's endpoint."
            )
        if self.error is not None:
            raise self.error

    def drain(self) -> list[BrokerEvent]:
        """Events since the last call, oldest first."""
        if self.error is not None:
            raise self.error
        drained = []
        while not self._queue.empty():
            drained.append(self._queue.get_nowait())
        return drained

    def close(self) -> None:
        """Stop now: a wait for the next event or a reconnection is cancelled, not sat out."""
        self._stopped.set()
        if self._running is not None:
            loop, task = self._running
            with contextlib.suppress(RuntimeError):  # (the loop has ended already)
                loop.call_soon_threadsafe(task.cancel)
        self._thread.join(self.timeout)

    def _run(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(self._loop())

    async def _loop(self) -> None:
        task = asyncio.current_task()  # (asyncio.run runs this coroutine as one)
        if task is not None:
            self._running = (asyncio.get_running_loop(), task)
        delay = self.backoff
        while not self._stopped.is_set():
            try:
                async with connect(self.url, open_timeout=self.timeout) as socket:
                    await self._handshake(socket)
                    delay = self.backoff
                    await self._listen(socket)
            except ConfigurationError as exc:
                self.error = exc
                self._listening.set()
                return
            except (OSError, TimeoutError, WebSocketException) as exc:
                if self._stopped.is_set():
                    return
                logger.warning("Alpaca trade_updates dropped ({}); again in {:.1f} s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)

    async def _handshake(self, socket: ClientConnection) -> None:
        await socket.send(json.dumps({"action": "authenticate", "data": self._auth}))
        answer = await self._next(socket)
        status = answer.get("data", {}).get("status")
        if answer.get("stream") != "authorization" or status != "authorized":
            raise ConfigurationError(
                f"Alpaca's trade_updates stream refused the account's keys ({status}); check "
                "the key pair in the account's credentials_ref variable."
            )
        await socket.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
        while (await self._next(socket)).get("stream") != "listening":
            pass
        self.connections += 1
        self._listening.set()

    async def _listen(self, socket: ClientConnection) -> None:
        while not self._stopped.is_set():
            try:
                message = await asyncio.wait_for(self._next(socket), 0.5)
            except TimeoutError:
                continue
            if message.get("stream") != "trade_updates":
                continue
            try:
                event = trade_update(message.get("data"))
            except (WireError, KeyError) as exc:
                logger.warning("Alpaca sent a trade update CIFT cannot read: {}", exc)
                continue
            if event is not None:
                self._queue.put(event)

    async def _next(self, socket: ClientConnection) -> dict[str, Any]:
        raw = await asyncio.wait_for(socket.recv(), self.timeout * 6)
        try:
            body = json.loads(raw)
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
