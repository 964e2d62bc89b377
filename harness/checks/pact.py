"""The pact check: a consumer version's Pact file replayed against a provider.

Each HTTP interaction of the pact is replayed against the running provider
version: its provider states are set up first, then the recorded request is
sent and the response is matched with the interaction's rules.

Provider states follow Pact's provider-state-setup-url convention: the provider
version names an endpoint (``provider_states`` in rollout.yaml) that receives
``POST {"state": NAME, "params": {...}, "action": "setup"}`` before the
interaction and the same with ``"action": "teardown"`` after it. A JSON object
in the setup answer feeds the interaction's ``ProviderState`` generators.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from harness.checks.base import Check, CheckContext
from harness.contracts.pact import (
    ActualResponse,
    HttpInteraction,
    HttpRequest,
    PactDocument,
    ProviderState,
    UnsupportedInteraction,
    load_pact,
    match_response,
)
from harness.core.model import CheckKind, CheckResult, Finding, Level

__all__ = ["CHECK", "preflight", "run"]

logger = logging.getLogger(__name__)

_KIND = CheckKind.PACT

# Finding rules that mean the interaction did not pass (pending ones included).
_FAILED = frozenset({"pact-mismatch", "pact-state-setup"})


def preflight(context: CheckContext) -> None:
    """Read the consumer version's Pact file; raises ContractError when broken."""
    pact = _pact_file(context)
    if pact is not None:
        load_pact(pact)


def run(context: CheckContext) -> CheckResult:
    """Replay every HTTP interaction of the pact against the provider instance."""
    pact = _pact_file(context)
    if pact is None:
        reason = (
            f"{context.cell.consumer} holds no pact for {context.cell.edge.provider}"
        )
        return CheckResult.skipped(_KIND, reason)
    if context.provider_url is None:
        reason = f"no running instance of {context.cell.provider} to replay the pact"
        return CheckResult.from_error(_KIND, reason)

    started = time.monotonic()
    document = load_pact(pact)
    try:
        results = _replay(context, context.provider_url, document)
    except _ProviderUnreachable as failure:
        logger.info("pact %s: %s", context.cell, failure)
        return CheckResult.from_error(_KIND, str(failure))

    findings = [finding for result in results for finding in result.findings]
    findings += [_unsupported(document.source, item) for item in document.unsupported]
    summary = _summary(document, sum(result.verified for result in results))
    logger.info("pact %s: %s", context.cell, summary)
    duration = time.monotonic() - started
    return CheckResult.from_findings(_KIND, findings, summary, duration)


CHECK = Check(kind=_KIND, run=run, preflight=preflight)


def _replay(
    context: CheckContext, provider_url: str, document: PactDocument
) -> list[_Verified]:
    with requests.Session() as session:
        replay = _Replay(context, provider_url, session, document.source)
        return [replay.verify(item) for item in document.interactions]


def _pact_file(context: CheckContext) -> Path | None:
    consumption = context.consumption
    return consumption.pact if consumption is not None else None


def _summary(document: PactDocument, verified: int) -> str:
    total = len(document.interactions) + len(document.unsupported)
    summary = f"{verified} of {total} interactions verified"
    if document.unsupported:
        summary += f" ({len(document.unsupported)} not supported by this check)"
    return summary


def _unsupported(source: Path, interaction: UnsupportedInteraction) -> Finding:
    return Finding(
        message=f"{interaction.description}: not replayed: {interaction.reason}",
        level=Level.WARNING,
        rule="pact-unsupported",
        location=source.name,
        detail=f"interaction type {interaction.kind}",
    )


class _ProviderUnreachable(Exception):
    """The provider did not answer, so nothing is known about the pact."""


@dataclass(frozen=True, slots=True)
class _Verified:
    findings: tuple[Finding, ...]
    verified: bool


class _Replay:
    """Replays interactions of one pact against one provider instance."""

    def __init__(
        self,
        context: CheckContext,
        base_url: str,
        session: requests.Session,
        source: Path,
    ) -> None:
        self.context = context
        self.base_url = base_url
        self.session = session
        self.source = source
        self.timeout = context.settings.request_timeout
        self.states_path = context.provider.provider_states

    def verify(self, interaction: HttpInteraction) -> _Verified:
        """Set up the interaction's states, replay it, and tear them down."""
        findings: list[Finding] = []
        with self.states(interaction, findings) as values:
            if values is not None:
                findings += self.replay(interaction, values)
        verified = not any(f.rule in _FAILED for f in findings)
        return _Verified(tuple(findings), verified)

    def replay(
        self, interaction: HttpInteraction, values: Mapping[str, Any]
    ) -> list[Finding]:
        request = interaction.request.with_state_values(values)
        actual = self.send(request)
        logger.debug("%s %s -> %d", request.method, request.path, actual.status)
        detail = f"{request.method} {request.path} answered {actual.status}"
        level = Level.WARNING if interaction.pending else Level.ERROR
        findings = [
            self.finding(interaction, "pact-mismatch", str(mismatch), level, detail)
            for mismatch in match_response(interaction, actual)
        ]
        if interaction.response.unverified_body:
            reason = interaction.response.unverified_body
            findings.append(self.finding(interaction, "pact-body-skipped", reason))
        return findings

    def finding(
        self,
        interaction: HttpInteraction,
        rule: str,
        message: str,
        level: Level = Level.WARNING,
        detail: str = "",
    ) -> Finding:
        pending = " (pending)" if interaction.pending else ""
        return Finding(
            message=f"{interaction.description}{pending}: {message}",
            level=level,
            rule=rule,
            location=self.source.name,
            detail=detail,
        )

    @contextmanager
    def states(
        self, interaction: HttpInteraction, findings: list[Finding]
    ) -> Iterator[dict[str, Any] | None]:
        """Set the provider states up; yields their values, ``None`` on failure.

        States that were set up are torn down whatever happens next.
        """
        done: list[ProviderState] = []
        try:
            yield self.set_up(interaction, done, findings)
        finally:
            for state in done:
                answer = self.change_state(state, "teardown")
                if not answer.ok:
                    said = f"teardown of provider state {state.name!r} failed: "
                    said += _said(answer)
                    findings.append(
                        self.finding(interaction, "pact-state-teardown", said)
                    )

    def set_up(
        self,
        interaction: HttpInteraction,
        done: list[ProviderState],
        findings: list[Finding],
    ) -> dict[str, Any] | None:
        if interaction.provider_states and self.states_path is None:
            names = ", ".join(repr(state.name) for state in interaction.provider_states)
            message = (
                f"needs provider state {names}, but {self.context.cell.provider} "
                "declares no provider_states endpoint; replayed without it"
            )
            findings.append(self.finding(interaction, "pact-no-states", message))
            return {}

        values: dict[str, Any] = {}
        for state in interaction.provider_states:
            answer = self.change_state(state, "setup")
            if not answer.ok:
                said = f"setup of provider state {state.name!r} failed: {_said(answer)}"
                findings.append(
                    self.finding(interaction, "pact-state-setup", said, Level.ERROR)
                )
                return None
            done.append(state)
            values.update(_state_values(answer))
        return values

    def change_state(self, state: ProviderState, action: str) -> requests.Response:
        payload = {"state": state.name, "params": dict(state.params), "action": action}
        url = self.base_url.rstrip("/") + "/" + (self.states_path or "").lstrip("/")
        return self.call("POST", url, json=payload)

    def send(self, request: HttpRequest) -> ActualResponse:
        response = self.call(
            request.method,
            request.url(self.base_url),
            headers=request.headers_to_send(),
            data=request.encoded_body(),
        )
        return ActualResponse(
            response.status_code, dict(response.headers), response.content
        )

    def call(self, method: str, url: str, **options: Any) -> requests.Response:
        """One HTTP call; a provider that does not answer ends the whole check."""
        try:
            return self.session.request(
                method, url, timeout=self.timeout, allow_redirects=False, **options
            )
        except requests.Timeout as error:
            reason = f"no answer within {self.timeout:g}s"
            raise _ProviderUnreachable(self.unreachable(url, reason)) from error
        except requests.RequestException as error:
            raise _ProviderUnreachable(self.unreachable(url, _reason(error))) from error

    def unreachable(self, url: str, reason: str) -> str:
        provider = self.context.cell.provider
        return f"provider {provider} cannot be reached at {url}: {reason}"


def _state_values(answer: requests.Response) -> dict[str, Any]:
    """The values a state setup returned, for ``ProviderState`` generators."""
    try:
        values = answer.json()
    except ValueError:
        return {}
    return values if isinstance(values, dict) else {}


def _said(answer: requests.Response) -> str:
    text = answer.text.strip().replace("\n", " ")
    shown = text if len(text) <= 120 else text[:117] + "..."
    return f"HTTP {answer.status_code}" + (f" {shown}" if shown else "")


def _reason(error: requests.RequestException) -> str:
    # requests wraps the socket error deep inside its message; the errno text
    # ("Connection refused") is what a reader needs.
    found = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(error))
    return found[1].strip().lower() if found else type(error).__name__
