"""The ``rollout`` command line: a thin front end over the engine and reports."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.logging import RichHandler

from harness.backends import BACKENDS, clean_backend
from harness.cli.diff import diff as diff_command
from harness.core.config import (
    DEFAULT_CONFIG,
    load_system,
    parse_assignments,
    rollout_schema,
)
from harness.core.errors import BadInput, ConfigError, HarnessError, Problem
from harness.core.system import System
from harness.engine.events import Listener
from harness.engine.gate import backend_options, run_gate
from harness.manifests import GitChange, bumps_from_git
from harness.manifests.live import LiveBaseline, live_baseline
from harness.planning import Plan, plan_change
from harness.reporting.change import (
    change_markdown,
    change_notes,
    render_change,
    with_notes,
)
from harness.reporting.ci import StepSummary
from harness.reporting.formats import ReportFile
from harness.reporting.terminal import TerminalReport, render_plan

__all__ = ["cli", "main"]

_stdout = Console(highlight=False)
_stderr = Console(stderr=True, highlight=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-v", "--verbose", count=True, help="Log lifecycle (-v) or polling (-vv)."
)
def cli(verbose: int) -> None:
    """Check every consumer/provider version pair a rolling update can create."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=_stderr, show_path=False)],
    )


def _option_group(
    *options: Callable[[click.decorators.FC], click.decorators.FC],
) -> Callable[[click.decorators.FC], click.decorators.FC]:
    """One decorator applying ``options`` in the order they are listed."""

    def apply(command: click.decorators.FC) -> click.decorators.FC:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


_change_options = _option_group(
    click.option(
        "-c",
        "--config",
        "config",
        default=DEFAULT_CONFIG,
        show_default=True,
        type=click.Path(dir_okay=False),
        help="The system description.",
    ),
    click.option(
        "--candidate",
        multiple=True,
        metavar="SERVICE=VERSION",
        help="A version the change proposes (repeatable).",
    ),
    click.option(
        "--baseline",
        multiple=True,
        metavar="SERVICE=VERSION",
        help="Override the version running today (repeatable).",
    ),
)


_git_options = _option_group(
    click.option(
        "--base",
        metavar="REF",
        default=None,
        help="Read the bumps from the Kubernetes manifests: the images at "
        "this git revision run today (N-1).",
    ),
    click.option(
        "--head",
        metavar="REF",
        default=None,
        help="The revision whose images the change proposes (N) "
        "[default: HEAD]; needs --base.",
    ),
)


@dataclass(frozen=True, slots=True)
class _Cluster:
    """The cluster a command talks to (--kubeconfig, --context)."""

    kubeconfig: str | None = None
    context: str | None = None

    def options(self) -> dict[str, str]:
        """The backend options that choose this cluster."""
        chosen = {"kubeconfig": self.kubeconfig, "context": self.context}
        return {key: value for key, value in chosen.items() if value}


@dataclass(frozen=True, slots=True)
class _Live:
    """Where to read the live baseline (--baseline-from-cluster, --namespace)."""

    cluster: _Cluster
    namespace: str | None = None


_cluster_options = _option_group(
    click.option(
        "--kubeconfig",
        type=click.Path(dir_okay=False),
        default=None,
        help="The kubeconfig of the cluster [default: $KUBECONFIG, else "
        "~/.kube/config].",
    ),
    click.option(
        "--context",
        metavar="NAME",
        default=None,
        help="The kubeconfig context [default: its current context].",
    ),
)


_live_options = _option_group(
    click.option(
        "--baseline-from-cluster",
        is_flag=True,
        help="Read the baselines (N-1) from the images the cluster's workloads "
        "run now (read-only); --baseline wins over it, it wins over --base.",
    ),
    click.option(
        "--namespace",
        metavar="NAME",
        default=None,
        help="The namespace whose workloads --baseline-from-cluster reads "
        "[default: the context's namespace, else default].",
    ),
)


def _live(
    baseline_from_cluster: bool, namespace: str | None, cluster: _Cluster
) -> _Live | None:
    if baseline_from_cluster:
        return _Live(cluster, namespace)
    if namespace is not None:
        raise ConfigError(
            [
                Problem(
                    "command line",
                    "--namespace",
                    "--namespace names where --baseline-from-cluster reads",
                    hint="add --baseline-from-cluster, or leave --namespace out",
                )
            ]
        )
    return None


def _plan(
    config: str,
    candidate: tuple[str, ...],
    baseline: tuple[str, ...],
    base: str | None = None,
    head: str | None = None,
    live: _Live | None = None,
) -> tuple[Plan, GitChange | None, LiveBaseline | None]:
    system = load_system(config)
    candidates = parse_assignments(candidate, "--candidate", system)
    baselines = parse_assignments(baseline, "--baseline", system)
    change = _read_change(system, base, head)
    running = _read_live(system, live, baselines) if live is not None else None
    if change is not None:
        # Against a live baseline, every service moves to its head version;
        # against the base revision, only those whose version changed.
        heads = {**change.baselines, **change.candidates} if running else {}
        heads = {s: v for s, v in heads.items() if s not in change.vanished}
        # Versions typed on the command line win over those read from git: a
        # reviewer can try another candidate without editing the manifests.
        candidates = {**change.candidates, **heads, **candidates}
    # Typed baselines win over the cluster's, which win over the base revision's:
    # what runs now is a better N-1 than what a revision says should run.
    read = {
        **(change.baselines if change else {}),
        **(running.baselines if running else {}),
    }
    baselines = {**read, **baselines}
    return plan_change(system, candidates, baselines), change, running


def _read_live(system: System, live: _Live, typed: Mapping[str, str]) -> LiveBaseline:
    """The live baseline of every service whose baseline was not typed."""
    # Imported here: the kubernetes client takes a second to load, and only
    # --baseline-from-cluster needs it.
    from harness.backends.kubeapi import active_context, connect, read_workloads

    cluster = live.cluster
    name, default_namespace = active_context(cluster.kubeconfig, cluster.context)
    namespace = live.namespace or default_namespace
    api_client = connect(cluster.kubeconfig, cluster.context)
    try:
        workloads = read_workloads(api_client, namespace)
    finally:
        api_client.close()  # type: ignore[no-untyped-call]
    needed = set(system.services) - set(typed)
    return live_baseline(system, workloads, name, namespace, needed)


def _backend_options(
    system: System, backend: str, cluster: _Cluster, run_namespace: str | None
) -> dict[str, Any]:
    if backend != "kubernetes":
        if run_namespace is not None:
            raise ConfigError(
                [
                    Problem(
                        "command line",
                        "--run-namespace",
                        f"the {backend} backend makes no namespace",
                        hint="add --backend kubernetes, or leave --run-namespace out",
                    )
                ]
            )
        return {}
    chosen = {**cluster.options(), "namespace": run_namespace}
    return backend_options(system, backend, chosen)


def _read_change(
    system: System, base: str | None, head: str | None
) -> GitChange | None:
    if base is not None:
        return bumps_from_git(system, base, head or "HEAD")
    if head is not None:
        raise ConfigError(
            [
                Problem(
                    "command line",
                    "--head",
                    "--head needs --base",
                    hint="add --base REF, e.g. --base origin/main",
                )
            ]
        )
    return None


def _show_live(running: LiveBaseline | None) -> None:
    for note in running.notes() if running else ():
        _stdout.print(note, markup=False)


def _nothing_to_check(change: GitChange | None) -> None:
    between = f" between {change.base} and {change.head}" if change else ""
    _stdout.print(f"nothing to check: no service changes version{between}")
    for note in change.notes() if change else ():
        _stdout.print(f"  note: {note}", markup=False)


@cli.command()
@_change_options
@_git_options
@_live_options
@_cluster_options
def plan(
    config: str,
    candidate: tuple[str, ...],
    baseline: tuple[str, ...],
    base: str | None,
    head: str | None,
    baseline_from_cluster: bool,
    namespace: str | None,
    kubeconfig: str | None,
    context: str | None,
) -> None:
    """Show the cells and instances a change needs; start nothing."""
    live = _live(baseline_from_cluster, namespace, _Cluster(kubeconfig, context))
    planned, change, running = _plan(config, candidate, baseline, base, head, live)
    _show_live(running)
    if planned.is_empty:
        _nothing_to_check(change)
        return
    if change is not None:
        _stdout.print(render_change(change))
    _stdout.print(render_plan(planned))


@cli.command()
@_change_options
@_git_options
@_live_options
@_cluster_options
@click.option(
    "--run-namespace",
    metavar="NAME",
    default=None,
    help="kubernetes backend: the namespace the run creates and deletes "
    "[default: one named after the run id].",
)
@click.option(
    "-b",
    "--backend",
    type=click.Choice(sorted(BACKENDS)),
    default="process",
    show_default=True,
    help="What starts instances.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Cells checked in parallel [default: CPU count].",
)
@click.option(
    "-r",
    "--report",
    "reports",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Write a report; the format follows the suffix: .json, .md, "
    ".xml (JUnit), .html (repeatable).",
)
def check(
    config: str,
    candidate: tuple[str, ...],
    baseline: tuple[str, ...],
    base: str | None,
    head: str | None,
    baseline_from_cluster: bool,
    namespace: str | None,
    kubeconfig: str | None,
    context: str | None,
    run_namespace: str | None,
    backend: str,
    jobs: int | None,
    reports: tuple[str, ...],
) -> None:
    """Start old and new versions side by side and check every cell.

    With --base, the bumps are the image changes in the Kubernetes manifests
    between --base and --head; --candidate and --baseline override them.
    With --baseline-from-cluster, the baselines are the versions the cluster's
    workloads run now. The Markdown report is also appended to
    $GITHUB_STEP_SUMMARY when set.

    Exit code: 0 allowed, 1 blocked, 2 bad input, 3 environment failure.
    """
    cluster = _Cluster(kubeconfig, context)
    live = _live(baseline_from_cluster, namespace, cluster)
    planned, change, running = _plan(config, candidate, baseline, base, head, live)
    options = _backend_options(planned.system, backend, cluster, run_namespace)
    _show_live(running)
    summary = StepSummary.from_environment()
    if planned.is_empty:
        _nothing_to_check(change)
        if summary is not None and change is not None:
            summary.append(change_markdown(change))
        sys.exit(0)

    if change is not None:
        _stdout.print(render_change(change))
    written: list[Listener] = [ReportFile(Path(p)) for p in reports]
    written += [summary] if summary is not None else []
    notes = change_notes(change) if change is not None else ()
    notes += running.notes() if running is not None else ()
    listeners: list[Listener] = [TerminalReport(_stdout)]
    listeners += [with_notes(listener, notes) for listener in written]
    report = run_gate(planned.system, planned, backend, listeners, jobs, options)
    sys.exit(report.verdict.exit_code)


@cli.command()
@click.option(
    "-b",
    "--backend",
    type=click.Choice(["all", *sorted(BACKENDS)]),
    default="all",
    show_default=True,
)
@click.option("--run-id", default=None, help="Only this run's leftovers.")
@_cluster_options
def clean(
    backend: str, run_id: str | None, kubeconfig: str | None, context: str | None
) -> None:
    """Remove what killed runs left behind (found by their run label)."""
    names = sorted(BACKENDS) if backend == "all" else [backend]
    cluster = _Cluster(kubeconfig, context)
    removed: list[str] = []
    for name in names:
        options = cluster.options() if name == "kubernetes" else {}
        try:
            removed += clean_backend(name, run_id, **options)
        except HarnessError as exc:
            if backend != "all":
                raise
            _stderr.print(f"[dim]{name}: skipped ({exc})[/]")
    for item in removed:
        _stdout.print(f"removed {item}")
    _stdout.print(f"{len(removed)} leftovers removed")


@cli.command()
def schema() -> None:
    """Print the JSON Schema of rollout.yaml."""
    click.echo(json.dumps(rollout_schema(), indent=2))


cli.add_command(diff_command)


def main() -> None:
    """Entry point of the ``rollout`` console script."""
    try:
        cli.main(prog_name="rollout", standalone_mode=False)
    except click.exceptions.Abort:
        # click turns Ctrl-C and SIGTERM (see engine.signals) into Abort.
        _stderr.print("interrupted; everything the run started was stopped")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except BadInput as exc:
        _stderr.print("[bold red]error:[/] bad input")
        for problem in exc.problems:
            _stderr.print(f"  {problem}", markup=False)
        sys.exit(exc.exit_code)
    except HarnessError as exc:
        _stderr.print("[bold red]error:[/]", str(exc), markup=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _stderr.print("interrupted; everything the run started was stopped")
        sys.exit(130)
