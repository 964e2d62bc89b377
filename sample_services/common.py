"""What every sample service shares: health, error bodies, provider states, events."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, WebSocket
from pydantic import BaseModel, Field

logger = logging.getLogger(__name__)

PROVIDER_STATES_PATH = "/_pact/provider-states"

StateHandler = Callable[[dict[str, Any]], object]


class Detail(BaseModel):
    """The body of every error the services answer with."""

    detail: str


class StateChange(BaseModel):
    """A provider-state request as Pact verifiers send it to a state-change URL."""

    state: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    action: Literal["setup", "teardown"] = "setup"


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error statuses an operation returns.

    FastAPI documents its own 422 (a body or parameter that does not validate),
    but not the 400 it gives a body that is not JSON at all: operations taking a
    body list 400 here.
    """
    return {
        status: {"model": Detail, "description": HTTPStatus(status).phrase}
        for status in statuses
    }


def add_health(app: FastAPI) -> None:
    """Serve ``GET /health``, left out of the contract like any probe."""

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}


def add_provider_states(app: FastAPI, handlers: Mapping[str, StateHandler]) -> None:
    """Serve ``POST /_pact/provider-states`` (Pact's provider-state-setup-url).

    Each key of ``handlers`` is a regular expression for a state name. Its
    named groups, overridden by the request's ``params``, are the handler's
    arguments, so both ``given("item A-1 has stock 3")`` and the same state
    with parameters work.
    """
    patterns = [(re.compile(pattern), handler) for pattern, handler in handlers.items()]

    @app.post(PROVIDER_STATES_PATH, include_in_schema=False)
    def change_state(change: StateChange) -> dict[str, Any]:
        # Data is set up afresh by every setup, so teardown has nothing to undo.
        if change.action == "teardown" or not change.state:
            return {}

        for pattern, handler in patterns:
            found = pattern.fullmatch(change.state)
            if found:
                _set_up(handler, {**found.groupdict(), **change.params}, change.state)
                return {}

        known = ", ".join(p.pattern for p, _ in patterns)
        raise HTTPException(
            400, f"unknown provider state {change.state!r}; known: {known}"
        )


def _set_up(handler: StateHandler, values: dict[str, Any], state: str) -> None:
    try:
        handler(values)
    except (LookupError, TypeError, ValueError) as exc:
        raise HTTPException(400, f"provider state {state!r}: bad value {exc}") from exc
    logger.info("provider state %r set up with %s", state, values)


class EventHub:
    """Order events: each new subscriber gets the recent ones, then every new one.

    The replay lets an observer read real messages without driving traffic.
    """

    def __init__(self, seed: Iterable[dict[str, Any]], keep: int = 50) -> None:
        self._recent: deque[dict[str, Any]] = deque(seed, maxlen=keep)
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()

    def publish(self, event: dict[str, Any]) -> None:
        self._recent.append(event)
        for queue in self._queues:
            queue.put_nowait(event)

    async def serve(self, websocket: WebSocket) -> None:
        """Stream events to one subscriber until it goes away."""
        await websocket.accept()
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        for event in self._recent:
            queue.put_nowait(event)
        self._queues.add(queue)
        sender = asyncio.create_task(_forward(websocket, queue))

        # Waiting on receive notices a closed connection (or a server shutting
        # down) at once, instead of at the next event sent into the void.
        try:
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass
        finally:
            self._queues.discard(queue)
            sender.cancel()


async def _forward(websocket: WebSocket, queue: asyncio.Queue[dict[str, Any]]) -> None:
    while True:
        await websocket.send_json(await queue.get())
