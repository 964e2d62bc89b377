"""The ``rollout`` command line: a thin front end over the engine and reports."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.logging import RichHandler

from harness.backends import BACKENDS, clean_backend
from harness.core.config import (
    DEFAULT_CONFIG,
    load_system,
    parse_assignments,
    rollout_schema,
)
from harness.core.errors import BadInput, HarnessError
from harness.engine.events import Listener
from harness.engine.gate import run_gate
from harness.planning import Plan, plan_change
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


def _change_options(command: click.decorators.FC) -> click.decorators.FC:
    options = [
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
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _plan(config: str, candidate: tuple[str, ...], baseline: tuple[str, ...]) -> Plan:
    system = load_system(config)
    candidates = parse_assignments(candidate, "--candidate", system)
    baselines = parse_assignments(baseline, "--baseline", system)
    return plan_change(system, candidates, baselines)


@cli.command()
@_change_options
def plan(config: str, candidate: tuple[str, ...], baseline: tuple[str, ...]) -> None:
    """Show the cells and instances a change needs; start nothing."""
    planned = _plan(config, candidate, baseline)
    if planned.is_empty:
        _stdout.print("nothing to check: no service changes version")
        return
    _stdout.print(render_plan(planned))


@cli.command()
@_change_options
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
    backend: str,
    jobs: int | None,
    reports: tuple[str, ...],
) -> None:
    """Start old and new versions side by side and check every cell.

    Exit code: 0 allowed, 1 blocked, 2 bad input, 3 environment failure.
    """
    planned = _plan(config, candidate, baseline)
    if planned.is_empty:
        _stdout.print("nothing to check: no service changes version")
        sys.exit(0)

    listeners: list[Listener] = [TerminalReport(_stdout)]
    listeners += [ReportFile(Path(p)) for p in reports]
    report = run_gate(planned.system, planned, backend, listeners, jobs)
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
def clean(backend: str, run_id: str | None) -> None:
    """Remove what killed runs left behind (found by their run label)."""
    names = sorted(BACKENDS) if backend == "all" else [backend]
    removed: list[str] = []
    for name in names:
        try:
            removed += clean_backend(name, run_id)
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


def main() -> None:
    """Entry point of the ``rollout`` console script."""
    try:
        cli.main(prog_name="rollout", standalone_mode=False)
    except click.exceptions.Abort:
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
        _stderr.print("interrupted; everything started was stopped")
        sys.exit(130)
