"""Orders v1: places an order when inventory has enough of the item in stock."""

from __future__ import annotations

import os
import threading
from typing import Annotated, Any
from urllib.parse import quote

import requests
from fastapi import FastAPI, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field

from sample_services.common import add_health, add_provider_states, errors

SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{0,31}$"

OrderId = Annotated[int, Path(ge=1, examples=[1])]


class InventoryError(Exception):
    """Inventory could not be reached, or answered something unexpected."""


class InventoryClient:
    """The calls orders v1 makes to inventory; its Pact file records them."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def stock_of(self, sku: str) -> int | None:
        """How many of an item are in stock; ``None`` for an item inventory lacks."""
        try:
            response = requests.get(
                f"{self.base_url}/items/{quote(sku)}", timeout=self.timeout
            )
            if response.status_code == 404:
                return None
            response.raise_for_status()
            return int(response.json()["stock"])
        except (requests.RequestException, LookupError, TypeError, ValueError) as exc:
            raise InventoryError(f"inventory failed: {exc!r}") from exc


class OrderRequest(BaseModel):
    """What a customer wants to buy."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"sku": "WIDGET-1", "quantity": 2}]}
    )

    sku: str = Field(pattern=SKU_PATTERN)
    quantity: int = Field(gt=0)


class Order(BaseModel):
    """A placed order."""

    id: int
    sku: str
    quantity: int
    status: str


app = FastAPI(title="orders", version="1.0.0")
add_health(app)

_orders: dict[int, Order] = {}
_lock = threading.Lock()


def _save(values: dict[str, Any]) -> Order:
    with _lock:
        order_id = int(values.get("id") or max(_orders, default=0) + 1)
        order = Order(
            id=order_id,
            sku=str(values.get("sku", "WIDGET-1")),
            quantity=int(values.get("quantity", 1)),
            status=str(values.get("status", "confirmed")),
        )
        _orders[order_id] = order
    return order


def _drop(values: dict[str, Any]) -> None:
    _orders.pop(int(values["id"]), None)


# Orders named by a provider state are stored directly: checking a consumer of
# orders must not depend on inventory.
add_provider_states(
    app,
    {
        r"order (?P<id>\d+) exists": _save,
        r"order (?P<id>\d+) does not exist": _drop,
    },
)

_save({"id": 1, "sku": "WIDGET-1", "quantity": 2, "status": "confirmed"})


def _inventory() -> InventoryClient:
    url = os.environ.get("INVENTORY_URL")
    if not url:
        raise HTTPException(502, "INVENTORY_URL is not set")
    return InventoryClient(url)


@app.post(
    "/orders",
    operation_id="createOrder",
    status_code=201,
    response_model=Order,
    responses=errors(400, 404, 409, 502),
)
def create_order(request: OrderRequest) -> Order:
    """Place an order; 409 when inventory has too few of the item in stock."""
    try:
        stock = _inventory().stock_of(request.sku)
    except InventoryError as exc:
        raise HTTPException(502, str(exc)) from exc

    if stock is None:
        raise HTTPException(404, f"no item {request.sku}")
    if stock < request.quantity:
        raise HTTPException(409, f"only {stock} of {request.sku} in stock")

    return _save({"sku": request.sku, "quantity": request.quantity})


@app.get(
    "/orders/{order_id}",
    operation_id="getOrder",
    response_model=Order,
    responses=errors(404),
)
def get_order(order_id: OrderId) -> Order:
    """An order by its id."""
    order = _orders.get(order_id)
    if order is None:
        raise HTTPException(404, f"no order {order_id}")
    return order
