"""Keeping secret values given to instances out of every report.

Instances receive the harness's environment and their configured ``env``; their
log lines and error messages end up in findings. Values of variables whose names
look secret are replaced before any listener sees them.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Mapping

from harness.core.model import CheckResult
from harness.core.system import System

__all__ = ["Redactor"]

_SECRET_NAME = re.compile(
    r"secret|token|passw|credential|private|api[_-]?key|auth|session|cookie", re.I
)
# Shorter values ("1", "true") would blank out unrelated text.
_MIN_LENGTH = 4
MASK = "********"


class Redactor:
    """Replaces known secret values in text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        values = sorted({s for s in secrets if len(s) >= _MIN_LENGTH}, key=len)
        self._values = list(reversed(values))

    @classmethod
    def from_system(
        cls, system: System, environ: Mapping[str, str] | None = None
    ) -> Redactor:
        """Secrets of the host environment and of every version's ``env``."""
        sources = [environ if environ is not None else os.environ]
        sources += [
            version.env
            for service in system.services.values()
            for version in service.versions.values()
        ]
        return cls(
            value
            for source in sources
            for name, value in source.items()
            if _SECRET_NAME.search(name)
        )

    def text(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, MASK)
        return text

    def result(self, result: CheckResult) -> CheckResult:
        """The same result with secrets removed from its texts."""
        if not self._values:
            return result
        findings = tuple(
            dataclasses.replace(
                finding,
                message=self.text(finding.message),
                detail=self.text(finding.detail),
                location=self.text(finding.location),
            )
            for finding in result.findings
        )
        return dataclasses.replace(
            result, findings=findings, summary=self.text(result.summary)
        )
