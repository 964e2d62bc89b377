"""Inventory v2: adds the item's warehouse (optional) and stock reservations."""

from __future__ import annotations

import itertools
import threading
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field

from sample_services.common import add_health, add_provider_states, errors

SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{0,31}$"

Sku = Annotated[str, Path(pattern=SKU_PATTERN, examples=["WIDGET-1"])]


class Item(BaseModel):
    """An item, how many are in stock, and where they are kept."""

    sku: str
    name: str
    stock: int = Field(ge=0)
    warehouse: str = "main"


class ReservationRequest(BaseModel):
    """Stock to set aside for an order."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"sku": "WIDGET-1", "quantity": 2}]}
    )

    sku: str = Field(pattern=SKU_PATTERN)
    quantity: int = Field(gt=0)


class Reservation(BaseModel):
    """Stock set aside; it no longer counts as in stock."""

    id: int
    sku: str
    quantity: int


app = FastAPI(title="inventory", version="2.0.0")
add_health(app)

_items: dict[str, Item] = {}
_reservations: dict[int, Reservation] = {}
_reservation_ids = itertools.count(1)
_lock = threading.Lock()


def _put_item(values: dict[str, Any]) -> None:
    sku = str(values["sku"])
    name = str(values.get("name") or sku.title())
    _items[sku] = Item(sku=sku, name=name, stock=int(values["stock"]))


def _drop_item(values: dict[str, Any]) -> None:
    _items.pop(str(values["sku"]), None)


add_provider_states(
    app,
    {
        r"item (?P<sku>\S+) has stock (?P<stock>\d+)": _put_item,
        r"item (?P<sku>\S+) does not exist": _drop_item,
    },
)

_put_item({"sku": "WIDGET-1", "name": "Widget", "stock": 10})
_put_item({"sku": "GADGET-7", "name": "Gadget", "stock": 3})


@app.get(
    "/items/{sku}", operation_id="getItem", response_model=Item, responses=errors(404)
)
def get_item(sku: Sku) -> Item:
    """An item and its stock."""
    item = _items.get(sku)
    if item is None:
        raise HTTPException(404, f"no item {sku}")
    return item


@app.post(
    "/reservations",
    operation_id="createReservation",
    status_code=201,
    response_model=Reservation,
    responses=errors(400, 404, 409),
)
def create_reservation(request: ReservationRequest) -> Reservation:
    """Take stock of an item out of sale; 409 when there is not enough."""
    with _lock:
        item = _items.get(request.sku)
        if item is None:
            raise HTTPException(404, f"no item {request.sku}")
        if item.stock < request.quantity:
            raise HTTPException(409, f"only {item.stock} of {request.sku} in stock")

        item.stock -= request.quantity
        reservation = Reservation(
            id=next(_reservation_ids), sku=request.sku, quantity=request.quantity
        )
        _reservations[reservation.id] = reservation
    return reservation
