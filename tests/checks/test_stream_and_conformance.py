"""The stream and conformance checks against real sample instances."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.backends.base import Instance
from harness.backends.process import ProcessBackend
from harness.checks import conformance, stream
from harness.checks.base import CheckContext
from harness.core.config import load_system
from harness.core.instances import InstanceKey, InstanceSpec
from harness.core.model import Cell, Outcome, Pairing
from harness.core.system import System


@pytest.fixture(scope="module")
def shop(repo: Path) -> System:
    return load_system(repo / "rollout.yaml")


@pytest.fixture(scope="module")
def running(shop: System, repo: Path) -> Iterator[dict[str, Instance]]:
    """notifier v2 and inventory v1 and v3, each started once for this module."""
    started = {}
    with ProcessBackend("test-checks", repo) as backend:
        for service, version in (
            ("notifier", "v2"),
            ("inventory", "v1"),
            ("inventory", "v3"),
        ):
            spec = InstanceSpec(
                InstanceKey(service, version),
                shop.services[service].versions[version],
            )
            started[f"{service}@{version}"] = backend.start(spec, {})
        yield started


def context(
    shop: System, consumer: str, cv: str, provider: str, pv: str, url: str | None
) -> CheckContext:
    spec = next(
        e for e in shop.edges if (e.consumer, e.provider) == (consumer, provider)
    )
    cell = Cell(spec.edge, cv, pv, Pairing.PROVIDER_AHEAD)
    return CheckContext(shop, cell, spec, provider_url=url)


def test_stream_names_the_message_field_the_consumer_misses(
    shop: System, running: dict[str, Instance]
) -> None:
    url = running["notifier@v2"].url

    result = stream.run(context(shop, "storefront", "v1", "notifier", "v2", url))

    assert result.outcome is Outcome.INCOMPATIBLE
    assert [f.message for f in result.findings] == ["message field order_id missing"]
    assert "order_ref" in result.findings[0].detail


def test_stream_accepts_what_a_tolerant_consumer_reads(
    shop: System, running: dict[str, Instance]
) -> None:
    url = running["notifier@v2"].url

    result = stream.run(context(shop, "storefront", "v2", "notifier", "v2", url))

    assert result.outcome is Outcome.COMPATIBLE
    assert result.summary == "3 messages on /ws/orders checked"


def test_stream_on_a_channel_the_provider_refuses_is_incompatible(
    shop: System, running: dict[str, Instance]
) -> None:
    base = context(
        shop, "storefront", "v2", "notifier", "v2", running["notifier@v2"].url
    )
    moved = dataclasses.replace(
        base, edge=dataclasses.replace(base.edge, channel="/ws/gone")
    )

    result = stream.run(moved)

    assert result.outcome is Outcome.INCOMPATIBLE
    assert "refused the subscription" in result.findings[0].message


def test_stream_to_nothing_is_an_error(shop: System) -> None:
    result = stream.run(
        context(shop, "storefront", "v2", "notifier", "v2", "http://127.0.0.1:9")
    )

    assert result.outcome is Outcome.ERROR


def test_conformance_finds_the_renamed_field(
    shop: System, running: dict[str, Instance]
) -> None:
    url = running["inventory@v3"].url

    result = conformance.run(context(shop, "orders", "v1", "inventory", "v3", url))

    assert result.outcome is Outcome.INCOMPATIBLE
    assert any("stock" in f.message or "stock" in f.detail for f in result.findings)
    assert "seed=" in result.replay


def test_conformance_of_the_version_it_was_built_against_passes(
    shop: System, running: dict[str, Instance]
) -> None:
    url = running["inventory@v1"].url

    result = conformance.run(context(shop, "orders", "v1", "inventory", "v1", url))

    assert result.outcome is Outcome.COMPATIBLE, result.findings


def test_conformance_against_nothing_is_an_error(shop: System) -> None:
    result = conformance.run(
        context(shop, "orders", "v1", "inventory", "v1", "http://127.0.0.1:9")
    )

    assert result.outcome is Outcome.ERROR
