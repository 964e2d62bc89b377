"""``pytest --rollout``: the rollout gate inside a pytest session.

With ``--rollout``, every planned check of every cell becomes an item such as
``orders@v2->inventory@v1[pact]``, grouped per edge; a test marked
``@pytest.mark.rollout(consumer="storefront", provider="orders")`` runs once per
cell of that edge against running instances; the results of both make the
matrix and the verdict, and a blocked verdict fails the session.

pytest loads this plugin in every session. Without ``--rollout`` it only adds
its options, its marker and its fixtures, so this module and the modules it
imports at its top (``options``, ``items``) import nothing but pytest and the
standard library; the harness, with ``settings`` and ``gate``, is imported once
the gate is on.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import pytest

from harness.pytest_plugin.items import RolloutCheck, RolloutEdge
from harness.pytest_plugin.options import (
    MARKER,
    OPTIONS,
    refuse_options_without_rollout,
)

if TYPE_CHECKING:
    from harness.backends.base import Instance
    from harness.core.model import Cell
    from harness.pytest_plugin.gate import Gate

__all__ = [
    "RolloutCheck",
    "RolloutEdge",
    "rollout_cell",
    "rollout_consumer",
    "rollout_provider",
]

_GATE: pytest.StashKey[Gate] = pytest.StashKey()
_NEEDS_ROLLOUT = "a cross-version test: run pytest with --rollout"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(
        "rollout", "rollout gate: every version pair a rolling update creates"
    )
    group.addoption(
        "--rollout",
        action="store_true",
        help="Check the rollout: planned cells become items, and tests marked "
        "rollout run on every cell of their edge.",
    )
    for option in OPTIONS:
        group.addoption(
            option.flag,
            action="append" if option.repeatable else "store",
            metavar=option.metavar,
            help=option.help,
        )
        parser.addini(
            option.ini,
            f"{option.help} Same as {option.flag}.",
            type=option.ini_type,
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(consumer, provider): run the test once per cell of the edge "
        "consumer -> provider, against running instances (needs --rollout).",
    )
    if not config.getoption("rollout"):
        refuse_options_without_rollout(config)
        return

    # Imported only now, so that a session without --rollout never loads them.
    from harness.engine.signals import terminate_gracefully
    from harness.pytest_plugin.gate import Gate

    gate = Gate.from_config(config)
    config.stash[_GATE] = gate
    # pytest runs cleanups last in reverse order: stop instances, then give
    # SIGTERM back its previous handler.
    signals = contextlib.ExitStack()
    signals.enter_context(terminate_gracefully())
    config.add_cleanup(signals.close)
    config.add_cleanup(gate.close)
    config.pluginmanager.register(gate, "rollout-gate")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _GATE not in item.config.stash and item.get_closest_marker(MARKER):
        pytest.skip(_NEEDS_ROLLOUT)


@pytest.fixture
def rollout_cell(request: pytest.FixtureRequest) -> Cell:
    """The cell this test runs on: the edge and the version on each side."""
    _gate_of(request.config)
    cell: Cell | None = getattr(request, "param", None)
    if cell is None:
        pytest.fail(
            f"{request.node.nodeid} uses rollout fixtures; mark it "
            f"@pytest.mark.{MARKER}(consumer=..., provider=...)",
            pytrace=False,
        )
    return cell


@pytest.fixture
def rollout_provider(request: pytest.FixtureRequest, rollout_cell: Cell) -> Instance:
    """The cell's provider version, running; ``.url`` is its address."""
    return _gate_of(request.config).provider(rollout_cell)


@pytest.fixture
def rollout_consumer(request: pytest.FixtureRequest, rollout_cell: Cell) -> Instance:
    """The cell's consumer version, running and wired to the cell's provider."""
    return _gate_of(request.config).consumer(rollout_cell)


def _gate_of(config: pytest.Config) -> Gate:
    gate = config.stash.get(_GATE, None)
    if gate is None:
        pytest.skip(_NEEDS_ROLLOUT)
    return gate
