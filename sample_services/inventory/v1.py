"""Inventory v1: looks up items and how many are in stock."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Path
from pydantic import BaseModel, Field

from sample_services.common import add_health, add_provider_states, errors

SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{0,31}$"

Sku = Annotated[str, Path(pattern=SKU_PATTERN, examples=["WIDGET-1"])]


class Item(BaseModel):
    """An item and how many are in stock."""

    sku: str
    name: str
    stock: int = Field(ge=0)


app = FastAPI(title="inventory", version="1.0.0")
add_health(app)

_items: dict[str, Item] = {}


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
