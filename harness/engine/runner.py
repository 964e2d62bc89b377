"""Runs a plan on a backend: static checks first, then every cell in parallel."""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from harness.backends.base import Backend, Instance
from harness.checks import CHECKS
from harness.checks.base import CheckContext
from harness.core.errors import (
    BadInput,
    ContractError,
    EnvironmentFailure,
    InstanceStartError,
    Problem,
)
from harness.core.instances import InstanceKey
from harness.core.model import CellResult, CheckKind, CheckResult
from harness.engine.events import (
    CellFinished,
    CheckFinished,
    Event,
    InstanceFailed,
    Listener,
    RunFinished,
    RunReport,
    RunStarted,
)
from harness.engine.pool import InstancePool
from harness.engine.redaction import Redactor
from harness.planning import Plan, PlannedCell, decide

__all__ = ["new_run_id", "preflight", "run_plan"]

logger = logging.getLogger(__name__)


def new_run_id() -> str:
    """A short unique id; every instance of the run is labelled with it."""
    return f"rollout-{secrets.token_hex(4)}"


def preflight(plan: Plan) -> None:
    """Read every document the plan's checks need, before anything starts.

    Raises one :class:`ContractError` listing every broken document.
    """
    problems: list[Problem] = []
    for planned in plan.cells:
        context = CheckContext(plan.system, planned.cell, planned.edge)
        for kind in planned.checks:
            try:
                CHECKS[kind].preflight(context)
            except BadInput as exc:
                problems.extend(exc.problems)
    if problems:
        raise ContractError(list(dict.fromkeys(problems)))


def run_plan(
    plan: Plan,
    backend: Backend,
    listeners: Iterable[Listener] = (),
    jobs: int | None = None,
    pool: InstancePool | None = None,
) -> RunReport:
    """Check every cell of ``plan`` and decide the verdict.

    Instances are started once each and shared by all cells; everything the
    backend started is stopped before this returns or raises. A ``pool`` given
    by the caller (it must know the plan's instances) is shared: it reports its
    instance events to its own listener and stays open for its owner to close,
    unless the run is aborted.
    """
    preflight(plan)
    run = _Run(plan, backend, list(listeners), jobs or os.cpu_count() or 2, pool)
    return run.execute()


class _Run:
    def __init__(
        self,
        plan: Plan,
        backend: Backend,
        listeners: list[Listener],
        jobs: int,
        pool: InstancePool | None = None,
    ) -> None:
        self.plan = plan
        self.backend = backend
        self.jobs = jobs
        self._listeners = listeners
        self._emit_lock = threading.Lock()
        self._redactor = Redactor.from_system(plan.system)
        self._owns_pool = pool is None
        self.pool = pool or InstancePool(backend, plan.instances, self.emit)

    def emit(self, event: Event) -> None:
        if isinstance(event, InstanceFailed):
            event = InstanceFailed(
                event.key,
                self._redactor.text(event.reason),
                self._redactor.text(event.logs),
            )
        # Listeners (terminal, reports) are written for one thread at a time.
        with self._emit_lock:
            for listener in self._listeners:
                listener(event)

    def execute(self) -> RunReport:
        began = time.monotonic()
        self.emit(
            RunStarted(
                self.backend.run_id,
                self.backend.name,
                tuple(p.cell for p in self.plan.cells),
                tuple(spec.key for spec in self.plan.instances),
            )
        )

        starter = ThreadPoolExecutor(
            max_workers=max(1, len(self.plan.instances)), thread_name_prefix="start"
        )
        checker = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="check")
        finished = False
        try:
            started = {
                spec.key: starter.submit(self.pool.get, spec.key)
                for spec in self.plan.instances
            }
            cells = [self._schedule(p, started, checker) for p in self.plan.cells]
            results = tuple(future.result() for future in cells)
            finished = True
        finally:
            # A shared pool outlives the run unless the run is aborted; closing
            # it first also ends the starts still waiting for health.
            if self._owns_pool or not finished:
                self.pool.close()
            starter.shutdown(wait=True, cancel_futures=True)
            checker.shutdown(wait=True, cancel_futures=True)

        verdict = decide(self.plan.bumps, results)
        report = RunReport(
            run_id=self.backend.run_id,
            system=self.plan.system.name,
            backend=self.backend.name,
            bumps=self.plan.bumps,
            results=results,
            verdict=verdict,
            duration=time.monotonic() - began,
            instances_started=self.pool.started,
        )
        self.emit(RunFinished(report))
        return report

    def _schedule(
        self,
        planned: PlannedCell,
        started: dict[InstanceKey, Future[Instance]],
        checker: ThreadPoolExecutor,
    ) -> Future[CellResult]:
        """Run static checks now and the others once the provider is up."""
        done: Future[CellResult] = Future()
        static = [k for k in planned.checks if not k.needs_instances]
        dynamic = [k for k in planned.checks if k.needs_instances]
        static_results = checker.submit(self._run_checks, planned, static, None)

        def finish(results: Sequence[CheckResult]) -> None:
            try:
                cell = CellResult(planned.cell, (*static_results.result(), *results))
            except BaseException as exc:  # noqa: BLE001 (handed to the waiter)
                done.set_exception(exc)
                return
            self.emit(CellFinished(cell))
            done.set_result(cell)

        provider = planned.provider_instance
        if not dynamic or provider is None:
            static_results.add_done_callback(lambda _: finish(()))
            return done

        def when_started(_: Future[Instance]) -> None:
            try:
                submitted = checker.submit(self._run_checks, planned, dynamic, provider)
            except RuntimeError:
                # The run is being torn down (Ctrl-C, SIGTERM): nobody waits
                # for this cell any more.
                done.set_exception(EnvironmentFailure("the run was stopped"))
                return
            submitted.add_done_callback(_relay(finish, done))

        started[provider].add_done_callback(when_started)
        return done

    def _run_checks(
        self,
        planned: PlannedCell,
        kinds: Sequence[CheckKind],
        provider: InstanceKey | None,
    ) -> list[CheckResult]:
        url = None
        failure: CheckResult | None = None
        if provider is not None:
            try:
                url = self.pool.get(provider).url
            except InstanceStartError as exc:
                reason = f"{exc.instance} did not start: {exc.reason}"
                failure = CheckResult.from_error(kinds[0], reason, exc.logs)
            except EnvironmentFailure as exc:
                failure = CheckResult.from_error(kinds[0], str(exc))

        results = []
        for kind in kinds:
            if failure is not None:
                result = CheckResult(
                    kind, failure.outcome, failure.findings, failure.summary
                )
            else:
                context = CheckContext(
                    self.plan.system, planned.cell, planned.edge, provider_url=url
                )
                result = _run_one(kind, context)
            result = self._redactor.result(result)
            self.emit(CheckFinished(planned.cell, result))
            results.append(result)
        return results


def _run_one(kind: CheckKind, context: CheckContext) -> CheckResult:
    began = time.monotonic()
    try:
        result = CHECKS[kind].run(context)
    except EnvironmentFailure as exc:
        result = CheckResult.from_error(kind, str(exc))
    except Exception as exc:
        # A bug in a check must never read as "compatible": it is an error.
        logger.exception("check %s on %s failed", kind.value, context.cell)
        result = CheckResult.from_error(kind, f"the check itself failed: {exc!r}")
    if not result.duration:
        result = CheckResult(
            result.kind,
            result.outcome,
            result.findings,
            result.summary,
            time.monotonic() - began,
            result.replay,
        )
    logger.info("%s %s: %s", context.cell, kind.value, result.outcome.value)
    return result


def _relay(
    finish: Callable[[Sequence[CheckResult]], None], done: Future[CellResult]
) -> Callable[[Future[list[CheckResult]]], None]:
    def relay(future: Future[list[CheckResult]]) -> None:
        if future.cancelled():
            # The run is being torn down; its waiter has already given up.
            done.cancel()
            return
        error = future.exception()
        if error is not None:
            done.set_exception(error)
        else:
            finish(future.result())

    return relay
