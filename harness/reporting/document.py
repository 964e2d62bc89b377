"""The run report as plain data: the JSON format, and the source of other formats.

``FORMAT_VERSION`` changes whenever a key is renamed or removed; adding keys
does not change it. docs/report-format.md describes every key.
"""

from __future__ import annotations

from typing import Any

from harness.core.model import CellResult, CheckKind, CheckResult, Finding, Outcome
from harness.engine.events import RunReport

__all__ = ["FORMAT_VERSION", "check_columns", "report_document", "symbol"]

FORMAT_VERSION = 1

_SYMBOLS = {
    Outcome.COMPATIBLE: "✅",
    Outcome.INCOMPATIBLE: "❌",
    Outcome.ERROR: "⚠️",
    Outcome.SKIPPED: "➖",
}


def symbol(outcome: Outcome) -> str:
    """A one-character mark for an outcome, for compact tables."""
    return _SYMBOLS[outcome]


def check_columns(results: tuple[CellResult, ...]) -> list[CheckKind]:
    """The check kinds that ran in a report, in their natural order."""
    present = {check.kind for result in results for check in result.checks}
    return [kind for kind in CheckKind if kind in present]


def report_document(report: RunReport) -> dict[str, Any]:
    """The report as JSON-ready data."""
    verdict = report.verdict
    return {
        "format_version": FORMAT_VERSION,
        "run_id": report.run_id,
        "system": report.system,
        "backend": report.backend,
        "duration_seconds": round(report.duration, 3),
        "instances_started": report.instances_started,
        "verdict": {
            "decision": verdict.decision.value,
            "exit_code": verdict.exit_code,
            "reasons": list(verdict.reasons),
            "rollout_order": [list(stage) for stage in verdict.stages],
            "advice": list(verdict.advice),
        },
        "bumps": [
            {"service": b.service, "baseline": b.baseline, "candidate": b.candidate}
            for b in report.bumps
        ],
        "cells": [_cell(result) for result in report.results],
    }


def _cell(result: CellResult) -> dict[str, Any]:
    cell = result.cell
    return {
        "id": cell.id,
        "edge": {
            "consumer": cell.edge.consumer,
            "provider": cell.edge.provider,
            "protocol": cell.edge.protocol.value,
        },
        "consumer_version": cell.consumer_version,
        "provider_version": cell.provider_version,
        "pairing": cell.pairing.value,
        "outcome": result.outcome.value,
        "checks": [_check(check) for check in result.checks],
    }


def _check(check: CheckResult) -> dict[str, Any]:
    return {
        "kind": check.kind.value,
        "outcome": check.outcome.value,
        "summary": check.summary,
        "duration_seconds": round(check.duration, 3),
        "replay": check.replay,
        "findings": [_finding(finding) for finding in check.findings],
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "level": finding.level.value,
        "rule": finding.rule,
        "location": finding.location,
        "message": finding.message,
        "detail": finding.detail,
    }
