"""A system description built in memory, for planning tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.model import CheckKind, Edge, Protocol
from harness.core.system import EdgeSpec, ServiceSpec, System, VersionSpec


def service(name: str, *versions: str) -> ServiceSpec:
    return ServiceSpec(
        name=name,
        baseline=versions[0],
        versions={v: VersionSpec(name=v, command=("run",)) for v in versions},
    )


def edge(consumer: str, provider: str, protocol: Protocol = Protocol.HTTP) -> EdgeSpec:
    checks = (CheckKind.SPEC_DIFF, CheckKind.PACT)
    if protocol is Protocol.WEBSOCKET:
        checks = (CheckKind.STREAM,)
    return EdgeSpec(
        Edge(consumer, provider, protocol), f"{provider.upper()}_URL", checks=checks
    )


@pytest.fixture
def shop() -> System:
    """inventory <- orders <- storefront -> notifier (websocket)."""
    return System(
        name="shop",
        source=Path("/nowhere/rollout.yaml"),
        services={
            "inventory": service("inventory", "v1", "v2", "v3"),
            "orders": service("orders", "v1", "v2"),
            "notifier": service("notifier", "v1", "v2"),
            "storefront": service("storefront", "v1", "v2"),
        },
        edges=(
            edge("orders", "inventory"),
            edge("storefront", "orders"),
            edge("storefront", "notifier", Protocol.WEBSOCKET),
        ),
    )
