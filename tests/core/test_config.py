"""rollout.yaml loading: every problem reported at once, with where and how to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.core.config import load_system, parse_assignments
from harness.core.errors import ConfigError
from harness.core.model import CheckKind, Protocol

VALID = {
    "format": 1,
    "system": "tiny",
    "services": {
        "api": {
            "baseline": "v1",
            "health": "/ready",
            "versions": {
                "v1": {
                    "command": "{python} -m api --port {port}",
                    "provides": "api-v1.yaml",
                },
                "v2": {"command": ["{python}", "-m", "api2"], "port": 9000},
            },
        },
        "web": {
            "baseline": "v1",
            "versions": {
                "v1": {"command": "web", "consumes": {"api": {"built_against": "v1"}}},
            },
        },
    },
    "edges": [{"consumer": "web", "provider": "api"}],
}


def write(tmp_path: Path, document: object) -> Path:
    (tmp_path / "api-v1.yaml").write_text("openapi: 3.0.3\n")
    path = tmp_path / "rollout.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def messages(error: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    return [str(problem) for problem in error.value.problems]


def test_valid_file_is_resolved_relative_to_itself(tmp_path: Path) -> None:
    system = load_system(write(tmp_path, VALID))

    api = system.services["api"]
    assert api.versions["v1"].command == ("{python}", "-m", "api", "--port", "{port}")
    assert api.versions["v1"].provides == tmp_path / "api-v1.yaml"
    assert api.versions["v1"].health == "/ready"  # inherited from the service
    assert api.versions["v2"].port == 9000
    edge = system.edges[0]
    assert edge.env == "API_URL"
    assert edge.protocol is Protocol.HTTP
    assert CheckKind.PACT in edge.checks


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    document = {**VALID, "servces": {}}

    with pytest.raises(ConfigError) as error:
        load_system(write(tmp_path, document))

    assert any(
        "servces: unknown key" in m and "did you mean 'services'" in m
        for m in messages(error)
    )


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    document = yaml.safe_load(yaml.safe_dump(VALID))
    document["services"]["api"]["baseline"] = "v7"
    document["services"]["web"]["versions"]["v1"]["consumes"]["api"]["pact"] = "x.json"
    document["edges"].append({"consumer": "web", "provider": "apii"})

    with pytest.raises(ConfigError) as error:
        load_system(write(tmp_path, document))

    found = messages(error)
    assert any(
        "services.api.baseline: 'v7' is not one of its versions" in m for m in found
    )
    assert any("consumes.api.pact: contract file not found" in m for m in found)
    assert any(
        "edges[1].provider: unknown service 'apii'" in m and "did you mean 'api'" in m
        for m in found
    )
    assert all(str(tmp_path / "rollout.yaml") in m for m in found)


def test_cyclic_dependencies_are_bad_input(tmp_path: Path) -> None:
    document = yaml.safe_load(yaml.safe_dump(VALID))
    document["edges"].append({"consumer": "api", "provider": "web"})

    with pytest.raises(ConfigError) as error:
        load_system(write(tmp_path, document))

    assert any("cyclic dependencies" in m for m in messages(error))


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "rollout.yaml"
    path.write_text("services:\n  api: [unclosed\n")

    with pytest.raises(ConfigError) as error:
        load_system(path)

    assert "line 3" in messages(error)[0] or "line 2" in messages(error)[0]
    assert "invalid YAML" in messages(error)[0]


def test_missing_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_system(tmp_path / "nope.yaml")

    assert "file not found" in messages(error)[0]
    assert "--config" in messages(error)[0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("api", "is not service=version", id="no-equals"),
        pytest.param("nope=v1", "unknown service 'nope'", id="unknown-service"),
        pytest.param("api=v9", "has no version 'v9'", id="unknown-version"),
    ],
)
def test_bad_assignments(tmp_path: Path, value: str, expected: str) -> None:
    system = load_system(write(tmp_path, VALID))

    with pytest.raises(ConfigError) as error:
        parse_assignments([value], "--candidate", system)

    assert expected in str(error.value)
    assert "--candidate" in str(error.value)
