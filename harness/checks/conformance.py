"""The ``conformance`` check: the running provider against the consumer's contract.

schemathesis generates requests from the OpenAPI document the consumer version
was built against and validates the provider instance's responses against that
same document. Example counts are bounded and the seed is recorded, so a
failure can be replayed exactly.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import hypothesis
import requests
import schemathesis
import schemathesis.openapi
from schemathesis import checks as st_checks
from schemathesis.core.failures import Failure, FailureGroup

from harness.checks.base import Check, CheckContext
from harness.core.errors import ContractError, Problem
from harness.core.model import CheckKind, CheckResult, Finding

__all__ = ["CHECK"]

logger = logging.getLogger(__name__)

# Positive-data checks only: a provider that rejects invalid input is not a
# compatibility problem, but one that answers a valid request with a status,
# media type or body the consumer's contract does not allow is.
_RESPONSE_CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    st_checks.response_headers_conformance,
]

_MAX_FINDINGS_PER_OPERATION = 3

# Hypothesis and schemathesis compile code while generating; on CPython 3.11 two
# threads doing so at once can fail with "AST constructor recursion depth
# mismatch" (python/cpython#106905). One conformance run at a time, then; the
# other checks of other cells still run in parallel.
_GENERATION_LOCK = threading.Lock()


def preflight(context: CheckContext) -> None:
    contract = context.expected_contract
    if contract is not None:
        _schema(contract, contract.stat().st_mtime_ns)


def run(context: CheckContext) -> CheckResult:
    contract = context.expected_contract
    if contract is None:
        return CheckResult.skipped(
            CheckKind.CONFORMANCE,
            f"{context.cell.provider} has no contract the consumer was built against",
        )
    if context.provider_url is None:
        return CheckResult.skipped(CheckKind.CONFORMANCE, "no running provider")

    began = time.monotonic()
    schema = _schema(contract, contract.stat().st_mtime_ns)
    base_url = context.provider_url + _server_path(schema.raw_schema)
    settings = context.settings
    collector = _Collector(base_url, settings.request_timeout)

    operations = 0
    with _GENERATION_LOCK:
        for result in schema.get_all_operations():
            operations += 1
            collector.explore(result.ok(), settings.examples, settings.seed)
            if collector.unreachable:
                break
    if collector.unreachable:
        return CheckResult.from_error(CheckKind.CONFORMANCE, collector.unreachable)

    summary = (
        f"{operations} operations of {contract.name}, {collector.calls} requests, "
        f"seed {settings.seed}"
    )
    replay = f"seed={settings.seed} examples={settings.examples}"
    return CheckResult.from_findings(
        CheckKind.CONFORMANCE,
        collector.findings,
        summary=summary,
        duration=time.monotonic() - began,
        replay=replay,
    )


@functools.lru_cache(maxsize=32)
def _schema(path: Path, _mtime: int) -> Any:
    try:
        return schemathesis.openapi.from_path(path)
    except Exception as exc:  # noqa: BLE001
        # schemathesis raises several unrelated types for unreadable documents.
        raise ContractError(
            [
                Problem(
                    str(path),
                    "",
                    f"not a usable OpenAPI document: {exc}".splitlines()[0],
                    hint="validate it with an OpenAPI linter",
                )
            ]
        ) from None


def _server_path(raw: dict[str, Any]) -> str:
    """The path prefix of the contract's first server, which requests must keep."""
    servers = raw.get("servers") or []
    url = servers[0].get("url", "") if servers and isinstance(servers[0], dict) else ""
    if not url and raw.get("basePath"):
        url = str(raw["basePath"])
    return urlsplit(url).path.rstrip("/") if "{" not in url else ""


@dataclass(slots=True)
class _Collector:
    base_url: str
    timeout: float
    findings: list[Finding] = field(default_factory=list)
    calls: int = 0
    unreachable: str = ""
    session: requests.Session = field(default_factory=requests.Session)

    def explore(self, operation: Any, examples: int, seed: int) -> None:
        """Send up to ``examples`` generated requests and keep distinct failures."""
        seen: set[tuple[str, str]] = set()

        @hypothesis.settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=False,
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
            print_blob=False,
        )
        @hypothesis.seed(seed)
        @hypothesis.given(case=operation.as_strategy())
        def probe(case: Any) -> None:
            if self.unreachable or len(seen) >= _MAX_FINDINGS_PER_OPERATION:
                return
            self.calls += 1
            try:
                response = case.call(
                    base_url=self.base_url, session=self.session, timeout=self.timeout
                )
            except requests.RequestException as exc:
                # The provider went away: that is the environment, not a finding.
                self.unreachable = f"{self.base_url} stopped answering: {exc}"
                return
            try:
                case.validate_response(response, checks=_RESPONSE_CHECKS)
            except (Failure, FailureGroup) as exc:
                self._record(operation, case, exc, seen)

        probe()

    def _record(
        self,
        operation: Any,
        case: Any,
        error: Failure | FailureGroup,
        seen: set[tuple[str, str]],
    ) -> None:
        failures = error.exceptions if isinstance(error, FailureGroup) else (error,)
        for failure in failures:
            key = (
                failure.title,
                failure.message.splitlines()[0] if failure.message else "",
            )
            if key in seen:
                continue
            seen.add(key)
            first_line = next(
                (line for line in failure.message.splitlines() if line.strip()), ""
            )
            self.findings.append(
                Finding(
                    message=f"{failure.title}: {first_line}"
                    if first_line
                    else failure.title,
                    rule=failure.code,
                    location=operation.label,
                    detail=failure.message
                    + "\n\nreplay: "
                    + case.as_curl_command(base_url=self.base_url),
                )
            )


CHECK = Check(kind=CheckKind.CONFORMANCE, run=run, preflight=preflight)
