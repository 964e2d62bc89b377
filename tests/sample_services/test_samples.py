"""The sample services do what each of their versions promises.

Every version runs as a real uvicorn process on a free loopback port. All of
them start at once, so the module waits for the slowest start only once.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
import websocket
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"
STATES = "/_pact/provider-states"

# name: (module, environment); "{name}" in a value is that instance's host:port.
INSTANCES: dict[str, tuple[str, Mapping[str, str]]] = {
    "inventory_v1": ("inventory.v1", {}),
    "inventory_v2": ("inventory.v2", {}),
    "inventory_v3": ("inventory.v3", {}),
    "orders_v1": ("orders.v1", {"INVENTORY_URL": "http://{inventory_v1}"}),
    "orders_v1_on_v3": ("orders.v1", {"INVENTORY_URL": "http://{inventory_v3}"}),
    "orders_v2": ("orders.v2", {"INVENTORY_URL": "http://{inventory_v2}"}),
    "orders_v2_on_v1": ("orders.v2", {"INVENTORY_URL": "http://{inventory_v1}"}),
    "notifier_v1": ("notifier.v1", {}),
    "notifier_v2": ("notifier.v2", {}),
    "storefront_v1": (
        "storefront.v1",
        {"ORDERS_URL": "http://{orders_v1}", "NOTIFIER_URL": "ws://{notifier_v1}"},
    ),
    "storefront_v1_on_v2": ("storefront.v1", {"NOTIFIER_URL": "ws://{notifier_v2}"}),
    "storefront_v2_on_v2": ("storefront.v2", {"NOTIFIER_URL": "ws://{notifier_v2}"}),
    # Its notifier is started by the test that needs it, later.
    "storefront_v2_early": ("storefront.v2", {"NOTIFIER_URL": "ws://{notifier_late}"}),
}


class Fleet:
    """Sample service processes on loopback ports, all stopped by :meth:`stop`."""

    def __init__(self, logs: Path) -> None:
        self._logs = logs
        self._ports: dict[str, int] = {}
        self._processes: dict[str, subprocess.Popen[bytes]] = {}

    def address(self, name: str) -> str:
        """``host:port`` of an instance, reserved before it starts."""
        if name not in self._ports:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self._ports[name] = probe.getsockname()[1]
        return f"127.0.0.1:{self._ports[name]}"

    def launch(self, name: str, module: str, env: Mapping[str, str]) -> None:
        host, port = self.address(name).split(":")
        wired = {
            key: re.sub(r"\{(\w+)\}", lambda found: self.address(found[1]), value)
            for key, value in env.items()
        }
        command = [sys.executable, "-m", "uvicorn", f"sample_services.{module}:app"]
        with (self._logs / f"{name}.log").open("wb") as log:
            self._processes[name] = subprocess.Popen(
                [*command, "--host", host, "--port", port],
                cwd=ROOT,
                env={**_environment(), **wired},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def url(self, name: str, deadline: float = 30.0) -> str:
        """The instance's base URL, once its health check answers."""
        url = f"http://{self.address(name)}"
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            if self._processes[name].poll() is not None:
                pytest.fail(f"{name} exited:\n{self.log(name)}")
            try:
                if requests.get(f"{url}/health", timeout=1).ok:
                    return url
            except requests.RequestException:
                time.sleep(0.05)
        pytest.fail(f"{name} did not become healthy:\n{self.log(name)}")

    def log(self, name: str) -> str:
        return (self._logs / f"{name}.log").read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        for process in self._processes.values():
            process.terminate()
        for process in self._processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _environment() -> dict[str, str]:
    # A provider URL inherited from the shell would wire an instance wrongly.
    return {key: value for key, value in os.environ.items() if not key.endswith("_URL")}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    fleet = Fleet(tmp_path_factory.mktemp("logs"))
    try:
        for name, (module, env) in INSTANCES.items():
            fleet.launch(name, module, env)
        yield fleet
    finally:
        fleet.stop()


def set_state(url: str, state: str, **params: Any) -> None:
    response = requests.post(
        url + STATES, json={"state": state, "params": params, "action": "setup"}
    )
    assert response.status_code == 200, response.text


def eventually(condition: Callable[[], bool], deadline: float = 15.0) -> None:
    """Wait until ``condition`` holds, or the deadline passes."""
    end = time.monotonic() + deadline
    while not condition() and time.monotonic() < end:
        time.sleep(0.1)


def notifications(url: str) -> dict[str, Any]:
    """What a storefront made of the notifier's seeded events (orders 1 and 2).

    Events other tests publish are left out.
    """
    body = requests.get(f"{url}/notifications").json()
    seeded = {
        key: body["statuses"][key] for key in ("1", "2") if key in body["statuses"]
    }
    return {"statuses": seeded, "unreadable": body["unreadable"]}


def read_events(url: str, count: int) -> list[dict[str, Any]]:
    channel = websocket.create_connection(
        url.replace("http://", "ws://") + "/ws/orders", timeout=5
    )
    try:
        return [json.loads(channel.recv()) for _ in range(count)]
    finally:
        channel.close()


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


# inventory


@pytest.mark.parametrize(
    ("instance", "field", "absent"),
    [
        ("inventory_v1", "stock", "warehouse"),
        ("inventory_v2", "stock", "available"),
        ("inventory_v3", "available", "stock"),
    ],
    ids=["v1-stock", "v2-stock", "v3-renamed-to-available"],
)
def test_item_reports_its_stock_under_the_versions_field(
    fleet: Fleet, instance: str, field: str, absent: str
) -> None:
    url = fleet.url(instance)
    set_state(url, "item LAMP-3 has stock 4")

    item = requests.get(f"{url}/items/LAMP-3").json()

    assert item[field] == 4
    assert absent not in item
    assert requests.get(f"{url}/items/NOPE-404").status_code == 404


def test_inventory_v2_adds_an_optional_warehouse(fleet: Fleet) -> None:
    item = requests.get(fleet.url("inventory_v2") + "/items/WIDGET-1").json()

    assert item["warehouse"] == "main"
    schema = load(CONTRACTS / "inventory" / "v2.openapi.yaml")
    assert "warehouse" not in schema["components"]["schemas"]["Item"]["required"]


@pytest.mark.parametrize("instance", ["inventory_v2", "inventory_v3"])
def test_reservations_take_stock_until_none_is_left(
    fleet: Fleet, instance: str
) -> None:
    url = fleet.url(instance)
    set_state(url, "item DESK-2 has stock 3")

    first = requests.post(f"{url}/reservations", json={"sku": "DESK-2", "quantity": 2})
    second = requests.post(f"{url}/reservations", json={"sku": "DESK-2", "quantity": 2})
    unknown = requests.post(
        f"{url}/reservations", json={"sku": "NOPE-1", "quantity": 1}
    )

    assert first.status_code == 201
    assert first.json() == {"id": first.json()["id"], "sku": "DESK-2", "quantity": 2}
    assert second.status_code == 409
    assert unknown.status_code == 404


def test_inventory_v1_has_no_reservations(fleet: Fleet) -> None:
    url = fleet.url("inventory_v1")

    response = requests.post(f"{url}/reservations", json={"sku": "A-1", "quantity": 1})

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("instance", "field"),
    [("inventory_v1", "stock"), ("inventory_v3", "available")],
    ids=["v1", "v3"],
)
def test_provider_state_params_override_the_state_name(
    fleet: Fleet, instance: str, field: str
) -> None:
    url = fleet.url(instance)

    set_state(url, "item SHELF-1 has stock 1", sku="SHELF-8", stock=7, name="Shelf")

    item = requests.get(f"{url}/items/SHELF-8").json()
    assert (item["name"], item[field]) == ("Shelf", 7)


@pytest.mark.parametrize("instance", ["inventory_v2", "orders_v1"])
def test_unknown_provider_state_is_refused_and_teardown_accepted(
    fleet: Fleet, instance: str
) -> None:
    url = fleet.url(instance)

    unknown = requests.post(url + STATES, json={"state": "the moon is full"})
    teardown = requests.post(
        url + STATES, json={"state": "the moon is full", "action": "teardown"}
    )

    assert unknown.status_code == 400
    assert "the moon is full" in unknown.json()["detail"]
    assert teardown.status_code == 200


def test_provider_state_with_a_bad_value_is_refused(fleet: Fleet) -> None:
    url = fleet.url("inventory_v2")

    response = requests.post(
        url + STATES,
        json={"state": "item A-1 has stock 1", "params": {"stock": "plenty"}},
    )

    assert response.status_code == 400
    assert "plenty" in response.json()["detail"]


# orders


def test_orders_v1_places_an_order_it_can_read_back(fleet: Fleet) -> None:
    url = fleet.url("orders_v1")
    set_state(fleet.url("inventory_v1"), "item CHAIR-4 has stock 5")

    placed = requests.post(f"{url}/orders", json={"sku": "CHAIR-4", "quantity": 5})
    too_many = requests.post(f"{url}/orders", json={"sku": "CHAIR-4", "quantity": 6})
    unknown = requests.post(f"{url}/orders", json={"sku": "NOPE-2", "quantity": 1})

    assert placed.status_code == 201
    assert placed.json()["status"] == "confirmed"
    order = requests.get(f"{url}/orders/{placed.json()['id']}")
    assert order.json() == placed.json()
    assert too_many.status_code == 409
    assert unknown.status_code == 404


def test_orders_v2_reserves_stock_in_inventory(fleet: Fleet) -> None:
    url, inventory = fleet.url("orders_v2"), fleet.url("inventory_v2")
    set_state(inventory, "item SOFA-1 has stock 5")

    placed = requests.post(f"{url}/orders", json={"sku": "SOFA-1", "quantity": 3})

    assert placed.status_code == 201
    assert placed.json()["reservation_id"] >= 1
    assert requests.get(f"{inventory}/items/SOFA-1").json()["stock"] == 2


@pytest.mark.parametrize(
    "instance",
    ["orders_v1_on_v3", "orders_v2_on_v1"],
    ids=["v1-reads-stock-v3-lacks", "v2-reserves-v1-cannot"],
)
def test_orders_fail_against_an_incompatible_inventory(
    fleet: Fleet, instance: str
) -> None:
    url = fleet.url(instance)

    response = requests.post(f"{url}/orders", json={"sku": "WIDGET-1", "quantity": 1})

    assert response.status_code == 502


@pytest.mark.parametrize("instance", ["orders_v1", "orders_v2"])
def test_order_state_is_stored_without_asking_inventory(
    fleet: Fleet, instance: str
) -> None:
    url = fleet.url(instance)

    # Inventory has no LAMP-9: asking it would have failed the setup.
    set_state(url, "order 41 exists", sku="LAMP-9", quantity=3, status="shipped")
    set_state(url, "order 42 does not exist")

    order = requests.get(f"{url}/orders/41").json()
    assert (order["id"], order["sku"], order["status"]) == (41, "LAMP-9", "shipped")
    assert requests.get(f"{url}/orders/42").status_code == 404


# notifier


@pytest.mark.parametrize(
    ("instance", "field", "absent"),
    [
        ("notifier_v1", "order_id", "order_ref"),
        ("notifier_v2", "order_ref", "order_id"),
    ],
    ids=["v1-order_id", "v2-order_ref"],
)
def test_notifier_replays_recent_events_on_connect(
    fleet: Fleet, instance: str, field: str, absent: str
) -> None:
    events = read_events(fleet.url(instance), 3)

    assert events[0]["type"] == "order.created"
    assert all(field in event and absent not in event for event in events)


def test_notifier_sends_published_events_after_the_replay(fleet: Fleet) -> None:
    url = fleet.url("notifier_v1")
    event = {"type": "order.updated", "order_id": uuid.uuid4().hex, "status": "shipped"}
    channel = websocket.create_connection(
        url.replace("http://", "ws://") + "/ws/orders", timeout=5
    )
    try:
        replayed = [json.loads(channel.recv()) for _ in range(3)]
        published = requests.post(f"{url}/events", json=event)
        received = json.loads(channel.recv())
    finally:
        channel.close()

    assert published.status_code == 202
    assert event not in replayed
    assert received == event


@pytest.mark.parametrize(
    ("notifier", "storefront", "accepted"),
    [
        ("notifier_v1", "v1", True),
        ("notifier_v2", "v1", False),
        ("notifier_v1", "v2", True),
        ("notifier_v2", "v2", True),
    ],
    ids=["v1-to-v1", "v2-to-v1-broken", "v1-to-v2", "v2-to-v2"],
)
def test_storefront_message_schemas_accept_what_each_storefront_reads(
    fleet: Fleet, notifier: str, storefront: str, accepted: bool
) -> None:
    schema = json.loads(
        (CONTRACTS / "storefront" / f"{storefront}.messages.schema.json").read_text()
    )
    events = read_events(fleet.url(notifier), 3)

    valid = [jsonschema.Draft202012Validator(schema).is_valid(e) for e in events]

    assert valid == [accepted] * 3


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_notifier_messages_match_its_asyncapi_document(
    fleet: Fleet, version: str
) -> None:
    document = load(CONTRACTS / "notifier" / f"{version}.asyncapi.yaml")
    payload = document["components"]["schemas"]["OrderEvent"]

    events = read_events(fleet.url(f"notifier_{version}"), 3)

    assert document["channels"]["orderEvents"]["address"] == "/ws/orders"
    for event in events:
        jsonschema.validate(event, payload)


# storefront


def test_storefront_shows_an_order_from_orders(fleet: Fleet) -> None:
    url = fleet.url("storefront_v1")

    order = requests.get(f"{url}/orders/1")
    missing = requests.get(f"{url}/orders/999")

    assert order.status_code == 200
    assert order.json()["sku"] == "WIDGET-1"
    assert missing.status_code == 404


READ = {"statuses": {"1": "confirmed", "2": "pending"}, "unreadable": 0}
UNREAD = {"statuses": {}, "unreadable": 3}


@pytest.mark.parametrize(
    ("instance", "expected"),
    [
        ("storefront_v1", READ),
        ("storefront_v1_on_v2", UNREAD),
        ("storefront_v2_on_v2", READ),
    ],
    ids=["v1-on-notifier-v1", "v1-on-notifier-v2-unreadable", "v2-on-notifier-v2"],
)
def test_storefront_reads_the_order_events_its_version_knows(
    fleet: Fleet, instance: str, expected: dict[str, Any]
) -> None:
    url = fleet.url(instance)

    eventually(lambda: notifications(url) == expected)

    assert notifications(url) == expected


def test_storefront_starts_before_its_notifier_and_subscribes_later(
    fleet: Fleet,
) -> None:
    url = fleet.url("storefront_v2_early")
    assert notifications(url) == {"statuses": {}, "unreadable": 0}

    fleet.launch("notifier_late", "notifier.v2", {})
    fleet.url("notifier_late")

    eventually(lambda: notifications(url) == READ)
    assert notifications(url) == READ


# contracts


def test_contracts_are_what_the_apps_export() -> None:
    # A subprocess, because the repository root need not be importable here.
    result = subprocess.run(
        [sys.executable, "-m", "sample_services.export_contracts", "--check"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, (
        f"{result.stdout}{result.stderr}run python -m sample_services.export_contracts"
    )
