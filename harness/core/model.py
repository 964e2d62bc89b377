"""Value types shared by every layer: cells, checks, findings and outcomes."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "Bump",
    "Cell",
    "CellResult",
    "CheckKind",
    "CheckResult",
    "Decision",
    "Edge",
    "Finding",
    "Level",
    "Outcome",
    "Pairing",
    "Protocol",
    "ServiceVersion",
    "Verdict",
]


class Outcome(enum.Enum):
    """What is known about a cell or a check."""

    COMPATIBLE = "compatible"
    INCOMPATIBLE = "incompatible"
    ERROR = "error"
    SKIPPED = "skipped"

    @classmethod
    def worst(cls, outcomes: Iterable[Outcome]) -> Outcome:
        """Combine outcomes: a proven break wins, and an error is never compatible."""
        seen = set(outcomes)
        for outcome in (cls.INCOMPATIBLE, cls.ERROR, cls.COMPATIBLE):
            if outcome in seen:
                return outcome
        return cls.SKIPPED


class Level(enum.Enum):
    """How serious a finding is; only ``error`` findings make a check fail."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Protocol(enum.Enum):
    """How a consumer talks to a provider along an edge."""

    HTTP = "http"
    WEBSOCKET = "websocket"


class CheckKind(enum.Enum):
    """The kinds of verification a cell can get, cheapest first."""

    SPEC_DIFF = "spec-diff"
    PACT = "pact"
    CONFORMANCE = "conformance"
    STREAM = "stream"
    # The consumer version runs wired to the provider version and user tests
    # (the pytest plugin's marked tests) exercise the real path end to end.
    LIVE = "live"

    @property
    def needs_instances(self) -> bool:
        return self is not CheckKind.SPEC_DIFF


class Pairing(enum.Enum):
    """Which moment of a rolling update a cell stands for (DESIGN.md's table)."""

    TODAY = "today"
    PROVIDER_AHEAD = "provider-ahead"
    CONSUMER_AHEAD = "consumer-ahead"
    AFTER = "after"

    @property
    def description(self) -> str:
        return _PAIRING_TEXT[self]


_PAIRING_TEXT = {
    Pairing.TODAY: "today (control)",
    Pairing.PROVIDER_AHEAD: "provider rolled first",
    Pairing.CONSUMER_AHEAD: "consumer rolled first",
    Pairing.AFTER: "after the rollout",
}


@dataclass(frozen=True, slots=True, order=True)
class ServiceVersion:
    """One named build of one service, written ``service@version``."""

    service: str
    version: str

    def __str__(self) -> str:
        return f"{self.service}@{self.version}"


@dataclass(frozen=True, slots=True)
class Edge:
    """A dependency: ``consumer`` calls ``provider`` over ``protocol``."""

    consumer: str
    provider: str
    protocol: Protocol = Protocol.HTTP

    def __str__(self) -> str:
        return f"{self.consumer} -> {self.provider}"


@dataclass(frozen=True, slots=True)
class Bump:
    """A service whose candidate version differs from its baseline."""

    service: str
    baseline: str
    candidate: str

    def __str__(self) -> str:
        return f"{self.service} {self.baseline} -> {self.candidate}"


@dataclass(frozen=True, slots=True)
class Cell:
    """One edge at one pair of versions, e.g. ``orders@v2 -> inventory@v1``."""

    edge: Edge
    consumer_version: str
    provider_version: str
    pairing: Pairing

    @property
    def consumer(self) -> ServiceVersion:
        return ServiceVersion(self.edge.consumer, self.consumer_version)

    @property
    def provider(self) -> ServiceVersion:
        return ServiceVersion(self.edge.provider, self.provider_version)

    @property
    def id(self) -> str:
        return f"{self.consumer}->{self.provider}"

    def __str__(self) -> str:
        return f"{self.consumer} -> {self.provider}"


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation of a check; ``error`` findings make the check fail."""

    message: str
    level: Level = Level.ERROR
    rule: str = ""
    location: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one check on one cell, with what it found."""

    kind: CheckKind
    outcome: Outcome
    findings: tuple[Finding, ...] = ()
    summary: str = ""
    duration: float = 0.0
    replay: str = ""

    @classmethod
    def from_findings(
        cls,
        kind: CheckKind,
        findings: Iterable[Finding],
        summary: str = "",
        duration: float = 0.0,
        replay: str = "",
    ) -> CheckResult:
        """Compatible unless a finding is at the ``error`` level."""
        found = tuple(findings)
        failed = any(f.level is Level.ERROR for f in found)
        outcome = Outcome.INCOMPATIBLE if failed else Outcome.COMPATIBLE
        return cls(kind, outcome, found, summary, duration, replay)

    @classmethod
    def from_error(cls, kind: CheckKind, reason: str, logs: str = "") -> CheckResult:
        """Nothing is known: the harness or the environment failed."""
        finding = Finding(message=reason, detail=logs)
        return cls(kind, Outcome.ERROR, (finding,), summary=reason)

    @classmethod
    def skipped(cls, kind: CheckKind, reason: str) -> CheckResult:
        return cls(kind, Outcome.SKIPPED, summary=reason)


@dataclass(frozen=True, slots=True)
class CellResult:
    """A cell and the results of every check that ran on it."""

    cell: Cell
    checks: tuple[CheckResult, ...] = field(default_factory=tuple)

    @property
    def outcome(self) -> Outcome:
        return Outcome.worst(check.outcome for check in self.checks)

    def failures(self) -> tuple[Finding, ...]:
        """The findings that make this cell fail, across its checks."""
        return tuple(
            finding
            for check in self.checks
            if check.outcome in (Outcome.INCOMPATIBLE, Outcome.ERROR)
            for finding in check.findings
            if finding.level is Level.ERROR
        )


class Decision(enum.Enum):
    """Whether the change may roll."""

    ALLOWED = "allowed"
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The gate's answer: may the change roll, why not, and in which order."""

    decision: Decision
    reasons: tuple[str, ...] = ()
    stages: tuple[tuple[str, ...], ...] = ()
    advice: tuple[str, ...] = ()
    environment_failed: bool = False

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOWED

    @property
    def exit_code(self) -> int:
        """0 allowed, 1 blocked, 3 when the environment failed (fail closed)."""
        if self.environment_failed:
            return 3
        return 0 if self.allowed else 1
