"""The rollout gate of one pytest session: plan, instances, results, verdict.

Imported once ``--rollout`` is on, and registered as a plugin of the session:
its hooks add the checks to collection, run marked user tests once per cell,
record what they found, and end the session with the verdict.
"""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from rich.console import Console, RenderableType

from harness.backends import create_backend
from harness.backends.base import Instance
from harness.core.errors import BadInput, EnvironmentFailure, HarnessError
from harness.core.instances import InstanceKey
from harness.core.model import (
    Cell,
    CellResult,
    CheckKind,
    CheckResult,
    Edge,
    Finding,
    Outcome,
    Pairing,
)
from harness.engine.events import RunFinished, RunReport
from harness.engine.pool import InstancePool
from harness.engine.redaction import Redactor
from harness.engine.runner import new_run_id, preflight, run_plan
from harness.planning import Plan, PlannedCell, decide
from harness.pytest_plugin.items import RolloutCheck, RolloutEdge
from harness.pytest_plugin.options import MARKER
from harness.pytest_plugin.settings import Settings, usage_error
from harness.reporting.formats import ReportFile
from harness.reporting.terminal import render_matrix

__all__ = ["Gate"]

_CELL = "rollout_cell"
_FAILED = (Outcome.INCOMPATIBLE, Outcome.ERROR)


@dataclass(frozen=True, slots=True)
class _TestRecord:
    """What one user test found on one cell, over its setup, call and teardown."""

    outcome: Outcome
    finding: Finding | None = None
    duration: float = 0.0


class Gate:
    """The rollout gate of one pytest session: plan, instances and results.

    One backend and one instance pool serve the built-in checks and the user
    tests alike, so each instance starts once per session; both are stopped at
    the end of the session, whatever happened.
    """

    def __init__(
        self,
        plan: Plan,
        backend: str,
        jobs: int | None,
        report_file: ReportFile | None,
        backend_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.plan = plan
        self.backend = backend
        self.backend_options = dict(backend_options or {})
        self.jobs = jobs
        self.report_file = report_file
        self.run_id = new_run_id()
        self.report: RunReport | None = None
        self._redactor = Redactor.from_system(plan.system)
        self._pool: InstancePool | None = None
        self._selected: set[tuple[Cell, CheckKind]] = set()
        self._matrix: dict[tuple[Cell, CheckKind], CheckResult] | None = None
        self._order: tuple[tuple[str, ...], ...] | None = None
        self._tests: dict[Cell, dict[str, _TestRecord]] = {}
        self._began = time.monotonic()

    @classmethod
    def from_config(cls, config: pytest.Config) -> Gate:
        """Read the settings, plan the change and read its documents.

        Any bad setting or document stops the session as a usage error that
        names the option or file and the fix.
        """
        try:
            settings = Settings(config)
            plan = settings.plan()
            preflight(plan)
            backend = settings.backend()
            return cls(
                plan,
                backend,
                settings.jobs(),
                settings.report(),
                settings.backend_options(backend),
            )
        except BadInput as exc:
            raise usage_error(exc) from None

    # Collection

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self, collector: pytest.Collector
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        report = yield
        if isinstance(collector, pytest.Session) and report.passed:
            # The edges join the session's own children, so that pytest
            # collects, counts, selects and reports their checks like tests.
            report.result[:0] = self._edges(collector)
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        # Before -k runs (tryfirst), so that it can select by pairing.
        for item in items:
            cell = _cell_of(item)
            if cell is not None:
                item.extra_keyword_matches.add(cell.pairing.value)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._selected = {
            (item.cell, item.kind)
            for item in session.items
            if isinstance(item, RolloutCheck)
        }

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        marker = metafunc.definition.get_closest_marker(MARKER)
        if marker is None:
            return

        edge = self._marked_edge(marker, metafunc.definition.nodeid)
        cells = [p.cell for p in self.plan.cells if p.cell.edge == edge]
        params = [pytest.param(cell, id=cell.id) for cell in cells]
        if not params:
            reason = f"{edge} is not touched by this change"
            if self.plan.is_empty:
                reason = "nothing to check: no service changes version"
            skip = pytest.mark.skip(reason=reason)
            params = [pytest.param(None, id="untouched", marks=skip)]
        if _CELL not in metafunc.fixturenames:
            # A marked test that asks for no rollout fixture still runs per cell.
            metafunc.fixturenames.append(_CELL)
        metafunc.parametrize(_CELL, params, indirect=True)

    def _marked_edge(self, marker: pytest.Mark, nodeid: str) -> Edge:
        system = self.plan.system
        wanted = (marker.kwargs.get("consumer"), marker.kwargs.get("provider"))
        for spec in system.edges:
            if (spec.consumer, spec.provider) == wanted:
                return spec.edge
        edges = "; ".join(
            f"consumer={e.consumer!r}, provider={e.provider!r}" for e in system.edges
        )
        pytest.fail(
            f"{nodeid}: @pytest.mark.{MARKER}(consumer={wanted[0]!r}, "
            f"provider={wanted[1]!r}) names no edge of {system.source} "
            f"(hint: edges are {edges})",
            pytrace=False,
        )

    def _edges(self, session: pytest.Session) -> list[RolloutEdge]:
        source = self.plan.system.source
        try:
            prefix = source.relative_to(session.config.rootpath).as_posix()
        except ValueError:
            prefix = source.name
        by_edge: dict[str, list[PlannedCell]] = {}
        for planned in self.plan.cells:
            name = f"{planned.cell.edge.consumer}->{planned.cell.edge.provider}"
            by_edge.setdefault(name, []).append(planned)

        return [
            RolloutEdge.from_parent(
                session,
                name=name,
                nodeid=f"{prefix}::{name}",
                path=source,
                cells=tuple(cells),
                gate=self,
            )
            for name, cells in by_edge.items()
        ]

    # Running

    def check_result(self, cell: Cell, kind: CheckKind) -> CheckResult:
        """The result of one built-in check; checks the selected matrix once."""
        if self._matrix is None:
            self._matrix = self._check_matrix()
        return self._matrix[(cell, kind)]

    def _check_matrix(self) -> dict[tuple[Cell, CheckKind], CheckResult]:
        plan = self.plan.only(self._selected)
        try:
            pool = self._shared_pool()
            report = run_plan(plan, pool.backend, (), self.jobs, pool=pool)
        except HarnessError as exc:
            reason = self._redactor.text(str(exc))
            return {
                key: CheckResult.from_error(key[1], reason) for key in self._selected
            }
        if report.verdict.allowed:
            self._order = report.verdict.stages
        return {(r.cell, c.kind): c for r in report.results for c in r.checks}

    def avoided_by(self, cell: Cell) -> str:
        """Why an incompatible ``cell`` does not block the change, or "".

        When the verdict allows the change, a mixed cell that fails is one the
        rollout order never creates, and a failing control cell fails today
        already; neither is this change's failure.
        """
        if self._order is None or cell.pairing is Pairing.AFTER:
            return ""
        if cell.pairing is Pairing.TODAY:
            return "fails today already, before this change"
        order = " then ".join(", ".join(stage) for stage in self._order)
        return f"never happens in the rollout order: {order}"

    def provider(self, cell: Cell) -> Instance:
        """The running provider instance of ``cell``, started on first use."""
        consumer = self._consumer_key(cell)
        return self._instance(dict(consumer.wiring)[cell.edge.provider])

    def consumer(self, cell: Cell) -> Instance:
        """The consumer of ``cell`` running wired to the cell's provider."""
        return self._instance(self._consumer_key(cell))

    def _consumer_key(self, cell: Cell) -> InstanceKey:
        return self.plan.consumer_instance(cell)[-1].key

    def _instance(self, key: InstanceKey) -> Instance:
        try:
            return self._shared_pool().get(key)
        except EnvironmentFailure as exc:
            pytest.fail(self._redactor.text(str(exc)), pytrace=False)

    def _shared_pool(self) -> InstancePool:
        if self._pool is None:
            # The pool knows every instance a cell or a user test may need; it
            # starts only those asked for.
            specs = [*self.plan.instances]
            for planned in self.plan.cells:
                specs += self.plan.consumer_instance(planned.cell)
            backend = create_backend(
                self.backend,
                self.run_id,
                self.plan.system.root,
                **self.backend_options,
            )
            self._pool = InstancePool(backend, specs, _instance_event)
        return self._pool

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        cell = _cell_of(item)
        if cell is not None:
            self._record(cell, item.nodeid, report)
        return report

    def _record(self, cell: Cell, nodeid: str, report: pytest.TestReport) -> None:
        outcome = _phase_outcome(report)
        if outcome is None:
            return
        finding = None
        if outcome in _FAILED:
            finding = Finding(
                message=_crash_line(report),
                location=nodeid.partition("[")[0],
                detail=report.longreprtext,
            )
        tests = self._tests.setdefault(cell, {})
        before = tests.get(nodeid)
        if before is not None:
            outcome = Outcome.worst([before.outcome, outcome])
            finding = before.finding or finding
        duration = report.duration + (before.duration if before else 0.0)
        tests[nodeid] = _TestRecord(outcome, finding, duration)

    # Finishing

    def pytest_sessionfinish(
        self, session: pytest.Session, exitstatus: int | pytest.ExitCode
    ) -> None:
        try:
            if (
                exitstatus == pytest.ExitCode.INTERRUPTED
                or session.config.option.collectonly
            ):
                return
            self.report = self._final_report()
            if self.report is None:
                return
            if self.report_file is not None:
                self.report_file(RunFinished(self.report))
            if not self.report.verdict.allowed and session.exitstatus in (
                pytest.ExitCode.OK,
                pytest.ExitCode.NO_TESTS_COLLECTED,
            ):
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        finally:
            self.close()

    def _final_report(self) -> RunReport | None:
        results = self._results()
        if not results and not self.plan.is_empty:
            return None

        verdict = decide(self.plan.bumps, results)
        planned = sum(len(p.checks) for p in self.plan.cells)
        ran = len(self._matrix or {})
        if ran < planned:
            note = (
                f"only {ran} of {planned} planned checks ran (the others were "
                "deselected or the session stopped early); the verdict covers "
                "only what ran"
            )
            verdict = dataclasses.replace(verdict, advice=(*verdict.advice, note))
        return RunReport(
            run_id=self.run_id,
            system=self.plan.system.name,
            backend=self.backend,
            bumps=self.plan.bumps,
            results=results,
            verdict=verdict,
            duration=time.monotonic() - self._began,
            instances_started=self._pool.started if self._pool else 0,
        )

    def _results(self) -> tuple[CellResult, ...]:
        """Each cell with the built-in checks and user tests that ran on it."""
        matrix = self._matrix or {}
        results = []
        for planned in self.plan.cells:
            cell = planned.cell
            checks = [matrix[(cell, k)] for k in planned.checks if (cell, k) in matrix]
            live = self._live_result(cell)
            if live is not None:
                checks.append(live)
            if checks:
                results.append(CellResult(cell, tuple(checks)))
        return tuple(results)

    def _live_result(self, cell: Cell) -> CheckResult | None:
        tests = self._tests.get(cell)
        if not tests:
            return None
        records = tests.values()
        failed = sum(r.outcome in _FAILED for r in records)
        result = CheckResult(
            CheckKind.LIVE,
            Outcome.worst(r.outcome for r in records),
            tuple(r.finding for r in records if r.finding is not None),
            summary=f"{failed} of {len(tests)} user tests failed",
            duration=sum(r.duration for r in records),
        )
        return self._redactor.result(result)

    def pytest_terminal_summary(
        self, terminalreporter: pytest.TerminalReporter, exitstatus: int
    ) -> None:
        if terminalreporter.config.option.collectonly:
            return
        terminalreporter.write_sep("=", f"rollout {self.plan.system.name}")
        for line in self._headline(exitstatus):
            terminalreporter.write_line(line)
        if self.report is not None:
            self._write_matrix(terminalreporter, self.report)

    def _headline(self, exitstatus: int) -> list[str]:
        if self.plan.is_empty:
            return [
                "nothing to check: no service changes version "
                "(hint: give --rollout-candidate SERVICE=VERSION)"
            ]
        lines = ["bumps: " + ", ".join(str(bump) for bump in self.plan.bumps)]
        if self.report is None and exitstatus == pytest.ExitCode.INTERRUPTED:
            lines.append("no verdict: the session was interrupted")
        elif self.report is None:
            lines.append("no verdict: every cell was deselected")
        return lines

    def _write_matrix(
        self, terminalreporter: pytest.TerminalReporter, report: RunReport
    ) -> None:
        matrix = _rendered(render_matrix(report), terminalreporter.config)
        terminalreporter.write(matrix)
        if report.verdict.allowed:
            return
        why = "the rollout is blocked"
        if report.verdict.environment_failed:
            why = "the environment failed and nothing is known for some cells"
        terminalreporter.write_line(f"{why}, so the session fails", red=True)

    def close(self) -> None:
        """Stop every instance of the session; calling it again is harmless."""
        if self._pool is not None:
            self._pool.close()


def _instance_event(event: object) -> None:
    """Instance events reach the user through check and test results instead."""


def _cell_of(item: pytest.Item) -> Cell | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    cell: Cell | None = callspec.params.get(_CELL)
    return cell


def _phase_outcome(report: pytest.TestReport) -> Outcome | None:
    """What one phase of a user test says about its cell (None: nothing)."""
    if report.when == "call" and hasattr(report, "wasxfail"):
        # An expected failure is still a failure of this pair of versions.
        return Outcome.INCOMPATIBLE if report.skipped else Outcome.COMPATIBLE
    if report.failed:
        return Outcome.INCOMPATIBLE if report.when == "call" else Outcome.ERROR
    if report.skipped:
        return Outcome.SKIPPED
    return Outcome.COMPATIBLE if report.when == "call" else None


def _crash_line(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else report.longreprtext
    lines = str(text).strip().splitlines()
    first = lines[0] if lines else "failed"
    return first if report.when == "call" else f"error in {report.when}: {first}"


def _rendered(renderable: RenderableType, config: pytest.Config) -> str:
    writer = config.get_terminal_writer()
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=writer.fullwidth,
        force_terminal=writer.hasmarkup,
        no_color=not writer.hasmarkup,
        highlight=False,
    )
    console.print(renderable)
    return buffer.getvalue()
