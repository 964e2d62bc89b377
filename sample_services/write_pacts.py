"""Record the sample consumers' Pact files, the way real consumer tests do.

    pip install pact-python
    python -m sample_services.write_pacts

Each consumer version's own client code runs against Pact's mock server, which
answers with the declared interactions and fails if the client strays from
them. The files land in ``contracts/pacts/<consumer>/<version>/``. Orders write
Pact V3, the storefront V4, so that both formats are exercised.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pact import Pact, match

from sample_services.orders import v1 as orders_v1
from sample_services.orders import v2 as orders_v2
from sample_services.storefront import v1 as storefront_v1
from sample_services.storefront import v2 as storefront_v2

ROOT = Path(__file__).resolve().parent.parent
PACTS = ROOT / "contracts" / "pacts"

SKU_REGEX = r"^[A-Z0-9][A-Z0-9-]{0,31}$"

StorefrontClient = type[storefront_v1.OrdersClient] | type[storefront_v2.OrdersClient]


class ConsumerMismatch(Exception):
    """The consumer's client did not read what the interactions promise."""


def _expect(condition: bool, what: str) -> None:
    if not condition:
        raise ConsumerMismatch(what)


def _item_in_stock(pact: Pact) -> None:
    (
        pact.upon_receiving("a request for an item in stock")
        .given("item WIDGET-1 has stock 10", sku="WIDGET-1", stock=10)
        .with_request("GET", "/items/WIDGET-1")
        .will_respond_with(200)
        .with_body(
            {
                "sku": match.regex("WIDGET-1", regex=SKU_REGEX),
                "name": match.str("Widget"),
                "stock": match.int(10),
            },
            content_type="application/json",
        )
    )


def _unknown_item(pact: Pact) -> None:
    (
        pact.upon_receiving("a request for an unknown item")
        .given("item NOPE-404 does not exist", sku="NOPE-404")
        .with_request("GET", "/items/NOPE-404")
        .will_respond_with(404)
    )


def orders_v1_pact() -> Pact:
    """Orders v1 reads an item's ``stock``."""
    pact = Pact("orders", "inventory").with_specification("V3")
    _item_in_stock(pact)
    _unknown_item(pact)

    with pact.serve(addr="127.0.0.1") as server:
        client = orders_v1.InventoryClient(str(server.url))
        _expect(client.stock_of("WIDGET-1") == 10, "stock of WIDGET-1")
        _expect(client.stock_of("NOPE-404") is None, "NOPE-404 is unknown")
    return pact


def orders_v2_pact() -> Pact:
    """Orders v2 reads an item's ``stock`` and reserves stock."""
    pact = Pact("orders", "inventory").with_specification("V3")
    _item_in_stock(pact)
    _unknown_item(pact)
    (
        pact.upon_receiving("a reservation of stock")
        .given("item WIDGET-1 has stock 10", sku="WIDGET-1", stock=10)
        .with_request("POST", "/reservations")
        .with_body({"sku": "WIDGET-1", "quantity": 2}, content_type="application/json")
        .will_respond_with(201)
        .with_body(
            {
                "id": match.int(1),
                "sku": match.str("WIDGET-1"),
                "quantity": match.int(2),
            },
            content_type="application/json",
        )
    )
    (
        pact.upon_receiving("a reservation of more than is in stock")
        .given("item WIDGET-1 has stock 1", sku="WIDGET-1", stock=1)
        .with_request("POST", "/reservations")
        .with_body({"sku": "WIDGET-1", "quantity": 5}, content_type="application/json")
        .will_respond_with(409)
    )

    with pact.serve(addr="127.0.0.1") as server:
        client = orders_v2.InventoryClient(str(server.url))
        _expect(client.stock_of("WIDGET-1") == 10, "stock of WIDGET-1")
        _expect(client.stock_of("NOPE-404") is None, "NOPE-404 is unknown")
        _expect(client.reserve("WIDGET-1", 2) == 1, "reservation of 2")
        _expect(client.reserve("WIDGET-1", 5) is None, "reservation of 5 refused")
    return pact


def _order_exists(pact: Pact, status: object) -> None:
    (
        pact.upon_receiving("a request for an order")
        .given("order 1 exists", id=1, sku="WIDGET-1", quantity=2, status="confirmed")
        .with_request("GET", "/orders/1")
        .will_respond_with(200)
        .with_body(
            {
                "id": match.int(1),
                "sku": match.str("WIDGET-1"),
                "quantity": match.int(2),
                "status": status,
            },
            content_type="application/json",
        )
    )
    (
        pact.upon_receiving("a request for an unknown order")
        .given("order 999 does not exist", id=999)
        .with_request("GET", "/orders/999")
        .will_respond_with(404)
    )


def _storefront_pact(client_type: StorefrontClient, status: object) -> Pact:
    pact = Pact("storefront", "orders").with_specification("V4")
    _order_exists(pact, status)

    with pact.serve(addr="127.0.0.1") as server:
        client = client_type(str(server.url))
        order = client.order(1)
        _expect(order is not None and order.quantity == 2, "order 1")
        _expect(client.order(999) is None, "order 999 is unknown")
    return pact


def storefront_v1_pact() -> Pact:
    """Storefront v1 shows an order; any status text will do."""
    return _storefront_pact(storefront_v1.OrdersClient, match.str("confirmed"))


def storefront_v2_pact() -> Pact:
    """Storefront v2 shows an order and knows the statuses it can have."""
    status = match.regex(
        "confirmed", regex=r"^(pending|confirmed|reserved|shipped|cancelled)$"
    )
    return _storefront_pact(storefront_v2.OrdersClient, status)


PACT_FILES = {
    ("orders", "v1"): orders_v1_pact,
    ("orders", "v2"): orders_v2_pact,
    ("storefront", "v1"): storefront_v1_pact,
    ("storefront", "v2"): storefront_v2_pact,
}


def main() -> int:
    # Pact's core reports usage over the network unless told not to.
    os.environ.setdefault("PACT_DO_NOT_TRACK", "true")

    for (consumer, version), record in PACT_FILES.items():
        folder = PACTS / consumer / version
        pact = record()
        pact.write_file(folder, overwrite=True)
        written = folder / f"{pact.consumer}-{pact.provider}.json"
        sys.stdout.write(f"wrote {written.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
