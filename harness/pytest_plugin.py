"""``pytest --rollout``: the rollout gate inside a pytest session.

With ``--rollout``, every planned check of every cell becomes an item such as
``orders@v2->inventory@v1[pact]``, grouped per edge; a test marked
``@pytest.mark.rollout(consumer="storefront", provider="orders")`` runs once per
cell of that edge against running instances; the results of both make the
matrix and the verdict, and a blocked verdict fails the session.

pytest loads this plugin in every session. Without ``--rollout`` it only adds
its options, its marker and its fixtures, so this module imports nothing but
pytest and the standard library; the harness is imported once the gate is on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

if TYPE_CHECKING:
    from rich.console import RenderableType

    from harness.backends.base import Instance
    from harness.core.errors import BadInput, Problem
    from harness.core.instances import InstanceKey
    from harness.core.model import (
        Cell,
        CellResult,
        CheckKind,
        CheckResult,
        Edge,
        Finding,
        Outcome,
    )
    from harness.core.system import System
    from harness.engine.events import RunReport
    from harness.engine.pool import InstancePool
    from harness.engine.redaction import Redactor
    from harness.planning import Plan, PlannedCell
    from harness.reporting.formats import ReportFile

__all__ = [
    "RolloutCheck",
    "RolloutEdge",
    "rollout_cell",
    "rollout_consumer",
    "rollout_provider",
]

_MARKER = "rollout"
_CELL = "rollout_cell"


@dataclass(frozen=True, slots=True)
class _Option:
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


_CONFIG = _Option(
    "--rollout-config",
    "rollout_config",
    "PATH",
    "The system description [default: rollout.yaml in the rootdir].",
)
_CANDIDATE = _Option(
    "--rollout-candidate",
    "rollout_candidates",
    "SERVICE=VERSION",
    "A version the change proposes (repeatable).",
    repeatable=True,
)
_BASELINE = _Option(
    "--rollout-baseline",
    "rollout_baselines",
    "SERVICE=VERSION",
    "Override the version running today (repeatable).",
    repeatable=True,
)
_BASE = _Option(
    "--rollout-base",
    "rollout_base",
    "REF",
    "Git revision whose manifests run today; the change goes from it to "
    "--rollout-head.",
)
_HEAD = _Option(
    "--rollout-head",
    "rollout_head",
    "REF",
    "Git revision of the change, with --rollout-base [default: HEAD].",
)
_BACKEND = _Option(
    "--rollout-backend",
    "rollout_backend",
    "NAME",
    "What starts instances, e.g. process or docker [default: process].",
)
_REPORT = _Option(
    "--rollout-report",
    "rollout_report",
    "PATH",
    "Write the rollout report; the suffix picks the format: .json, .md, "
    ".html, .xml (JUnit).",
)
_JOBS = _Option(
    "--rollout-jobs",
    "rollout_jobs",
    "N",
    "Cells checked in parallel [default: CPU count].",
)
_OPTIONS = (_CONFIG, _CANDIDATE, _BASELINE, _BASE, _HEAD, _BACKEND, _REPORT, _JOBS)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(
        "rollout", "rollout gate: every version pair a rolling update creates"
    )
    group.addoption(
        "--rollout",
        action="store_true",
        help="Check the rollout: planned cells become items, and tests marked "
        "rollout run on every cell of their edge.",
    )
    for option in _OPTIONS:
        group.addoption(
            option.flag,
            action="append" if option.repeatable else "store",
            metavar=option.metavar,
            help=option.help,
        )
        parser.addini(
            option.ini,
            f"{option.help} Same as {option.flag}.",
            type=option.ini_type,
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(consumer, provider): run the test once per cell of the edge "
        "consumer -> provider, against running instances (needs --rollout).",
    )
    if not config.getoption("rollout"):
        _refuse_options_without_rollout(config)
        return

    gate = _Gate.from_config(config)
    config.stash[_GATE] = gate
    # pytest runs cleanups last in reverse order: stop instances, then give
    # SIGTERM back its previous handler.
    signals = contextlib.ExitStack()
    signals.enter_context(_terminate_gracefully())
    config.add_cleanup(signals.close)
    config.add_cleanup(gate.close)
    config.pluginmanager.register(gate, "rollout-gate")


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _GATE not in item.config.stash and item.get_closest_marker(_MARKER):
        pytest.skip("a cross-version test: run pytest with --rollout")


@pytest.fixture
def rollout_cell(request: pytest.FixtureRequest) -> Cell:
    """The cell this test runs on: the edge and the version on each side."""
    _gate_of(request.config)
    cell: Cell | None = getattr(request, "param", None)
    if cell is None:
        pytest.fail(
            f"{request.node.nodeid} uses rollout fixtures; mark it "
            f"@pytest.mark.{_MARKER}(consumer=..., provider=...)",
            pytrace=False,
        )
    return cell


@pytest.fixture
def rollout_provider(request: pytest.FixtureRequest, rollout_cell: Cell) -> Instance:
    """The cell's provider version, running; ``.url`` is its address."""
    return _gate_of(request.config).provider(rollout_cell)


@pytest.fixture
def rollout_consumer(request: pytest.FixtureRequest, rollout_cell: Cell) -> Instance:
    """The cell's consumer version, running and wired to the cell's provider."""
    return _gate_of(request.config).consumer(rollout_cell)


def _gate_of(config: pytest.Config) -> _Gate:
    gate = config.stash.get(_GATE, None)
    if gate is None:
        pytest.skip("a cross-version test: run pytest with --rollout")
    return gate


def _refuse_options_without_rollout(config: pytest.Config) -> None:
    given = [o.flag for o in _OPTIONS if config.getoption(o.dest) is not None]
    if given:
        raise pytest.UsageError(
            f"{', '.join(given)} given without --rollout "
            "(hint: add --rollout to run the rollout gate)"
        )


@contextlib.contextmanager
def _terminate_gracefully() -> Iterator[None]:
    from harness.engine.signals import terminate_gracefully

    with terminate_gracefully():
        yield


class RolloutEdge(pytest.Collector):
    """The checks of one edge's cells, e.g. ``orders->inventory``."""

    def __init__(
        self, *, cells: tuple[PlannedCell, ...], gate: _Gate, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.cells = cells
        self.gate = gate

    def collect(self) -> list[RolloutCheck]:
        return [
            RolloutCheck.from_parent(
                self,
                name=f"{planned.cell.id}[{kind.value}]",
                cell=planned.cell,
                kind=kind,
                gate=self.gate,
            )
            for planned in self.cells
            for kind in planned.checks
        ]


class RolloutCheck(pytest.Item):
    """One check of one cell, e.g. ``orders@v2->inventory@v1[pact]``.

    An incompatible result is a failure, unless the verdict allows the change
    because the rollout order never creates the cell: then it is an expected
    failure that names the order. An error (nothing is known) is a pytest
    error, a skipped check a skip. The whole selected matrix is checked, in
    parallel, when the first of these items runs.
    """

    def __init__(
        self, *, cell: Cell, kind: CheckKind, gate: _Gate, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.cell = cell
        self.kind = kind
        self.gate = gate
        self.result: CheckResult | None = None
        self.add_marker(_MARKER)
        # -k cannot spell "@" or ">", so the kind and the moment are keywords.
        self.extra_keyword_matches.update({kind.value, cell.pairing.value})
        self.user_properties.append(("pairing", cell.pairing.value))

    def setup(self) -> None:
        from harness.core.model import Outcome

        self.result = self.gate.check_result(self.cell, self.kind)
        if self.result.outcome is Outcome.ERROR:
            pytest.fail(_describe(self.cell, self.result), pytrace=False)
        if self.result.outcome is Outcome.SKIPPED:
            pytest.skip(self.result.summary or "skipped by the check")

    def runtest(self) -> None:
        from harness.core.model import Outcome

        if self.result is None or self.result.outcome is not Outcome.INCOMPATIBLE:
            return
        avoided = self.gate.avoided_by(self.cell)
        if avoided:
            pytest.xfail(f"{avoided}\n{_describe(self.cell, self.result)}")
        pytest.fail(_describe(self.cell, self.result), pytrace=False)

    def reportinfo(self) -> tuple[Path, None, str]:
        return self.path, None, self.name


def _describe(cell: Cell, result: CheckResult) -> str:
    from harness.core.model import Level

    lines = [
        f"{cell} ({cell.pairing.description}): "
        f"{result.kind.value} {result.outcome.value}"
    ]
    if result.summary:
        lines.append(result.summary)
    for finding in result.findings:
        where = f"{finding.location}: " if finding.location else ""
        level = "" if finding.level is Level.ERROR else f"{finding.level.value}: "
        lines.append(f"  {level}{where}{finding.message}")
        lines += [f"    {line}" for line in finding.detail.splitlines()]
    if result.replay:
        lines.append(f"replay: {result.replay}")
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class _TestRecord:
    """What one user test found on one cell, over its setup, call and teardown."""

    outcome: Outcome
    finding: Finding | None = None
    duration: float = 0.0


class _Gate:
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
    ) -> None:
        from harness.engine.redaction import Redactor
        from harness.engine.runner import new_run_id

        self.plan = plan
        self.backend = backend
        self.jobs = jobs
        self.report_file = report_file
        self.run_id = new_run_id()
        self.report: RunReport | None = None
        self._redactor: Redactor = Redactor.from_system(plan.system)
        self._pool: InstancePool | None = None
        self._selected: set[tuple[Cell, CheckKind]] = set()
        self._matrix: dict[tuple[Cell, CheckKind], CheckResult] | None = None
        self._order: tuple[tuple[str, ...], ...] | None = None
        self._tests: dict[Cell, dict[str, _TestRecord]] = {}
        self._began = time.monotonic()

    @classmethod
    def from_config(cls, config: pytest.Config) -> _Gate:
        """Read the settings, plan the change and read its documents.

        Any bad setting or document stops the session as a usage error that
        names the option or file and the fix.
        """
        from harness.core.errors import BadInput
        from harness.engine.runner import preflight

        try:
            settings = _Settings(config)
            plan = settings.plan()
            preflight(plan)
            return cls(plan, settings.backend(), settings.jobs(), settings.report())
        except BadInput as exc:
            raise _usage_error(exc) from None

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
        marker = metafunc.definition.get_closest_marker(_MARKER)
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
            f"{nodeid}: @pytest.mark.{_MARKER}(consumer={wanted[0]!r}, "
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
        from harness.core.errors import HarnessError
        from harness.core.model import CheckResult
        from harness.engine.runner import run_plan

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
        from harness.core.model import Pairing

        if self._order is None or cell.pairing is Pairing.AFTER:
            return ""
        if cell.pairing is Pairing.TODAY:
            return "fails today already, before this change"
        order = " then ".join(", ".join(stage) for stage in self._order)
        return f"never happens in the rollout order: {order}"

    def provider(self, cell: Cell) -> Instance:
        """The running provider instance of ``cell``, started on first use."""
        consumer = self.plan.consumer_instance(cell)[-1].key
        return self._instance(dict(consumer.wiring)[cell.edge.provider])

    def consumer(self, cell: Cell) -> Instance:
        """The consumer of ``cell`` running wired to the cell's provider."""
        return self._instance(self.plan.consumer_instance(cell)[-1].key)

    def _instance(self, key: InstanceKey) -> Instance:
        from harness.core.errors import EnvironmentFailure

        try:
            return self._shared_pool().get(key)
        except EnvironmentFailure as exc:
            pytest.fail(self._redactor.text(str(exc)), pytrace=False)

    def _shared_pool(self) -> InstancePool:
        from harness.backends import create_backend
        from harness.engine.pool import InstancePool

        if self._pool is None:
            # The pool knows every instance a cell or a user test may need; it
            # starts only those asked for.
            specs = [*self.plan.instances]
            for planned in self.plan.cells:
                specs += self.plan.consumer_instance(planned.cell)
            backend = create_backend(self.backend, self.run_id, self.plan.system.root)
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
        from harness.core.model import Finding, Outcome

        outcome = _phase_outcome(report)
        if outcome is None:
            return
        finding = None
        if outcome in (Outcome.INCOMPATIBLE, Outcome.ERROR):
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
        from harness.engine.events import RunFinished

        try:
            if (
                exitstatus == pytest.ExitCode.INTERRUPTED
                or session.config.option.collectonly
            ):
                return
            self.report = self._final_report(session)
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

    def _final_report(self, session: pytest.Session) -> RunReport | None:
        from harness.engine.events import RunReport
        from harness.planning import decide

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
        stopped = session.shouldfail or session.shouldstop
        return RunReport(
            run_id=self.run_id,
            system=self.plan.system.name,
            backend=self.backend,
            bumps=self.plan.bumps,
            results=results,
            verdict=verdict,
            duration=time.monotonic() - self._began,
            instances_started=self._pool.started if self._pool else 0,
            stopped_early=stopped if isinstance(stopped, str) else "",
        )

    def _results(self) -> tuple[CellResult, ...]:
        """Each cell with the built-in checks and user tests that ran on it."""
        from harness.core.model import CellResult

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
        from harness.core.model import CheckKind, CheckResult, Outcome

        tests = self._tests.get(cell)
        if not tests:
            return None
        records = tests.values()
        failed = sum(
            r.outcome in (Outcome.INCOMPATIBLE, Outcome.ERROR) for r in records
        )
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
        from harness.reporting.terminal import render_matrix

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


_GATE = pytest.StashKey[_Gate]()


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
    from harness.core.model import Outcome

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
    from rich.console import Console

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


class _Settings:
    """The gate's settings: the command line wins over the ini file."""

    def __init__(self, config: pytest.Config) -> None:
        from harness.core.config import DEFAULT_CONFIG, load_system

        self._config = config
        path = self._path(_CONFIG) or config.rootpath / DEFAULT_CONFIG
        if not path.is_file():
            where = self._given(_CONFIG)
            raise _bad(
                where[1] if where else _CONFIG.flag,
                f"{path} is not a file",
                f"pass {_CONFIG.flag} PATH or set {_CONFIG.ini} in the ini file; "
                f"the default is {DEFAULT_CONFIG} in the rootdir",
            )
        self.system: System = load_system(path)

    def plan(self) -> Plan:
        from harness.planning import plan_change

        baselines, candidates = self._git_change()
        baselines |= self._assignments(_BASELINE)
        candidates |= self._assignments(_CANDIDATE)
        return plan_change(self.system, candidates, baselines)

    def backend(self) -> str:
        from harness.backends import BACKENDS

        name, where = self._given(_BACKEND) or ("process", "")
        if name not in BACKENDS:
            raise _bad(
                where,
                f"unknown backend {name!r}",
                "choose one of: " + ", ".join(BACKENDS),
            )
        return name

    def jobs(self) -> int | None:
        given = self._given(_JOBS)
        if given is None:
            return None
        text, where = given
        if not text.isdigit() or int(text) < 1:
            raise _bad(
                where, f"{text!r} is not a number of jobs", "give a whole number >= 1"
            )
        return int(text)

    def report(self) -> ReportFile | None:
        from harness.core.errors import BadInput
        from harness.reporting.formats import ReportFile

        path = self._path(_REPORT)
        if path is None:
            return None
        if self._config.getoption(_REPORT.dest) is not None:
            return ReportFile(path, option=_REPORT.flag)
        try:
            return ReportFile(path, option=_REPORT.ini)
        except BadInput as exc:
            raise self._refiled(exc) from None

    def _git_change(self) -> tuple[dict[str, str], dict[str, str]]:
        from harness.core.errors import BadInput

        base, head = self._given(_BASE), self._given(_HEAD)
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
                f"give the versions with {_CANDIDATE.flag} SERVICE=VERSION",
            ) from None
        try:
            change = bumps_from_git(self.system, base[0], head[0] if head else "HEAD")
        except BadInput as exc:
            heading = f"{base[1]}: cannot read the change from git"
            raise _usage_error(exc, heading) from None
        return dict(change.baselines), dict(change.candidates)

    def _assignments(self, option: _Option) -> dict[str, str]:
        from harness.core.config import parse_assignments
        from harness.core.errors import BadInput

        ini: list[str] = self._config.getini(option.ini)
        try:
            from_ini = parse_assignments(ini, option.ini, self.system)
        except BadInput as exc:
            raise self._refiled(exc) from None
        given: list[str] = self._config.getoption(option.dest) or []
        return from_ini | parse_assignments(given, option.flag, self.system)

    def _given(self, option: _Option) -> tuple[str, str] | None:
        """The setting's text and where it came from, for error messages."""
        value: str | None = self._config.getoption(option.dest)
        if value is not None:
            return value, option.flag
        text: str = self._config.getini(option.ini)
        if text:
            return text, f"{self._ini_name}: {option.ini}"
        return None

    def _path(self, option: _Option) -> Path | None:
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
        from harness.core.errors import ConfigError

        return ConfigError(
            [dataclasses.replace(p, file=self._ini_name) for p in exc.problems]
        )


def _bad(where: str, message: str, hint: str) -> pytest.UsageError:
    return pytest.UsageError(f"{where}: {message} (hint: {hint})")


def _usage_error(
    exc: BadInput, heading: str = "rollout: bad input"
) -> pytest.UsageError:
    lines = [heading, *(f"  {_problem(problem)}" for problem in exc.problems)]
    return pytest.UsageError("\n".join(lines))


def _problem(problem: Problem) -> str:
    # Problems of command-line values name the option; saying "command line"
    # in front of "--rollout-candidate" adds nothing.
    if problem.file == "command line":
        problem = dataclasses.replace(problem, file=problem.path, path="")
    return str(problem)
