"""The one exception tree of the harness.

Three branches, because three different people act on them::

    HarnessError
    ├── BadInput              the user's config, contract or arguments (exit 2)
    │   ├── ConfigError       rollout.yaml and command-line values
    │   ├── ContractError     OpenAPI, AsyncAPI, JSON Schema and Pact documents
    │   └── ManifestError     Kubernetes manifests and git revisions
    └── EnvironmentFailure    the machine or an engine failed (exit 3)
        ├── BackendUnavailable   Docker or a cluster cannot be reached
        └── InstanceStartError   an instance did not start or become healthy

Incompatibility is not an exception: it is an outcome in the matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BackendUnavailable",
    "BadInput",
    "ConfigError",
    "ContractError",
    "EnvironmentFailure",
    "HarnessError",
    "InstanceStartError",
    "ManifestError",
    "Problem",
]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, located precisely enough to fix it."""

    file: str
    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        text = f"{where}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


class HarnessError(Exception):
    """Root of every error the harness raises on purpose."""

    exit_code = 1


class BadInput(HarnessError):
    """The input cannot be used; the message says where and how to fix it.

    Carries every problem found, so that a user fixes them all in one pass.
    """

    exit_code = 2

    def __init__(self, problems: Sequence[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(file="", path="", message=problems)]
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(BadInput):
    """rollout.yaml or a command-line value is invalid."""


class ContractError(BadInput):
    """A contract document is missing, unreadable or invalid."""


class ManifestError(BadInput):
    """A Kubernetes manifest or a git revision cannot be read."""


class EnvironmentFailure(HarnessError):
    """The environment failed, so nothing is known about compatibility."""

    exit_code = 3


class BackendUnavailable(EnvironmentFailure):
    """The engine behind a backend (Docker, a cluster) cannot be reached."""


class InstanceStartError(EnvironmentFailure):
    """An instance did not start or never became healthy.

    ``logs`` holds the instance's last log lines, for the report.
    """

    def __init__(self, instance: str, reason: str, logs: str = "") -> None:
        self.instance = instance
        self.reason = reason
        self.logs = logs
        message = f"instance {instance} did not start: {reason}"
        if logs:
            message += "\n--- last log lines ---\n" + logs
        super().__init__(message)
