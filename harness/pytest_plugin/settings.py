"""Reading the gate's settings, and bad input as pytest usage errors.

Imported once ``--rollout`` is on: every bad setting or document stops the
session before anything starts, naming the option or file and the fix.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from harness.backends import BACKENDS
from harness.core.config import DEFAULT_CONFIG, load_system, parse_assignments
from harness.core.errors import BadInput, ConfigError, Problem
from harness.core.system import System
from harness.engine.gate import backend_options
from harness.planning import Plan, plan_change
from harness.pytest_plugin.options import (
    BACKEND,
    BASE,
    BASELINE,
    CANDIDATE,
    CONFIG,
    CONTEXT,
    HEAD,
    JOBS,
    KUBECONFIG,
    REPORT,
    Option,
)
from harness.reporting.formats import ReportFile

__all__ = ["Settings", "usage_error"]


class Settings:
    """The gate's settings: the command line wins over the ini file."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config
        path = self._path(CONFIG) or config.rootpath / DEFAULT_CONFIG
        if not path.is_file():
            where = self._given(CONFIG)
            raise _bad(
                where[1] if where else CONFIG.flag,
                f"{path} is not a file",
                f"pass {CONFIG.flag} PATH or set {CONFIG.ini} in the ini file; "
                f"the default is {DEFAULT_CONFIG} in the rootdir",
            )
        self.system: System = load_system(path)

    def plan(self) -> Plan:
        """The change's plan: versions from git first, then from the options."""
        baselines, candidates = self._git_change()
        baselines |= self._assignments(BASELINE)
        candidates |= self._assignments(CANDIDATE)
        return plan_change(self.system, candidates, baselines)

    def backend(self) -> str:
        """The name of the backend that starts instances."""
        name, where = self._given(BACKEND) or ("process", "")
        if name not in BACKENDS:
            raise _bad(
                where,
                f"unknown backend {name!r}",
                "choose one of: " + ", ".join(BACKENDS),
            )
        return name

    def backend_options(self, backend: str) -> dict[str, Any]:
        """The options the backend is created with (the cluster, for kubernetes)."""
        cluster = {
            "kubeconfig": self._given(KUBECONFIG),
            "context": self._given(CONTEXT),
        }
        if backend != "kubernetes":
            for given in cluster.values():
                if given is not None:
                    raise _bad(
                        given[1],
                        f"the {backend} backend talks to no cluster",
                        f"add {BACKEND.flag} kubernetes, or leave it out",
                    )
            return {}
        chosen = {key: given[0] for key, given in cluster.items() if given}
        return backend_options(self.system, backend, chosen)

    def jobs(self) -> int | None:
        """How many cells are checked in parallel (None: the CPU count)."""
        given = self._given(JOBS)
        if given is None:
            return None
        text, where = given
        if not text.isdigit() or int(text) < 1:
            raise _bad(
                where, f"{text!r} is not a number of jobs", "give a whole number >= 1"
            )
        return int(text)

    def report(self) -> ReportFile | None:
        """The report file to write at the end of the session, if one is asked for."""
        path = self._path(REPORT)
        if path is None:
            return None
        if self._config.getoption(REPORT.dest) is not None:
            return ReportFile(path, option=REPORT.flag)
        try:
            return ReportFile(path, option=REPORT.ini)
        except BadInput as exc:
            raise self._refiled(exc) from None

    def _git_change(self) -> tuple[dict[str, str], dict[str, str]]:
        base, head = self._given(BASE), self._given(HEAD)
        if base is None:
            if head is not None:
                raise _bad(head[1], "needs a base revision", "add --rollout-base")
            return {}, {}

        try:
            from harness.manifests import bumps_from_git
        except ImportError:
            raise _bad(
                base[1],
                "reading the change from git needs harness.manifests, which this "
                "installation lacks",
                f"give the versions with {CANDIDATE.flag} SERVICE=VERSION",
            ) from None
        try:
            change = bumps_from_git(self.system, base[0], head[0] if head else "HEAD")
        except BadInput as exc:
            heading = f"{base[1]}: cannot read the change from git"
            raise usage_error(exc, heading) from None
        return dict(change.baselines), dict(change.candidates)

    def _assignments(self, option: Option) -> dict[str, str]:
        ini: list[str] = self._config.getini(option.ini)
        try:
            from_ini = parse_assignments(ini, option.ini, self.system)
        except BadInput as exc:
            raise self._refiled(exc) from None
        given: list[str] = self._config.getoption(option.dest) or []
        return from_ini | parse_assignments(given, option.flag, self.system)

    def _given(self, option: Option) -> tuple[str, str] | None:
        """The setting's text and where it came from, for error messages."""
        value: str | None = self._config.getoption(option.dest)
        if value is not None:
            return value, option.flag
        text: str = self._config.getini(option.ini)
        if text:
            return text, f"{self._ini_name}: {option.ini}"
        return None

    def _path(self, option: Option) -> Path | None:
        """A path setting: relative to where pytest runs, or to the ini file."""
        value: str | None = self._config.getoption(option.dest)
        if value is not None:
            return self._config.invocation_params.dir / value
        text: str = self._config.getini(option.ini)
        if text:
            inipath = self._config.inipath
            return (inipath.parent if inipath else self._config.rootpath) / text
        return None

    @property
    def _ini_name(self) -> str:
        inipath = self._config.inipath
        return str(inipath) if inipath else "ini"

    def _refiled(self, exc: BadInput) -> BadInput:
        """The problems of an ini value, filed under the ini file."""
        return ConfigError(
            [dataclasses.replace(p, file=self._ini_name) for p in exc.problems]
        )


def usage_error(
    exc: BadInput, heading: str = "rollout: bad input"
) -> pytest.UsageError:
    """The problems of ``exc`` as one pytest usage error under ``heading``."""
    lines = [heading, *(f"  {_problem(problem)}" for problem in exc.problems)]
    return pytest.UsageError("\n".join(lines))


def _bad(where: str, message: str, hint: str) -> pytest.UsageError:
    return pytest.UsageError(f"{where}: {message} (hint: {hint})")


def _problem(problem: Problem) -> str:
    # Problems of command-line values name the option; saying "command line"
    # in front of "--rollout-candidate" adds nothing.
    if problem.file == "command line":
        problem = dataclasses.replace(problem, file=problem.path, path="")
    return str(problem)
