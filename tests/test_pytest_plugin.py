"""``pytest --rollout``, run in real pytest sessions on the sample shop.

Most sessions start nothing (collection, static checks, bad options); the few
that start the real sample services are marked slow.
"""

from __future__ import annotations

import importlib
import json
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.helpers import labelled_processes

pytest_plugins = ["pytester"]

ORDERS_V2 = ("--rollout", "--rollout-candidate", "orders=v2")

PLACE_ORDER = """
import pytest
import requests


@pytest.mark.rollout(consumer="orders", provider="inventory")
def test_place_order(rollout_cell, rollout_consumer, rollout_provider):
    assert rollout_cell.edge.provider == "inventory"
    assert rollout_consumer.url != rollout_provider.url
    response = requests.post(
        f"{rollout_consumer.url}/orders",
        json={"sku": "WIDGET-1", "quantity": 1},
        timeout=10,
    )
    assert response.status_code == 201, response.text
"""


@pytest.fixture(scope="module")
def gate_modules() -> None:
    """The modules of the gate, imported once in this process.

    pytester's in-process sessions drop the modules first imported inside them,
    and PyYAML's C loader breaks when it is imported a second time.
    """
    for name in _GATE_MODULES:
        importlib.import_module(name)


_GATE_MODULES = (
    "harness.engine.runner",
    "harness.manifests",
    "harness.reporting.formats",
    "harness.reporting.terminal",
)


@pytest.fixture
def shop(pytester: pytest.Pytester, repo: Path, gate_modules: None) -> pytest.Pytester:
    """A pytester folder laid out like the repository: rollout.yaml and the shop."""
    for name in ("sample_services", "contracts"):
        (pytester.path / name).symlink_to(repo / name)
    shutil.copy(repo / "rollout.yaml", pytester.path)
    return pytester


def junit_cases(path: Path) -> dict[str, str]:
    """JUnit test case ``classname::name`` -> its outcome tag (or "passed")."""
    outcomes = {}
    for case in ET.parse(path).iter("testcase"):
        tags = [child.tag for child in case if child.tag != "properties"]
        outcomes[f"{case.get('classname')}::{case.get('name')}"] = (
            tags[0] if tags else "passed"
        )
    return outcomes


def test_without_rollout_the_plugin_collects_imports_and_starts_nothing(
    shop: pytest.Pytester,
) -> None:
    shop.makepyfile(
        test_shop="""
        import sys
        import pytest

        @pytest.mark.rollout(consumer="orders", provider="inventory")
        def test_cross_version(rollout_consumer):
            raise AssertionError("must not run without --rollout")

        def test_plain():
            assert "harness.engine" not in sys.modules
            assert "harness.core.config" not in sys.modules
        """
    )

    result = shop.runpytest_subprocess("-rs")

    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*run pytest with --rollout*"])
    assert "rollout.yaml" not in result.stdout.str()


def test_cells_and_checks_become_items_grouped_per_edge(shop: pytest.Pytester) -> None:
    shop.makepyfile(test_shop=PLACE_ORDER)

    result = shop.runpytest(*ORDERS_V2, "--collect-only", "-q")

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "rollout.yaml::orders->inventory::orders@v1->inventory@v1[[]spec-diff[]]",
            "rollout.yaml::orders->inventory::orders@v1->inventory@v1[[]pact[]]",
            "rollout.yaml::orders->inventory::orders@v1->inventory@v1[[]conformance[]]",
            "rollout.yaml::orders->inventory::orders@v2->inventory@v1[[]spec-diff[]]",
            "rollout.yaml::orders->inventory::orders@v2->inventory@v1[[]pact[]]",
            "rollout.yaml::orders->inventory::orders@v2->inventory@v1[[]conformance[]]",
            "rollout.yaml::storefront->orders::storefront@v1->orders@v1[[]spec-diff[]]",
            "*",
            "*",
            "rollout.yaml::storefront->orders::storefront@v1->orders@v2[[]spec-diff[]]",
            "*",
            "*",
            "test_shop.py::test_place_order[[]orders@v1->inventory@v1[]]",
            "test_shop.py::test_place_order[[]orders@v2->inventory@v1[]]",
            "14 tests collected*",
        ]
    )


def test_settings_can_live_in_the_ini_file(shop: pytest.Pytester) -> None:
    shop.makeini(
        """
        [pytest]
        rollout_candidates =
            orders=v2
        rollout_backend = process
        rollout_jobs = 2
        """
    )

    result = shop.runpytest("--rollout", "--collect-only", "-q")

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "rollout.yaml::orders->inventory::orders@v2->inventory@v1[[]pact[]]",
            "12 tests collected*",
        ]
    )


def test_keyword_selection_runs_only_the_selected_checks(
    shop: pytest.Pytester,
) -> None:
    # spec-diff needs no instance: if the deselected checks ran, instances
    # would have been started.
    result = shop.runpytest(*ORDERS_V2, "-k", "spec-diff", "--rollout-report=run.json")

    result.assert_outcomes(passed=3, failed=1, deselected=8)
    result.stdout.fnmatch_lines(
        [
            "*orders@v2 -> inventory@v1 (consumer rolled first): spec-diff *",
            "*POST /reservations*",
        ]
    )
    report = json.loads((shop.path / "run.json").read_text())
    kinds = {check["kind"] for cell in report["cells"] for check in cell["checks"]}
    assert kinds == {"spec-diff"}
    assert report["instances_started"] == 0
    advice = report["verdict"]["advice"]
    assert any("only 4 of 12 planned checks ran" in note for note in advice)


def test_a_blocked_verdict_fails_the_session_even_without_failed_tests(
    shop: pytest.Pytester,
) -> None:
    # Marking every check as expected to fail hides the incompatible cell from
    # pytest's count; the verdict still blocks, so the session must fail.
    shop.makeconftest(
        """
        import pytest
        from harness.pytest_plugin import RolloutCheck

        def pytest_collection_modifyitems(items):
            for item in items:
                if isinstance(item, RolloutCheck):
                    item.add_marker(pytest.mark.xfail(reason="known"))
        """
    )

    result = shop.runpytest(*ORDERS_V2, "-k", "spec-diff")

    result.assert_outcomes(xfailed=1, xpassed=3, deselected=8)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["verdict: blocked", "*the rollout is blocked, so the session fails*"]
    )


@pytest.mark.slow
def test_a_pair_the_rollout_order_avoids_is_an_expected_failure(
    shop: pytest.Pytester,
) -> None:
    # storefront v1 cannot read notifier v2's messages, but storefront rolls
    # first, so that pair never meets: the change is allowed and pytest agrees.
    result = shop.runpytest(
        "--rollout",
        "--rollout-candidate",
        "notifier=v2",
        "--rollout-candidate",
        "storefront=v2",
        "-k",
        "stream",
        "-rx",
    )

    result.assert_outcomes(passed=3, xfailed=1, deselected=6)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "verdict: allowed",
            "*storefront@v1->notifier@v2*never happens in the rollout order: "
            "storefront then notifier*",
        ]
    )


def test_a_marker_on_an_edge_the_change_leaves_alone_skips_with_the_reason(
    shop: pytest.Pytester,
) -> None:
    shop.makepyfile(
        test_shop="""
        import pytest

        @pytest.mark.rollout(consumer="storefront", provider="notifier")
        def test_events(rollout_consumer):
            raise AssertionError("no cell of this edge is planned")
        """
    )

    result = shop.runpytest(*ORDERS_V2, "--deselect", "rollout.yaml", "-rs")

    result.assert_outcomes(skipped=1, deselected=12)
    result.stdout.fnmatch_lines(
        ["*storefront -> notifier is not touched by this change*"]
    )


def test_a_marker_naming_no_edge_is_a_collection_error(shop: pytest.Pytester) -> None:
    shop.makepyfile(
        test_shop="""
        import pytest

        @pytest.mark.rollout(consumer="inventory", provider="orders")
        def test_backwards(rollout_cell):
            pass
        """
    )

    result = shop.runpytest(*ORDERS_V2, "--collect-only")

    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*consumer='inventory', provider='orders') names no edge of *rollout.yaml*"
            "consumer='orders', provider='inventory'*"
        ]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--rollout-candidate", "orders"],
            "--rollout-candidate: 'orders' is not service=version*",
            id="candidate-not-an-assignment",
        ),
        pytest.param(
            ["--rollout-candidate", "payments=v1"],
            "--rollout-candidate: unknown service 'payments'*",
            id="unknown-service",
        ),
        pytest.param(
            ["--rollout-baseline", "orders=v9"],
            "--rollout-baseline: service 'orders' has no version 'v9'*",
            id="unknown-version",
        ),
        pytest.param(
            ["--rollout-backend", "nomad"],
            "--rollout-backend: unknown backend 'nomad' (hint: choose one of: *",
            id="unknown-backend",
        ),
        pytest.param(
            ["--rollout-kubeconfig", "cluster.yaml"],
            "--rollout-kubeconfig: the process backend talks to no cluster*",
            id="kubeconfig-without-kubernetes",
        ),
        pytest.param(
            ["--rollout-report", "report.txt"],
            "--rollout-report: cannot tell the format of *report.txt*",
            id="report-suffix",
        ),
        pytest.param(
            ["--rollout-jobs", "0"],
            "--rollout-jobs: '0' is not a number of jobs*",
            id="jobs-not-positive",
        ),
        pytest.param(
            ["--rollout-head", "HEAD"],
            "--rollout-head: needs a base revision*",
            id="head-without-base",
        ),
        pytest.param(
            ["--rollout-base", "HEAD~1"],
            "--rollout-base: cannot read the change from git",
            id="base-outside-git",
        ),
        pytest.param(
            ["--rollout-config", "elsewhere.yaml"],
            "--rollout-config: *elsewhere.yaml is not a file*",
            id="missing-config",
        ),
    ],
)
def test_bad_option_values_are_usage_errors_naming_the_option(
    shop: pytest.Pytester, args: list[str], message: str
) -> None:
    result = shop.runpytest("--rollout", *args)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}"])


def test_a_bad_ini_value_is_a_usage_error_naming_the_ini_file(
    shop: pytest.Pytester,
) -> None:
    shop.makeini(
        """
        [pytest]
        rollout_candidates = orders
        """
    )

    result = shop.runpytest("--rollout")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*tox.ini: rollout_candidates: 'orders' is not service=version*"]
    )


def test_rollout_options_without_rollout_are_a_usage_error(
    shop: pytest.Pytester,
) -> None:
    result = shop.runpytest("--rollout-candidate", "orders=v2")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--rollout-candidate given without --rollout*"])


def test_an_instance_that_does_not_start_is_an_error_not_a_failure(
    shop: pytest.Pytester,
) -> None:
    config = shop.path / "rollout.yaml"
    broken = config.read_text().replace(
        "{python} -m uvicorn sample_services.inventory.v1:app",
        "{python} -c 'raise SystemExit(99)'",
    )
    config.write_text(broken)
    shop.makepyfile(
        test_shop="""
        import pytest

        @pytest.mark.rollout(consumer="orders", provider="inventory")
        def test_provider(rollout_provider):
            pass
        """
    )

    result = shop.runpytest(*ORDERS_V2, "-k", "pact or test_provider")

    result.assert_outcomes(errors=6, deselected=8)
    result.stdout.fnmatch_lines(
        [
            "*inventory@v1 did not start*",
            "*exited with code 99*",
            "*the environment failed and nothing is known for some cells*",
        ]
    )


@pytest.mark.slow
def test_user_tests_run_per_cell_and_join_the_matrix(shop: pytest.Pytester) -> None:
    shop.makepyfile(test_shop=PLACE_ORDER)

    result = shop.runpytest(
        *ORDERS_V2,
        "-k",
        "pact or place_order",
        "--junitxml=junit.xml",
        "--rollout-report=run.json",
    )

    # orders@v2 reserves stock, which inventory@v1 cannot do: only that cell
    # fails, for the Pact check and for the user's test alike.
    result.assert_outcomes(passed=4, failed=2, deselected=8)
    assert junit_cases(shop.path / "junit.xml") == {
        "rollout.yaml.orders->inventory::orders@v1->inventory@v1[pact]": "passed",
        "rollout.yaml.orders->inventory::orders@v2->inventory@v1[pact]": "failure",
        "rollout.yaml.storefront->orders::storefront@v1->orders@v1[pact]": "passed",
        "rollout.yaml.storefront->orders::storefront@v1->orders@v2[pact]": "passed",
        "test_shop::test_place_order[orders@v1->inventory@v1]": "passed",
        "test_shop::test_place_order[orders@v2->inventory@v1]": "failure",
    }

    report = json.loads((shop.path / "run.json").read_text())
    live = {
        cell["id"]: check["outcome"]
        for cell in report["cells"]
        for check in cell["checks"]
        if check["kind"] == "live"
    }
    assert live == {
        "orders@v1->inventory@v1": "compatible",
        "orders@v2->inventory@v1": "incompatible",
    }
    assert report["verdict"]["decision"] == "blocked"
    result.stdout.fnmatch_lines(
        [
            "*= rollout shop =*",
            "bumps: orders v1 -> v2",
            "orders -> inventory (http)*",
            "verdict: blocked",
            "*the rollout is blocked, so the session fails*",
        ]
    )


@pytest.mark.slow
def test_sigterm_stops_every_instance_of_the_session(shop: pytest.Pytester) -> None:
    started = shop.path / "started"
    shop.makepyfile(
        test_shop=f"""
        import pathlib
        import time
        import pytest

        @pytest.mark.rollout(consumer="orders", provider="inventory")
        def test_wait(rollout_consumer):
            pathlib.Path({str(started)!r}).write_text(rollout_consumer.url)
            time.sleep(120)
        """
    )
    only_control_cell = ["-k", "today", "--deselect", "rollout.yaml"]
    session = subprocess.Popen(
        [sys.executable, "-m", "pytest", *ORDERS_V2, *only_control_cell],
        cwd=shop.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not started.exists() and time.monotonic() < deadline:
            assert session.poll() is None, session.communicate()[0]
            time.sleep(0.2)
        assert labelled_processes(), "the user test ran without instances"

        session.send_signal(signal.SIGTERM)
        output, _ = session.communicate(timeout=60)
    finally:
        session.kill()

    assert session.returncode == pytest.ExitCode.INTERRUPTED, output
    assert "no verdict: the session was interrupted" in output
