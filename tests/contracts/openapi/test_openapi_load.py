"""Reading documents: dialects, references, and everything that must be refused."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
import yaml

from harness.contracts.openapi import (
    Direction,
    SpecVersion,
    diff,
    diff_files,
    load,
)
from harness.core.errors import ContractError
from harness.core.model import Level

FIXTURES = Path(__file__).parent / "fixtures"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


MINIMAL = """\
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /items:
    get:
      responses:
        200:
          description: fine
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Item"}
components:
  schemas:
    Item:
      type: object
      properties:
        id: {type: string}
"""


def test_yaml_and_json_read_alike(tmp_path: Path) -> None:
    as_yaml = write(tmp_path, "api.yaml", MINIMAL)
    as_json = tmp_path / "api.json"
    as_json.write_text(json.dumps(yaml.safe_load(MINIMAL), default=str))

    result = diff_files(as_yaml, as_json, Direction.BOTH)

    assert load(as_yaml).version is SpecVersion.OPENAPI_30
    assert result.changes == ()
    assert result.operations == 1


def test_swagger_2_changes_are_found() -> None:
    result = diff_files(FIXTURES / "swagger/v1.yaml", FIXTURES / "swagger/v2.yaml")

    assert {c.rule for c in result.changes} == {
        "request-parameter-max-decreased",
        "new-required-request-property",
        "request-property-became-not-nullable",
        "response-property-became-not-nullable",
        "response-property-type-changed",
    }
    assert load(FIXTURES / "swagger/v1.yaml").version is SpecVersion.SWAGGER_2


def test_swagger_2_and_its_openapi_3_translation_do_not_differ() -> None:
    result = diff_files(
        FIXTURES / "swagger/v1.yaml",
        FIXTURES / "swagger/v1-openapi3.yaml",
        Direction.BOTH,
    )

    assert result.changes == ()


def test_swagger_locations_point_into_the_swagger_document() -> None:
    result = diff_files(FIXTURES / "swagger/v1.yaml", FIXTURES / "swagger/v2.yaml")

    change = next(
        c for c in result.changes if c.rule == "response-property-type-changed"
    )
    assert change.base == "#/definitions/Pet/allOf/1/properties/id"
    assert change.revision == "#/definitions/Pet/allOf/1/properties/id"
    assert change.operation in ("GET /pets", "POST /pets")


def test_relative_file_references_and_recursion() -> None:
    result = diff_files(
        FIXTURES / "split/v1/api.yaml", FIXTURES / "split/v2/api.yaml", Direction.BOTH
    )

    [change] = result.changes
    assert change.rule == "response-required-property-removed"
    assert change.level is Level.ERROR
    assert change.direction is Direction.BACKWARD
    assert change.operation == "GET /items/{id}"
    assert change.base == "schemas/item.yaml#/Item/properties/name"
    assert change.revision == "schemas/item.yaml#/Item"
    assert "`Item.name`" in change.message


def test_message_names_where_the_operation_uses_the_schema(tmp_path: Path) -> None:
    base = write(tmp_path, "a.yaml", MINIMAL)
    revision = write(
        tmp_path, "b.yaml", MINIMAL.replace("id: {type: string}", "id: {type: integer}")
    )

    [change] = diff_files(base, revision).changes

    assert change.message == (
        "response 200 (application/json): "
        "type of `Item.id` changed from string to integer"
    )
    assert change.base == change.revision == "#/components/schemas/Item/properties/id"


def test_a_shared_schema_is_reported_once_per_operation(tmp_path: Path) -> None:
    twice = MINIMAL.replace(
        "components:",
        "  /others:\n"
        "    get:\n"
        "      responses:\n"
        "        '200':\n"
        "          description: d\n"
        "          content:\n"
        "            application/json:\n"
        "              schema: {$ref: '#/components/schemas/Item'}\n"
        "components:",
    )
    base = write(tmp_path, "a.yaml", twice)
    revision = write(tmp_path, "b.yaml", twice.replace("id: {type: string}", "{}"))

    result = diff_files(base, revision)

    assert sorted(c.operation for c in result.changes) == ["GET /items", "GET /others"]


def test_the_same_file_version_is_loaded_once(tmp_path: Path) -> None:
    path = write(tmp_path, "api.yaml", MINIMAL)
    first = load(path)

    assert load(path) is first

    path.write_text(MINIMAL.replace("fine", "still fine"))
    os.utime(path, ns=(1, first_mtime(path) + 1_000_000))
    assert load(path) is not first


def first_mtime(path: Path) -> int:
    return path.stat().st_mtime_ns


def test_a_changed_referenced_file_is_read_again(tmp_path: Path) -> None:
    api = write(
        tmp_path,
        "api.yaml",
        MINIMAL.replace('"#/components/schemas/Item"', "item.yaml"),
    )
    item = write(tmp_path, "item.yaml", "type: object\n")
    first = load(api)

    item.write_text("type: array\n")
    os.utime(item, ns=(1, item.stat().st_mtime_ns + 1_000_000))

    assert load(api) is not first


def problems(error: pytest.ExceptionInfo[ContractError]) -> list[str]:
    return [str(p) for p in error.value.problems]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ContractError) as error:
        load(tmp_path / "nowhere.yaml")

    [problem] = error.value.problems
    assert problem.file.endswith("nowhere.yaml")
    assert "cannot read" in problem.message


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "api.yaml", "openapi: 3.0.3\npaths: {\n  /a: [\n")

    with pytest.raises(ContractError) as error:
        load(path)

    [problem] = error.value.problems
    assert problem.path.startswith("line ")
    assert "invalid YAML" in problem.message
    assert problem.hint


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "api.json", '{"openapi": "3.0.3",\n "paths": }')

    with pytest.raises(ContractError) as error:
        load(path)

    assert error.value.problems[0].path == "line 2, column 11"


@pytest.mark.parametrize(
    "text",
    [
        "openapi: 4.0.0\npaths: {}\n",
        "swagger: '1.2'\npaths: {}\n",
        "paths: {}\n",
        "- a list\n",
    ],
    ids=["openapi-4", "swagger-1.2", "no-version", "not-a-mapping"],
)
def test_unsupported_documents(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "api.yaml", text)

    with pytest.raises(ContractError) as error:
        load(path)

    assert error.value.problems[0].hint


def test_wrong_shape_names_the_pointer(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "api.yaml",
        """\
        openapi: 3.0.3
        paths:
          /a:
            get:
              parameters: {name: q}
              responses: {}
          b: {}
        """,
    )

    with pytest.raises(ContractError) as error:
        load(path)

    found = {(p.path, p.message) for p in error.value.problems}
    assert ("#/paths/~1a/get/parameters", "expected a list, found mapping") in found
    assert any(p.path == "#/paths" and "'b'" in p.message for p in error.value.problems)


def test_broken_references_are_all_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "api.yaml",
        MINIMAL
        + "    Other:\n"
        + "      properties:\n"
        + "        a: {$ref: '#/components/schemas/Missing'}\n"
        + "        b: {$ref: 'gone.yaml#/Thing'}\n"
        + "        c: {$ref: '#/components/schemas/Item/properties/id/x'}\n",
    )

    with pytest.raises(ContractError) as error:
        load(path)

    pointers = sorted(p.path for p in error.value.problems)
    assert pointers == [
        "#/components/schemas/Other/properties/a/$ref",
        "#/components/schemas/Other/properties/b/$ref",
        "#/components/schemas/Other/properties/c/$ref",
    ]
    assert all(p.hint for p in error.value.problems)


def test_a_reference_in_an_example_is_data(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "api.yaml",
        MINIMAL
        + "      example: {$ref: not a reference}\n      x-note: {$ref: nor this}\n",
    )

    assert load(path).version is SpecVersion.OPENAPI_30


def test_reference_cycle(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "api.yaml",
        MINIMAL
        + "    A: {$ref: '#/components/schemas/B'}\n"
        + "    B: {$ref: '#/components/schemas/A'}\n",
    )

    with pytest.raises(ContractError) as error:
        load(path)

    [problem] = error.value.problems
    assert "never reaches a value" in problem.message
    assert problem.path in (
        "#/components/schemas/A/$ref",
        "#/components/schemas/B/$ref",
    )


def test_schema_that_is_its_own_all_of_member(tmp_path: Path) -> None:
    loop = "    Item:\n      allOf:\n        - $ref: '#/components/schemas/Item'\n"
    base = write(tmp_path, "a.yaml", MINIMAL)
    revision = write(
        tmp_path, "b.yaml", MINIMAL.split("    Item:", maxsplit=1)[0] + loop
    )

    with pytest.raises(ContractError) as error:
        diff(load(base), load(revision))

    assert "includes itself" in error.value.problems[0].message


def test_yaml_alias_that_contains_itself(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "api.yaml",
        """\
        openapi: 3.0.3
        paths: {}
        components:
          schemas:
            Loop: &loop
              properties:
                again: *loop
        """,
    )

    with pytest.raises(ContractError) as error:
        load(path)

    assert "alias contains itself" in error.value.problems[0].message


def test_remote_references_are_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "api.yaml",
        MINIMAL.replace(
            '"#/components/schemas/Item"', '"https://example.com/item.yaml"'
        ),
    )

    with pytest.raises(ContractError) as error:
        load(path)

    assert "remote references" in error.value.problems[0].message


def test_openapi_31_exclusive_bounds_and_const(tmp_path: Path) -> None:
    def document(schema: str) -> str:
        return (
            "openapi: 3.1.0\n"
            "paths:\n"
            "  /a:\n"
            "    get:\n"
            "      parameters:\n"
            f"        - {{name: n, in: query, schema: {schema}}}\n"
            "      responses: {}\n"
        )

    base = write(tmp_path, "a.yaml", document("{type: integer, exclusiveMinimum: 0}"))
    same = write(
        tmp_path, "b.yaml", document("{type: integer, minimum: 0, exclusiveMinimum: 0}")
    )
    const = write(
        tmp_path, "c.yaml", document("{type: integer, exclusiveMinimum: 0, const: 3}")
    )

    assert diff_files(base, same, Direction.BOTH).changes == ()
    assert {c.rule for c in diff_files(base, const).changes} == {
        "request-parameter-became-enum"
    }
