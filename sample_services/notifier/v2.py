"""Notifier v2: like v1, but its messages call the order ``order_ref``.

This breaks subscribers that read ``order_id``.
"""

from __future__ import annotations

from typing import Literal

from fastapi import FastAPI, WebSocket
from pydantic import BaseModel

from sample_services.common import EventHub, add_health

CHANNEL = "/ws/orders"


class OrderEvent(BaseModel):
    """One message on the channel: something happened to an order."""

    type: Literal["order.created", "order.updated"]
    order_ref: str
    status: str


app = FastAPI(title="notifier", version="2.0.0")
add_health(app)

_hub = EventHub(
    event.model_dump()
    for event in (
        OrderEvent(type="order.created", order_ref="1", status="pending"),
        OrderEvent(type="order.updated", order_ref="1", status="confirmed"),
        OrderEvent(type="order.created", order_ref="2", status="pending"),
    )
)


@app.websocket(CHANNEL)
async def order_events(websocket: WebSocket) -> None:
    """Replay the recent events, then send each new one as it happens."""
    await _hub.serve(websocket)


@app.post("/events", status_code=202, response_model=OrderEvent)
async def publish(event: OrderEvent) -> OrderEvent:
    """Send an event to every subscriber."""
    _hub.publish(event.model_dump())
    return event
