"""Reports for continuous integration: the GitHub Actions job summary."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from harness.engine.events import Event, RunFinished
from harness.reporting.formats import render_markdown

__all__ = ["SUMMARY_ENV", "StepSummary"]

logger = logging.getLogger(__name__)

# GitHub Actions renders the Markdown file this variable names on the page of
# the job; every step of the job may add to it.
SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


class StepSummary:
    """Listens to a run and appends its Markdown report to the job summary.

    The file is appended to, never overwritten: earlier steps may have written
    their own summary into it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] = os.environ
    ) -> StepSummary | None:
        """The job summary of the current GitHub Actions step, if there is one."""
        value = environ.get(SUMMARY_ENV, "")
        return cls(Path(value)) if value else None

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunFinished):
            self.append(render_markdown(event.report))

    def append(self, markdown: str) -> None:
        """Add ``markdown`` at the end of the summary."""
        with self.path.open("a", encoding="utf-8") as summary:
            summary.write(markdown.rstrip("\n") + "\n\n")
        logger.info("appended the report to the job summary %s", self.path)
