"""What a diff finds: changes, the direction they break in, and the result."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from harness.core.model import Finding, Level

__all__ = ["Change", "DiffResult", "Direction"]

_SEVERITY = {Level.ERROR: 2, Level.WARNING: 1, Level.INFO: 0}


class Direction(enum.Enum):
    """Which clients and servers a diff pairs.

    ``backward``: clients built against BASE talk to a server at REVISION (the
    provider rolled first). ``forward``: clients built against REVISION talk to
    a server at BASE (the consumer rolled first, or the provider rolled back).
    """

    BACKWARD = "backward"
    FORWARD = "forward"
    BOTH = "both"

    @property
    def description(self) -> str:
        """Who talks to whom in this direction."""
        return _DESCRIPTIONS[self]

    def singles(self) -> tuple[Direction, ...]:
        """The one-way diffs this direction needs."""
        if self is Direction.BOTH:
            return (Direction.BACKWARD, Direction.FORWARD)
        return (self,)


_DESCRIPTIONS = {
    Direction.BACKWARD: "clients built against BASE, server at REVISION",
    Direction.FORWARD: "clients built against REVISION, server at BASE",
    Direction.BOTH: "both pairings",
}


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two documents and whom it breaks.

    ``base`` and ``revision`` locate it in each document as ``#/json/pointer``
    (or ``file.yaml#/pointer`` for a referenced file); empty where the thing is
    absent. ``operation`` is ``METHOD /path``, empty for document-wide changes.
    """

    rule: str
    level: Level
    operation: str
    message: str
    base: str
    revision: str
    direction: Direction

    def reaches(self, threshold: Level) -> bool:
        """Whether the change is at least as serious as ``threshold``."""
        return _SEVERITY[self.level] >= _SEVERITY[threshold]

    def to_finding(self) -> Finding:
        """The change as a finding of a check: where, what, then both locations."""
        detail = (
            f"base {self.base or '-'}, revision {self.revision or '-'} "
            f"({self.direction.value}: {self.direction.description})"
        )
        return Finding(
            message=self.message,
            level=self.level,
            rule=self.rule,
            location=self.operation,
            detail=detail,
        )


@dataclass(frozen=True, slots=True)
class DiffResult:
    """Everything a diff of BASE and REVISION found, ignored changes apart."""

    base: Path
    revision: Path
    direction: Direction
    changes: tuple[Change, ...]
    ignored: tuple[Change, ...] = ()
    operations: int = 0

    def reaching(self, threshold: Level) -> tuple[Change, ...]:
        """The changes at least as serious as ``threshold``."""
        return tuple(c for c in self.changes if c.reaches(threshold))

    def counts(self) -> dict[Level, int]:
        """How many changes of each level, every level present."""
        found = Counter(change.level for change in self.changes)
        return {level: found.get(level, 0) for level in Level}

    def ordered(self) -> tuple[Change, ...]:
        """The changes, most serious first, then by operation."""
        return tuple(
            sorted(
                self.changes,
                key=lambda c: (-_SEVERITY[c.level], c.operation, c.direction.value),
            )
        )
