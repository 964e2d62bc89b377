"""The built-in checks as pytest items, one collector per edge.

pytest loads this module in every session (:class:`RolloutCheck` is public), so
it imports nothing but pytest and the standard library at its top.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.pytest_plugin.options import MARKER

if TYPE_CHECKING:
    from harness.core.model import Cell, CheckKind, CheckResult
    from harness.planning import PlannedCell
    from harness.pytest_plugin.gate import Gate

__all__ = ["RolloutCheck", "RolloutEdge"]


class RolloutEdge(pytest.Collector):
    """The checks of one edge's cells, e.g. ``orders->inventory``."""

    def __init__(
        self, *, cells: tuple[PlannedCell, ...], gate: Gate, **kwargs: Any
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
        self, *, cell: Cell, kind: CheckKind, gate: Gate, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.cell = cell
        self.kind = kind
        self.gate = gate
        self.result: CheckResult | None = None
        self.add_marker(MARKER)
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
