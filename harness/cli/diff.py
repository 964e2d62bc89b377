"""``rollout diff``: breaking changes between two OpenAPI documents."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from harness.contracts.openapi import Direction, diff_files, load_ignore_file
from harness.core.errors import ConfigError, Problem
from harness.core.model import Level
from harness.reporting.diff import RENDERERS, text_report

__all__ = ["diff"]

_FILE = click.Path(dir_okay=False, path_type=Path)


@click.command("diff")
@click.argument("base", type=_FILE)
@click.argument("revision", type=_FILE)
@click.option(
    "--direction",
    type=click.Choice([d.value for d in Direction]),
    default=Direction.BACKWARD.value,
    show_default=True,
    help="backward: clients of BASE against a server at REVISION; forward: "
    "clients of REVISION against a server at BASE (consumer first, rollback).",
)
@click.option(
    "--ignore",
    "ignore_file",
    type=_FILE,
    help="YAML list of accepted changes: {rule, operation?, reason}.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(list(RENDERERS)),
    default="text",
    show_default=True,
)
@click.option("--output", type=_FILE, help="Write the report here, not to stdout.")
@click.option(
    "--fail-on",
    type=click.Choice([Level.ERROR.value, Level.WARNING.value]),
    default=Level.ERROR.value,
    show_default=True,
    help="The least serious level that makes the command fail.",
)
def diff(
    base: Path,
    revision: Path,
    direction: str,
    ignore_file: Path | None,
    output_format: str,
    output: Path | None,
    fail_on: str,
) -> None:
    """Report what breaks between the OpenAPI documents BASE and REVISION.

    Reads OpenAPI 3.0, 3.1 and Swagger 2.0, in YAML or JSON. Exit code: 0 when
    no finding reaches --fail-on, 1 when one does, 2 on bad input.
    """
    ignore = load_ignore_file(ignore_file) if ignore_file else ()
    result = diff_files(base, revision, Direction(direction), ignore)
    threshold = Level(fail_on)

    if output is not None:
        _write(output, RENDERERS[output_format](result, threshold))
        click.echo(f"wrote {output_format} report to {output}")
    elif output_format == "text":
        Console(highlight=False).print(text_report(result, threshold))
    else:
        click.echo(RENDERERS[output_format](result, threshold), nl=False)

    sys.exit(1 if result.reaching(threshold) else 0)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [
                Problem(
                    str(path),
                    "",
                    f"cannot write the report: {exc.strerror or exc}",
                    hint="check that the folder of --output exists and is writable",
                )
            ]
        ) from None
