"""The live path: stage statuses, latest feature values, and a WebSocket of live
trades, bars and features."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool

from cift.core.errors import CiftError
from cift.identity.scopes import Scope

from ..deps import AppState, State
from ..schemas.stream import LatestFeatures, StreamStatus
from ..security import READ, websocket_principal
from ..services import stream
from ..services.stream_hub import TOPICS, Listener
from . import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/stream", tags=["streaming"])
AUTH_SECONDS = 10.0
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013


@router.get("/status", summary="Each live stage's rate and lag", dependencies=[READ])
def status(state: State) -> StreamStatus:
    """The last report of every stage (ingest, stores, bars, features) on this bus."""
    return stream.stream_status(state.board, state.settings.bus)


@router.get("/features/{set_id}/latest", summary="Latest feature values", dependencies=[READ])
def latest(
    state: State,
    set_id: Annotated[str, Path(max_length=100, pattern=r"^[A-Za-z0-9_-]+$")],
    symbols: Annotated[str | None, Query(max_length=10_000, description="Comma-separated.")] = None,
) -> LatestFeatures:
    """The newest values of a feature set per symbol, live when a features stage keeps
    them on this bus, else the newest stored."""
    chosen = [s.strip() for s in symbols.split(",") if s.strip()] if symbols else None
    return stream.latest_features(state.board, state.store, set_id, chosen)


async def _refuse(socket: WebSocket, code: int, message: str) -> None:
    await socket.send_json({"type": "error", "message": message})
    await socket.close(code, message[:120])


async def _authenticate(socket: WebSocket, state: AppState) -> bool:
    """Credentials from the upgrade's headers or a first ``auth`` message."""
    bearer = socket.headers.get("authorization", "").removeprefix("Bearer ").strip() or None
    api_key = socket.headers.get("x-api-key")
    if bearer is None and api_key is None:
        try:
            first = json.loads(await asyncio.wait_for(socket.receive_text(), AUTH_SECONDS))
        except (TimeoutError, ValueError):
            first = {}
        bearer = (
            first.get("token")
            if isinstance(first, dict) and first.get("action") == "auth"
            else None
        )
    try:
        await run_in_threadpool(websocket_principal, state, bearer, api_key, Scope.READ)
    except CiftError as exc:
        await _refuse(socket, POLICY_VIOLATION, str(exc))
        return False
    return True


def _subscription(message: Any, listener: Listener) -> dict[str, Any]:
    """Apply a ``subscribe`` message; the current subscription."""
    if not isinstance(message, dict) or message.get("action") != "subscribe":
        raise ValueError('Send {"action": "subscribe", "symbols": [...], "kinds": [...]}.')
    symbols, kinds = message.get("symbols"), message.get("kinds", list(TOPICS))
    if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
        raise ValueError("'symbols' must be a list of symbols, e.g. [\"AAPL\"].")
    if not isinstance(kinds, list) or not set(kinds) <= set(TOPICS):
        raise ValueError(f"'kinds' must be a list drawn from {list(TOPICS)}.")
    listener.symbols, listener.kinds = frozenset(symbols), frozenset(kinds)
    return {"type": "subscribed", "symbols": sorted(symbols), "kinds": sorted(kinds)}


@router.websocket("/ws")
async def live(socket: WebSocket) -> None:
    """Live trades, bars and features of the symbols a client subscribes to.

    Authenticate with the upgrade's ``Authorization: Bearer`` or ``X-API-Key`` header,
    or send ``{"action": "auth", "token": "..."}`` first; then
    ``{"action": "subscribe", "symbols": ["AAA"], "kinds": ["trades", "bars",
    "features"]}``. Messages are ``{"kind": ..., "dropped": n, "rows": [...]}``.
    """
    state: AppState = socket.app.state.cift
    await socket.accept()
    if not await _authenticate(socket, state):
        return
    if state.settings.bus == "memory":
        await _refuse(
            socket,
            TRY_AGAIN_LATER,
            "The stream WebSocket reads a shared bus: set CIFT_BUS=redis or kafka for the "
            "stages and the API.",
        )
        return
    await socket.send_json({"type": "authenticated"})
    listener = Listener(asyncio.get_running_loop())
    state.hub.join(listener)
    sender = asyncio.create_task(_send(socket, listener))
    try:
        while True:
            try:
                await socket.send_json(_subscription(await socket.receive_json(), listener))
            except ValueError as exc:
                await socket.send_json({"type": "error", "message": str(exc)})
    except WebSocketDisconnect:
        pass
    finally:
        state.hub.leave(listener)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


async def _send(socket: WebSocket, listener: Listener) -> None:
    while True:
        await socket.send_text(await listener.queue.get())
