"""The plugin's command-line options, ini settings and marker.

pytest loads this module in every session, so it imports nothing but pytest
and the standard library; :mod:`harness.pytest_plugin.settings` reads the
values once ``--rollout`` is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest

__all__ = [
    "BACKEND",
    "BASE",
    "BASELINE",
    "CANDIDATE",
    "CONFIG",
    "CONTEXT",
    "HEAD",
    "JOBS",
    "KUBECONFIG",
    "MARKER",
    "OPTIONS",
    "REPORT",
    "Option",
    "refuse_options_without_rollout",
]

MARKER = "rollout"


@dataclass(frozen=True, slots=True)
class Option:
    """A setting given as ``--rollout-*`` on the command line or in the ini file."""

    flag: str
    ini: str
    metavar: str
    help: str
    repeatable: bool = False

    @property
    def dest(self) -> str:
        return self.flag.removeprefix("--").replace("-", "_")

    @property
    def ini_type(self) -> Literal["linelist", "string"]:
        return "linelist" if self.repeatable else "string"


CONFIG = Option(
    "--rollout-config",
    "rollout_config",
    "PATH",
    "The system description [default: rollout.yaml in the rootdir].",
)
CANDIDATE = Option(
    "--rollout-candidate",
    "rollout_candidates",
    "SERVICE=VERSION",
    "A version the change proposes (repeatable).",
    repeatable=True,
)
BASELINE = Option(
    "--rollout-baseline",
    "rollout_baselines",
    "SERVICE=VERSION",
    "Override the version running today (repeatable).",
    repeatable=True,
)
BASE = Option(
    "--rollout-base",
    "rollout_base",
    "REF",
    "Git revision whose manifests run today; the change goes from it to "
    "--rollout-head.",
)
HEAD = Option(
    "--rollout-head",
    "rollout_head",
    "REF",
    "Git revision of the change, with --rollout-base [default: HEAD].",
)
BACKEND = Option(
    "--rollout-backend",
    "rollout_backend",
    "NAME",
    "What starts instances: process, docker or kubernetes [default: process].",
)
REPORT = Option(
    "--rollout-report",
    "rollout_report",
    "PATH",
    "Write the rollout report; the suffix picks the format: .json, .md, "
    ".html, .xml (JUnit).",
)
JOBS = Option(
    "--rollout-jobs",
    "rollout_jobs",
    "N",
    "Cells checked in parallel [default: CPU count].",
)
KUBECONFIG = Option(
    "--rollout-kubeconfig",
    "rollout_kubeconfig",
    "PATH",
    "kubernetes backend: the kubeconfig of the cluster [default: $KUBECONFIG].",
)
CONTEXT = Option(
    "--rollout-context",
    "rollout_context",
    "NAME",
    "kubernetes backend: the kubeconfig context [default: its current one].",
)
OPTIONS = (
    CONFIG,
    CANDIDATE,
    BASELINE,
    BASE,
    HEAD,
    BACKEND,
    KUBECONFIG,
    CONTEXT,
    REPORT,
    JOBS,
)


def refuse_options_without_rollout(config: pytest.Config) -> None:
    """Stop the session if a ``--rollout-*`` option is given without ``--rollout``."""
    given = [o.flag for o in OPTIONS if config.getoption(o.dest) is not None]
    if given:
        raise pytest.UsageError(
            f"{', '.join(given)} given without --rollout "
            "(hint: add --rollout to run the rollout gate)"
        )
