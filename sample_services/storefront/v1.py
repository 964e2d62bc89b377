"""Storefront v1: the web front end's backend.

It shows orders, asking the orders service (``ORDERS_URL``), and follows order
events from the notifier (``NOTIFIER_URL``). It reads an event's ``order_id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator
from typing import Annotated, Any

import requests
from fastapi import FastAPI, HTTPException, Path
from pydantic import BaseModel
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from sample_services.common import add_health, errors

CHANNEL = "/ws/orders"

logger = logging.getLogger(__name__)

OrderId = Annotated[int, Path(ge=1, examples=[1])]


class OrderView(BaseModel):
    """An order as the web front end shows it."""

    id: int
    sku: str
    quantity: int
    status: str


class OrdersError(Exception):
    """Orders could not be reached, or answered something unexpected."""


class OrdersClient:
    """The calls storefront v1 makes to orders; its Pact file records them."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def order(self, order_id: int) -> OrderView | None:
        """An order, or ``None`` when orders has no such order."""
        try:
            response = requests.get(
                f"{self.base_url}/orders/{order_id}", timeout=self.timeout
            )
            if response.status_code == 404:
                return None
            response.raise_for_status()
            body = response.json()
            return OrderView(
                id=body["id"],
                sku=body["sku"],
                quantity=body["quantity"],
                status=body["status"],
            )
        except (requests.RequestException, LookupError, TypeError, ValueError) as exc:
            raise OrdersError(f"orders failed: {exc!r}") from exc


class Notifications:
    """What the storefront has learned from order events."""

    def __init__(self) -> None:
        self.statuses: dict[str, str] = {}
        self.unreadable = 0

    def receive(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
            self.statuses[str(message["order_id"])] = str(message["status"])
        except (LookupError, TypeError, ValueError):
            self.unreadable += 1
            logger.warning("cannot read order event %r", raw)


async def follow(url: str, notifications: Notifications) -> None:
    """Read events for as long as the app runs; reconnect whenever they stop."""
    while True:
        try:
            async with connect(url) as websocket:
                logger.info("subscribed to %s", url)
                async for raw in websocket:
                    notifications.receive(raw)
        except (OSError, WebSocketException) as exc:
            logger.info("notifier at %s unavailable (%r); retrying", url, exc)
        await asyncio.sleep(1.0)


_notifications = Notifications()


@contextlib.asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    base = os.environ.get("NOTIFIER_URL")
    if not base:
        yield
        return

    # Following in the background lets the app start while the notifier is
    # down; follow() keeps trying.
    task = asyncio.create_task(follow(base.rstrip("/") + CHANNEL, _notifications))
    yield

    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


app = FastAPI(title="storefront", version="1.0.0", lifespan=_lifespan)
add_health(app)


@app.get("/orders/{order_id}", response_model=OrderView, responses=errors(404, 502))
def get_order(order_id: OrderId) -> OrderView:
    """An order, as the orders service has it."""
    url = os.environ.get("ORDERS_URL")
    if not url:
        raise HTTPException(502, "ORDERS_URL is not set")
    try:
        order = OrdersClient(url).order(order_id)
    except OrdersError as exc:
        raise HTTPException(502, str(exc)) from exc
    if order is None:
        raise HTTPException(404, f"no order {order_id}")
    return order


@app.get("/notifications")
def notifications() -> dict[str, Any]:
    """The latest status of each order seen in events, and how many were unreadable."""
    return {
        "statuses": _notifications.statuses,
        "unreadable": _notifications.unreadable,
    }
