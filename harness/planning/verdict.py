"""From cell outcomes to a verdict and a rollout order.

For each edge, the mixed cells say which side must roll first: if only the new
consumer fails against the old provider, the provider goes first; if only the
old consumer fails against the new provider, the consumer goes first. The
constraints of all edges together give stages of a topological order; a cycle,
or an edge where both mixed cells fail, cannot be rolled in any order and the
change must be split.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from harness.core.model import (
    Bump,
    CellResult,
    Decision,
    Edge,
    Outcome,
    Pairing,
    Verdict,
)

__all__ = ["decide", "rollout_stages"]

logger = logging.getLogger(__name__)

_SPLIT_ADVICE = (
    "split the change: first expand (the provider accepts and serves both the "
    "old and the new form), then migrate the consumers, then contract (remove "
    "the old form) in a later change"
)


@dataclass(slots=True)
class _Findings:
    reasons: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    before: set[tuple[str, str]] = field(default_factory=set)
    environment_failed: bool = False


def decide(bumps: Iterable[Bump], results: Iterable[CellResult]) -> Verdict:
    """The verdict for a change, given the results of all its cells."""
    bumped = {bump.service for bump in bumps}
    by_edge: dict[Edge, dict[Pairing, CellResult]] = {}
    for result in results:
        by_edge.setdefault(result.cell.edge, {})[result.cell.pairing] = result

    found = _Findings()
    for edge in sorted(by_edge, key=str):
        _judge_edge(edge, by_edge[edge], bumped, found)

    stages, cycle = rollout_stages(bumped, found.before)
    if cycle:
        found.reasons.append(
            "the rollout constraints form a cycle ("
            + " -> ".join(cycle)
            + "): no order avoids an incompatible pair"
        )
        found.advice.append(_SPLIT_ADVICE)

    decision = Decision.BLOCKED if found.reasons else Decision.ALLOWED
    logger.info("verdict %s with %d reasons", decision.value, len(found.reasons))
    return Verdict(
        decision=decision,
        reasons=tuple(found.reasons),
        stages=stages,
        advice=tuple(dict.fromkeys(found.advice + found.notes)),
        environment_failed=found.environment_failed,
    )


def _judge_edge(
    edge: Edge,
    cells: Mapping[Pairing, CellResult],
    bumped: set[str],
    found: _Findings,
) -> None:
    for result in cells.values():
        if result.outcome is Outcome.ERROR:
            found.environment_failed = True
            found.reasons.append(
                f"{result.cell}: error, nothing is known ({_why(result)})"
            )

    today = cells.get(Pairing.TODAY)
    if today is not None and today.outcome is Outcome.INCOMPATIBLE:
        found.notes.append(
            f"{today.cell} already fails today, before this change: {_why(today)}"
        )

    failed = {
        pairing: result
        for pairing, result in cells.items()
        if pairing is not Pairing.TODAY and result.outcome is Outcome.INCOMPATIBLE
    }
    if Pairing.AFTER in failed:
        result = failed[Pairing.AFTER]
        found.reasons.append(f"{result.cell} fails after the rollout: {_why(result)}")

    provider_ahead = failed.get(Pairing.PROVIDER_AHEAD)
    consumer_ahead = failed.get(Pairing.CONSUMER_AHEAD)
    if provider_ahead and consumer_ahead:
        found.reasons.append(
            f"{edge}: both mixed pairs fail ({provider_ahead.cell}: "
            f"{_why(provider_ahead)}; {consumer_ahead.cell}: {_why(consumer_ahead)}), "
            "so neither side can roll first"
        )
        found.advice.append(_SPLIT_ADVICE)
    elif provider_ahead:
        _needs_first(edge.consumer, edge.provider, provider_ahead, bumped, found)
    elif consumer_ahead:
        _needs_first(edge.provider, edge.consumer, consumer_ahead, bumped, found)


def _needs_first(
    first: str, then: str, failure: CellResult, bumped: set[str], found: _Findings
) -> None:
    """``first`` must be rolled out before ``then`` for ``failure`` never to occur."""
    if first in bumped:
        found.before.add((first, then))
        found.notes.append(
            f"{first} must roll before {then}: {failure.cell} is incompatible "
            f"({_why(failure)})"
        )
        return
    found.reasons.append(
        f"{failure.cell} is incompatible ({_why(failure)}); {first} must move "
        f"first, but this change does not bump it: bump {first} in this change "
        f"or release it before {then}"
    )


def _why(result: CellResult) -> str:
    failures = result.failures()
    if not failures:
        return result.outcome.value
    first = failures[0]
    more = len(failures) - 1
    text = f"{first.location}: {first.message}" if first.location else first.message
    return text + (f" (+{more} more)" if more else "")


def rollout_stages(
    services: Iterable[str], before: Iterable[tuple[str, str]]
) -> tuple[tuple[tuple[str, ...], ...], list[str]]:
    """Group ``services`` into stages that respect every (first, then) pair.

    Returns the stages and, when the pairs form a cycle, one cycle (else []).
    """
    pending = set(services)
    constraints = {(a, b) for a, b in before if a in pending and b in pending}
    stages: list[tuple[str, ...]] = []
    while pending:
        ready = sorted(
            s
            for s in pending
            if not any(then == s and first in pending for first, then in constraints)
        )
        if not ready:
            return tuple(stages), _cycle(pending, constraints)
        stages.append(tuple(ready))
        pending -= set(ready)
    return tuple(stages), []


def _cycle(pending: set[str], constraints: set[tuple[str, str]]) -> list[str]:
    # Every pending service has a pending predecessor (else it would be ready),
    # so walking predecessors must come back to a service already seen.
    predecessor = {b: a for a, b in sorted(constraints) if a in pending}
    node = min(pending)
    trail: list[str] = []
    while node not in trail:
        trail.append(node)
        node = predecessor[node]
    loop = trail[trail.index(node) :]
    return [*reversed(loop), loop[-1]]
