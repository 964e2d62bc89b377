"""One module per check kind; each turns a cell into a CheckResult."""

from __future__ import annotations

from harness.checks import conformance, pact, spec_diff, stream
from harness.checks.base import Check, CheckContext
from harness.core.model import CheckKind

__all__ = ["CHECKS", "Check", "CheckContext"]

CHECKS: dict[CheckKind, Check] = {
    CheckKind.SPEC_DIFF: spec_diff.CHECK,
    CheckKind.PACT: pact.CHECK,
    CheckKind.CONFORMANCE: conformance.CHECK,
    CheckKind.STREAM: stream.CHECK,
}
