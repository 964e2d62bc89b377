"""The ``spec-diff`` check: what breaks statically, before anything runs.

A consumer version was built against one provider contract (``built_against``,
or the provider's baseline); the cell pairs it with a provider version that
publishes another. The check diffs the two documents in the backward direction:
clients of the expected contract against a server of the provided one. Error
findings make the cell incompatible; warnings and infos are reported only.
"""

from __future__ import annotations

import time
from pathlib import Path

from harness.checks.base import Check, CheckContext
from harness.contracts.openapi import Direction, diff, load
from harness.core.model import CheckKind, CheckResult

__all__ = ["CHECK"]


def preflight(context: CheckContext) -> None:
    """Read both documents and diff them, so bad contracts stop the run early.

    The diff itself can find a schema that contains itself; doing it here turns
    that into bad input (exit 2) too. The result is cached for :func:`run`.
    """
    documents = _documents(context)
    if isinstance(documents, tuple) and documents[0] != documents[1]:
        diff(load(documents[0]), load(documents[1]), Direction.BACKWARD)


def run(context: CheckContext) -> CheckResult:
    """Diff the expected contract against the provided one, backward."""
    documents = _documents(context)
    if isinstance(documents, str):
        return CheckResult.skipped(CheckKind.SPEC_DIFF, documents)
    expected, provided = documents

    began = time.monotonic()
    if expected == provided:
        return CheckResult.from_findings(
            CheckKind.SPEC_DIFF, (), summary=f"same contract ({provided.name})"
        )
    base, revision = load(expected), load(provided)
    if base.digest == revision.digest:
        summary = f"{expected.name} and {provided.name} have the same content"
        return CheckResult.from_findings(CheckKind.SPEC_DIFF, (), summary=summary)

    result = diff(base, revision, Direction.BACKWARD)
    counts = result.counts()
    summary = f"{expected.name} -> {provided.name}: " + ", ".join(
        f"{level.value}: {n}" for level, n in counts.items()
    )
    return CheckResult.from_findings(
        CheckKind.SPEC_DIFF,
        (change.to_finding() for change in result.ordered()),
        summary=summary,
        duration=time.monotonic() - began,
    )


def _documents(context: CheckContext) -> tuple[Path, Path] | str:
    """Both contracts, or why the check cannot run."""
    expected = context.expected_contract
    provided = context.provider.provides
    consumer = context.cell.consumer
    provider = context.cell.provider
    if expected is None:
        built = context.built_against.name
        return (
            f"{consumer} was built against {context.cell.edge.provider}@{built}, "
            "which has no contract (`provides`)"
        )
    if provided is None:
        return f"{provider} has no contract (`provides`) to compare"
    return expected.resolve(), provided.resolve()


CHECK = Check(kind=CheckKind.SPEC_DIFF, run=run, preflight=preflight)
