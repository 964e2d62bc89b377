"""Reading Pact files of specification V2 to V4, and matching responses by them."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from harness.contracts.pact import (
    ActualResponse,
    HttpInteraction,
    ProviderState,
    SpecVersion,
    StateGenerator,
    load_pact,
    match_response,
    parse_pact,
)
from harness.core.errors import ContractError

PARTIES = {"consumer": {"name": "shop"}, "provider": {"name": "stock"}}


def pact(*interactions: dict[str, Any], version: str = "3.0.0") -> dict[str, Any]:
    return {
        **PARTIES,
        "interactions": list(interactions),
        "metadata": {"pactSpecification": {"version": version}},
    }


def v3_interaction(
    body: Any = None,
    rules: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    status: int = 200,
) -> HttpInteraction:
    """An interaction read from a V3 document, so that parsing is exercised too."""
    response: dict[str, Any] = {"status": status, "headers": headers or {}}
    if body is not None:
        response["body"] = body
    if rules is not None:
        response["matchingRules"] = rules
    raw = {
        "description": "a request for an item",
        "request": {"method": "GET", "path": "/items/7"},
        "response": response,
    }
    return parse_pact(pact(raw)).interactions[0]


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> ActualResponse:
    sent = {"Content-Type": "application/json", **(headers or {})}
    return ActualResponse(status, sent, json.dumps(body).encode())


def messages(interaction: HttpInteraction, actual: ActualResponse) -> list[str]:
    return [str(mismatch) for mismatch in match_response(interaction, actual)]


def at(path: str, *matchers: dict[str, Any], combine: str = "AND") -> dict[str, Any]:
    """V3 body rules at one path: ``at("$.id", m("integer"))``."""
    return {"body": {path: {"combine": combine, "matchers": list(matchers)}}}


def m(kind: str, **attributes: Any) -> dict[str, Any]:
    """One matcher: ``m("type", min=1)``."""
    return {"match": kind, **attributes}


def both(*parts: dict[str, Any]) -> dict[str, Any]:
    """Body rules at several paths."""
    return {"body": {k: v for part in parts for k, v in part["body"].items()}}


# --- Reading each specification version ------------------------------------


def test_v2_pact_reads_states_query_and_flat_rules() -> None:
    document = parse_pact(
        {
            **PARTIES,
            "interactions": [
                {
                    "description": "a search",
                    "providerState": "items exist",
                    "request": {
                        "method": "get",
                        "path": "/search",
                        "query": "q=red+lamp&page=2",
                    },
                    "response": {
                        "status": 200,
                        "headers": {"X-Total": "2"},
                        "body": {"items": [{"id": 1}]},
                        "matchingRules": {
                            "$.body.items": {"min": 1},
                            "$.body.items[*].id": {"match": "type"},
                            "$.headers.X-Total": {"match": "regex", "regex": "\\d+"},
                        },
                    },
                }
            ],
            "metadata": {"pactSpecification": {"version": "2.0.0"}},
        }
    )

    interaction = document.interactions[0]
    assert document.version is SpecVersion.V2
    assert interaction.provider_states == (ProviderState("items exist"),)
    assert interaction.request.method == "GET"
    assert interaction.request.query == (("q", "red lamp"), ("page", "2"))
    assert "x-total" in interaction.response.header_rules
    actual = json_response({"items": [{"id": 5}, {"id": 6}]}, headers={"X-Total": "12"})
    assert messages(interaction, actual) == []


def test_v3_pact_reads_states_with_params_and_query_lists() -> None:
    raw = {
        "description": "a lookup",
        "providerStates": [
            {"name": "an item exists", "params": {"id": 7}},
            {"name": "the user is logged in"},
        ],
        "request": {
            "method": "GET",
            "path": "/items",
            "query": {"tag": ["red", "blue"], "flag": [None]},
        },
        "response": {"status": 204},
    }

    interaction = parse_pact(pact(raw)).interactions[0]

    assert interaction.provider_states == (
        ProviderState("an item exists", {"id": 7}),
        ProviderState("the user is logged in"),
    )
    assert interaction.request.query == (
        ("tag", "red"),
        ("tag", "blue"),
        ("flag", None),
    )


def test_v4_pact_reads_http_interactions_and_reports_the_others() -> None:
    http = {
        "type": "Synchronous/HTTP",
        "key": "a1",
        "description": "create an item",
        "pending": True,
        "request": {
            "method": "POST",
            "path": "/items",
            "headers": {"Content-Type": ["application/json"]},
            "body": {
                "content": {"name": "lamp"},
                "contentType": "application/json",
                "encoded": False,
            },
        },
        "response": {
            "status": 201,
            "headers": {"Content-Type": ["application/json"]},
            "body": {"content": {"id": 1}, "contentType": "application/json"},
        },
    }
    message = {
        "type": "Asynchronous/Messages",
        "description": "an item was created",
        "contents": {"content": {"id": 1}},
    }
    plugin = {
        **http,
        "description": "a gRPC call",
        "pluginConfiguration": {"protobuf": {"descriptorKey": "x"}},
    }

    document = parse_pact(pact(http, message, plugin, version="4.0"))

    assert document.version is SpecVersion.V4
    [interaction] = document.interactions
    assert interaction.pending
    assert interaction.request.encoded_body() == b'{"name": "lamp"}'
    assert interaction.response.body is not None
    assert interaction.response.body.content == {"id": 1}
    assert [(u.description, u.kind) for u in document.unsupported] == [
        ("an item was created", "Asynchronous/Messages"),
        ("a gRPC call", "Synchronous/HTTP"),
    ]


def test_v3_message_pact_is_read_as_unsupported() -> None:
    document = parse_pact(
        {**PARTIES, "messages": [{"description": "stock changed", "contents": {}}]}
    )

    assert document.interactions == ()
    assert [u.description for u in document.unsupported] == ["stock changed"]


@pytest.mark.parametrize(
    ("metadata", "interaction_type", "expected"),
    [
        pytest.param(
            {"pactSpecification": {"version": "2.0.0"}}, None, SpecVersion.V2, id="v2"
        ),
        pytest.param(
            {"pact-specification": {"version": "2.0.0"}},
            None,
            SpecVersion.V2,
            id="v2-old-key",
        ),
        pytest.param(
            {"pactSpecificationVersion": "1.0.0"},
            None,
            SpecVersion.V2,
            id="v1-reads-as-v2",
        ),
        pytest.param(
            {"pactSpecification": {"version": "3.0.0"}}, None, SpecVersion.V3, id="v3"
        ),
        pytest.param(
            {"pactSpecification": {"version": "4.0"}},
            "Synchronous/HTTP",
            SpecVersion.V4,
            id="v4",
        ),
        pytest.param({}, "Synchronous/HTTP", SpecVersion.V4, id="no-metadata-typed"),
        pytest.param({}, None, SpecVersion.V3, id="no-metadata-untyped"),
    ],
)
def test_specification_version_is_read_from_metadata_or_shape(
    metadata: dict[str, Any], interaction_type: str | None, expected: SpecVersion
) -> None:
    interaction: dict[str, Any] = {
        "description": "x",
        "request": {"method": "GET", "path": "/"},
        "response": {"status": 200},
    }
    if interaction_type:
        interaction["type"] = interaction_type
    document = {**PARTIES, "interactions": [interaction], "metadata": metadata}

    assert parse_pact(document).version is expected


GOOD_REQUEST = {"method": "GET", "path": "/"}
OK = {"status": 200}
TYPE = m("type")
FIRST = "interactions[0]"
FIRST_RULE = f"{FIRST}.response.matchingRules.body['$.x'].matchers[0]"


def one(
    request: Any = GOOD_REQUEST, response: Any = OK, version: str = "3.0.0", **more: Any
) -> dict[str, Any]:
    """A pact of one interaction, with the parts a case wants to break."""
    interaction = {"description": "x", "request": request, "response": response}
    return pact({**interaction, **more}, version=version)


def rules_at_x(*matchers: dict[str, Any]) -> dict[str, Any]:
    return one(response={**OK, "matchingRules": at("$.x", *matchers)})


@pytest.mark.parametrize(
    ("document", "key_path", "message"),
    [
        pytest.param([], "", "JSON object", id="not-an-object"),
        pytest.param(PARTIES, "interactions", "required key", id="no-interactions"),
        pytest.param(
            {"provider": {"name": "p"}, "interactions": []},
            "consumer.name",
            "consumer name is missing",
            id="no-consumer",
        ),
        pytest.param(
            one(request={"path": "/"}),
            f"{FIRST}.request.method",
            "required key is missing",
            id="no-method",
        ),
        pytest.param(
            one(response={}),
            f"{FIRST}.response.status",
            "required key is missing",
            id="no-status",
        ),
        pytest.param(
            one(response={"status": "ok"}),
            f"{FIRST}.response.status",
            "'ok' is not an HTTP status",
            id="bad-status",
        ),
        pytest.param(
            one(version="5.0.0"),
            "metadata.pactSpecification.version",
            "unknown Pact specification version '5.0.0'",
            id="version-5",
        ),
        pytest.param(
            one(version="4.0"),
            f"{FIRST}.type",
            "a V4 interaction needs a type",
            id="v4-without-type",
        ),
        pytest.param(
            one(
                response={**OK, "body": {"id": 1}},
                version="4.0",
                type="Synchronous/HTTP",
            ),
            f"{FIRST}.response.body",
            "a V4 body is an object with content",
            id="v4-body-without-content",
        ),
        pytest.param(
            rules_at_x(m("fuzzy")),
            FIRST_RULE,
            "unknown matcher 'fuzzy'",
            id="unknown-matcher",
        ),
        pytest.param(
            rules_at_x(m("regex", regex="(")),
            FIRST_RULE,
            "invalid regex matcher",
            id="broken-regex",
        ),
        pytest.param(
            rules_at_x(m("date", format="yyyy-QQ")),
            FIRST_RULE,
            "date format letter 'Q' is not supported",
            id="unsupported-date-letter",
        ),
        pytest.param(
            rules_at_x({"min": "many"}),
            FIRST_RULE,
            "invalid type matcher",
            id="min-not-a-number",
        ),
        pytest.param(
            one(response={**OK, "matchingRules": at("$.a[x]", TYPE)}),
            f"{FIRST}.response.matchingRules.body['$.a[x]']",
            "'$.a[x]' is not a path like $.items[*].id",
            id="bad-rule-path",
        ),
    ],
)
def test_bad_pact_documents_name_the_key_path(
    document: Any, key_path: str, message: str
) -> None:
    with pytest.raises(ContractError) as raised:
        parse_pact(document, "shop-stock.json")

    problems = raised.value.problems
    assert any(p.path == key_path and message in p.message for p in problems), problems
    assert all(p.file == "shop-stock.json" for p in problems)


def test_every_problem_of_a_document_is_reported_at_once() -> None:
    document = pact(
        {"description": "x", "request": {"path": "/"}, "response": OK},
        {"description": "y", "request": GOOD_REQUEST, "response": {}},
    )

    with pytest.raises(ContractError) as raised:
        parse_pact(document)

    assert [p.path for p in raised.value.problems] == [
        "interactions[0].request.method",
        "interactions[1].response.status",
    ]


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    source = tmp_path / "broken.json"
    source.write_text('{\n  "consumer": {"name": "shop"},\n  "interactions": [,]\n}')

    with pytest.raises(ContractError) as raised:
        load_pact(source)

    [problem] = raised.value.problems
    assert problem.file == str(source)
    assert problem.path.startswith("line 3")
    assert "invalid JSON" in problem.message


def test_missing_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="cannot read the Pact file"):
        load_pact(tmp_path / "absent.json")


def test_loads_are_cached_until_the_file_changes(tmp_path: Path) -> None:
    source = tmp_path / "shop-stock.json"
    first = {
        "description": "first",
        "request": GOOD_REQUEST,
        "response": {"status": 200},
    }
    source.write_text(json.dumps(pact(first)))

    loaded = load_pact(source)
    assert load_pact(source) is loaded

    second = {**first, "description": "second"}
    source.write_text(json.dumps(pact(first, second)))
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert [i.description for i in load_pact(source).interactions] == [
        "first",
        "second",
    ]


# --- Matching bodies --------------------------------------------------------

ITEM = {"id": 7, "name": "lamp", "stock": 3}
INTEGER = m("integer")


def case(
    case_id: str, body: Any, rules: dict[str, Any] | None, actual: Any, *found: str
) -> Any:
    """A matching case: the pact's body and rules, a response, what is reported."""
    return pytest.param(body, rules, actual, list(found), id=case_id)


BODY_CASES = [
    case("unexpected-key-allowed", ITEM, None, {**ITEM, "colour": "red"}),
    case(
        "missing-key",
        ITEM,
        None,
        {"id": 7, "name": "lamp"},
        "$.stock: expected key is missing",
    ),
    case(
        "different-value",
        ITEM,
        None,
        {**ITEM, "name": "desk"},
        "$.name: expected 'lamp', got 'desk'",
    ),
    case("true-is-not-1", {"on": True}, None, {"on": 1}, "$.on: expected true, got 1"),
    case("1-equals-1.0", {"n": 1}, None, {"n": 1.0}),
    case("type-same-type", ITEM, at("$.name", TYPE), {**ITEM, "name": "desk"}),
    case(
        "type-other-type",
        ITEM,
        at("$.name", TYPE),
        {**ITEM, "name": 12},
        "$.name: expected a string (like 'lamp'), got 12",
    ),
    case(
        "type-cascades-from-root",
        {"item": ITEM},
        at("$", TYPE),
        {"item": {"id": 8, "name": "desk", "stock": 0}},
    ),
    case(
        "equality-resets-cascade",
        {"item": ITEM, "kind": "lamp"},
        both(at("$", TYPE), at("$.kind", m("equality"))),
        {"item": ITEM, "kind": "desk"},
        "$.kind: expected 'lamp', got 'desk'",
    ),
    case(
        "integer-given-text",
        {"quantity": 3},
        at("$.quantity", INTEGER),
        {"quantity": "ten"},
        "$.quantity: expected an integer, got 'ten'",
    ),
    case(
        "integer-given-decimal",
        {"quantity": 3},
        at("$.quantity", INTEGER),
        {"quantity": 3.5},
        "$.quantity: expected an integer, got 3.5",
    ),
    case("integer", {"quantity": 3}, at("$.quantity", INTEGER), {"quantity": 30}),
    case(
        "decimal-given-integer",
        {"price": 9.5},
        at("$.price", m("decimal")),
        {"price": 9},
        "$.price: expected a decimal number, got 9",
    ),
    case("number", {"n": 1}, at("$.n", m("number")), {"n": 2.5}),
    case(
        "number-given-boolean",
        {"n": 1},
        at("$.n", m("number")),
        {"n": True},
        "$.n: expected a number, got true",
    ),
    case("boolean-as-text", {"b": True}, at("$.b", m("boolean")), {"b": "false"}),
    case(
        "null",
        {"v": None},
        at("$.v", m("null")),
        {"v": 0},
        "$.v: expected null, got 0",
    ),
    case(
        "regex",
        {"ref": "abc-1"},
        at("$.ref", m("regex", regex=r"abc-\d+")),
        {"ref": "abc-12"},
    ),
    case(
        "regex-matches-the-whole-value",
        {"ref": "abc-1"},
        at("$.ref", m("regex", regex=r"abc-\d+")),
        {"ref": "xabc-12"},
        r"$.ref: expected a value matching regex 'abc-\d+', got 'xabc-12'",
    ),
    case(
        "include",
        {"note": "say hello"},
        at("$.note", m("include", value="hello")),
        {"note": "hi"},
        "$.note: expected a value including 'hello', got 'hi'",
    ),
    case(
        "date-not-in-calendar",
        {"day": "2024-01-31"},
        at("$.day", m("date", format="yyyy-MM-dd")),
        {"day": "2024-02-30"},
        """$.day: expected a date in the format "yyyy-MM-dd", got '2024-02-30'""",
    ),
    case(
        "timestamp-jvm-style",
        {"at": "2024-01-02T03:04:05"},
        at("$.at", m("timestamp", timestamp="yyyy-MM-dd'T'HH:mm:ss")),
        {"at": "2025-12-31T23:59:59"},
    ),
    case(
        "datetime-with-zone",
        {"at": "2024-01-02T03:04:05.123+01:00"},
        at("$.at", m("datetime", format="yyyy-MM-dd'T'HH:mm:ss.SSSXXX")),
        {"at": "2024-01-02T03:04:05.999Z"},
    ),
    case(
        "timestamp-iso-by-default",
        {"at": "2024-01-02T03:04:05Z"},
        at("$.at", m("timestamp")),
        {"at": "tomorrow"},
        "$.at: expected a date and time in ISO 8601 form, got 'tomorrow'",
    ),
    case(
        "time",
        {"t": "10:00"},
        at("$.t", m("time", format="HH:mm")),
        {"t": "25:00"},
        """$.t: expected a time in the format "HH:mm", got '25:00'""",
    ),
    case(
        "semver",
        {"version": "1.2.3"},
        at("$.version", m("semver")),
        {"version": "1.2"},
        "$.version: expected a semantic version, got '1.2'",
    ),
    case(
        "not-empty",
        {"name": "x"},
        at("$.name", m("notEmpty")),
        {"name": ""},
        "$.name: expected a non-empty value, got ''",
    ),
    case(
        "or-second-holds",
        {"n": 1},
        at("$.n", INTEGER, m("null"), combine="OR"),
        {"n": None},
    ),
    case(
        "or-none-holds",
        {"n": 1},
        at("$.n", INTEGER, m("null"), combine="OR"),
        {"n": "x"},
        "$.n: expected an integer or null, got 'x'",
    ),
    case(
        "and",
        {"n": 1},
        at("$.n", INTEGER, m("regex", regex=r"\d")),
        {"n": 12},
        r"$.n: expected a value matching regex '\d', got 12",
    ),
]

IN_ITEMS = [{"id": 1}]
CONTAINS_ID = m(
    "arrayContains",
    variants=[{"index": 0, "rules": {"$.id": {"matchers": [INTEGER]}}}],
)

ARRAY_CASES = [
    case(
        "no-rules-exact-length",
        {"tags": ["a", "b"]},
        None,
        {"tags": ["a", "b", "c"]},
        "$.tags: expected 2 items, got 3",
    ),
    case(
        "empty-array-expected",
        {"tags": []},
        None,
        {"tags": ["a"]},
        "$.tags: expected 0 items, got 1",
    ),
    case(
        "min",
        {"items": IN_ITEMS},
        at("$.items", m("type", min=2)),
        {"items": [{"id": 2}]},
        '$.items: expected at least 2 items, got [{"id": 2}]',
    ),
    case(
        "max",
        {"items": [1]},
        at("$.items", m("type", max=2)),
        {"items": [1, 2, 3]},
        "$.items: expected at most 2 items, got [1, 2, 3]",
    ),
    case(
        "items-beyond-the-example-match-the-first",
        {"items": IN_ITEMS},
        at("$.items", m("type", min=1)),
        {"items": [{"id": 1}, {"id": 2}, {"id": "3"}]},
        "$.items[2].id: expected a number (like 1), got '3'",
    ),
    case(
        "key-missing-in-item",
        {"items": IN_ITEMS},
        at("$.items", m("type", min=1)),
        {"items": [{"name": "x"}]},
        "$.items[0].id: expected key is missing",
    ),
    case(
        "specific-path-beats-cascade",
        {"items": IN_ITEMS},
        both(at("$.items", m("type", min=1)), at("$.items[*].id", INTEGER)),
        {"items": [{"id": 1}, {"id": 2.5}]},
        "$.items[1].id: expected an integer, got 2.5",
    ),
    case(
        "exact-name-beats-wildcard",
        {"a": {"b": "x", "c": "y"}},
        both(at("$.a.*", TYPE), at("$.a.b", m("equality"))),
        {"a": {"b": "z", "c": "w"}},
        "$.a.b: expected 'x', got 'z'",
    ),
    case(
        "wildcard-reaches-unexpected-keys",
        {"person": {"name": "Mary"}},
        at("$.person.*", TYPE),
        {"person": {"name": "Jon", "age": 39}},
        "$.person.age: expected a string (like 'Mary'), got 39",
    ),
    case("index-rule", {"ids": [1, 2]}, at("$.ids[1]", TYPE), {"ids": [1, 9]}),
    case(
        "values",
        {"stock": {"lamp": 1}},
        both(at("$.stock", m("values")), at("$.stock.*", INTEGER)),
        {"stock": {"desk": 2, "chair": "x"}},
        "$.stock.chair: expected an integer, got 'x'",
    ),
    case(
        "each-key",
        {"attrs": {"color": "red"}},
        at("$.attrs", m("eachKey", rules=[m("regex", regex="[a-z]+")])),
        {"attrs": {"size": "big", "Weight": 1}},
        "$.attrs: key 'Weight' is not a value matching regex '[a-z]+'",
    ),
    case(
        "each-value",
        {"counts": {"a": 1}},
        at("$.counts", m("eachValue", rules=[INTEGER])),
        {"counts": {"b": 2, "c": "three"}},
        "$.counts.c: expected an integer, got 'three'",
    ),
    case(
        "array-contains",
        {"has": [{"id": 1, "kind": "a"}]},
        at("$.has", CONTAINS_ID),
        {"has": [{"id": "x", "kind": "a"}, {"id": 9, "kind": "a"}]},
    ),
    case(
        "array-contains-missing",
        {"has": [{"id": 1, "kind": "a"}]},
        at("$.has", CONTAINS_ID),
        {"has": [{"id": 9, "kind": "b"}]},
        '$.has: expected an item like {"id": 1, "kind": "a"}, '
        'got [{"id": 9, "kind": "b"}]',
    ),
    case(
        "object-instead-of-array",
        {"items": [1]},
        at("$.items", m("type", min=1)),
        {"items": {"0": 1}},
        '$.items: expected an array, got {"0": 1}',
    ),
]


@pytest.mark.parametrize(
    ("body", "rules", "actual", "expected"), BODY_CASES + ARRAY_CASES
)
def test_json_body_matching(
    body: Any, rules: dict[str, Any] | None, actual: Any, expected: list[str]
) -> None:
    interaction = v3_interaction(body, rules)

    assert messages(interaction, json_response(actual)) == expected


def test_v2_rules_match_like_v3_rules() -> None:
    v2 = {
        "$.body.items": {"min": 1, "match": "type"},
        "$.body.items[*].id": {"match": "integer"},
    }
    interaction = v3_interaction({"items": [{"id": 1}]}, v2)

    actual = json_response({"items": [{"id": 2}, {"id": "x"}]})

    assert messages(interaction, actual) == [
        "$.items[1].id: expected an integer, got 'x'"
    ]


@pytest.mark.parametrize(
    ("body", "headers", "rules", "actual", "expected"),
    [
        pytest.param(
            {"id": 1},
            {},
            None,
            b"<html>oops</html>",
            ["$: expected a JSON body, got '<html>oops</html>'"],
            id="not-json",
        ),
        pytest.param(
            {"id": 1},
            {},
            None,
            b"",
            ["$: expected a JSON body, got an empty body"],
            id="empty-instead-of-json",
        ),
        pytest.param(
            "pong", {"Content-Type": "text/plain"}, None, b"pong", [], id="text-equal"
        ),
        pytest.param(
            "pong",
            {"Content-Type": "text/plain"},
            None,
            b"ping",
            ["$: expected 'pong', got 'ping'"],
            id="text-different",
        ),
        pytest.param(
            "id-1",
            {"Content-Type": "text/plain"},
            at("$", m("regex", regex=r"id-\d+")),
            b"id-42",
            [],
            id="text-regex",
        ),
    ],
)
def test_non_json_bodies(
    body: Any,
    headers: dict[str, str],
    rules: dict[str, Any] | None,
    actual: bytes,
    expected: list[str],
) -> None:
    interaction = v3_interaction(body, rules, headers)

    received = ActualResponse(200, dict(headers), actual)

    assert messages(interaction, received) == expected


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        pytest.param(b"", [], id="empty"),
        pytest.param(b"null", [], id="json-null"),
        pytest.param(
            b'{"id": 1}', ["body: expected no body, got '{\"id\": 1}'"], id="a-body"
        ),
    ],
)
def test_explicit_null_body_expects_no_body(actual: bytes, expected: list[str]) -> None:
    raw = {
        "description": "delete",
        "request": GOOD_REQUEST,
        "response": {"status": 200, "body": None},
    }
    interaction = parse_pact(pact(raw)).interactions[0]

    assert messages(interaction, ActualResponse(200, {}, actual)) == expected


def test_binary_v4_body_is_compared_as_bytes() -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(16))
    raw = {
        "type": "Synchronous/HTTP",
        "description": "a picture",
        "request": GOOD_REQUEST,
        "response": {
            "status": 200,
            "body": {
                "content": base64.b64encode(png).decode(),
                "contentType": "image/png",
                "encoded": "base64",
            },
            "matchingRules": at("$", m("contentType", value="image/png")),
        },
    }
    interaction = parse_pact(pact(raw, version="4.0")).interactions[0]

    assert messages(interaction, ActualResponse(200, {}, png[:8] + b"other")) == []
    assert messages(interaction, ActualResponse(200, {}, b"plain text")) == [
        "$: expected content of type 'image/png', got 10 bytes"
    ]


# --- Matching headers and status --------------------------------------------


@pytest.mark.parametrize(
    ("expected_headers", "rules", "actual_headers", "expected"),
    [
        pytest.param(
            {"X-Trace": "abc"}, None, {"x-trace": "abc"}, [], id="name-case-insensitive"
        ),
        pytest.param(
            {"X-Trace": "abc"},
            None,
            {},
            ["header 'X-Trace': expected header is missing"],
            id="missing",
        ),
        pytest.param(
            {"X-Trace": "abc"},
            None,
            {"X-Trace": "abc", "X-Other": "1"},
            [],
            id="unexpected-header-allowed",
        ),
        pytest.param(
            {"X-Trace": "abc"},
            None,
            {"X-Trace": "ABC"},
            ["header 'X-Trace': expected 'abc', got 'ABC'"],
            id="value-case-sensitive",
        ),
        pytest.param(
            {"Accept": "a, b"}, None, {"Accept": "a,b"}, [], id="whitespace-after-comma"
        ),
        pytest.param(
            {"Allow": "GET, PUT"},
            None,
            {"Allow": "PUT, GET"},
            ["header 'Allow': expected 'GET, PUT', got 'PUT, GET'"],
            id="order-of-values",
        ),
        pytest.param(
            {"Content-Type": "application/json"},
            None,
            {"Content-Type": "application/json; charset=UTF-8"},
            [],
            id="content-type-extra-charset",
        ),
        pytest.param(
            {"Content-Type": "application/json; charset=utf-8"},
            None,
            {"Content-Type": "application/json;charset=UTF-8"},
            [],
            id="content-type-charset-case",
        ),
        pytest.param(
            {"Content-Type": "application/json; charset=utf-8"},
            None,
            {"Content-Type": "application/json; charset=utf-16"},
            [
                "header 'Content-Type': expected 'application/json; charset=utf-8', "
                "got 'application/json; charset=utf-16'"
            ],
            id="content-type-other-charset",
        ),
        pytest.param(
            {"Location": "/items/1"},
            {
                "header": {
                    "Location": {
                        "matchers": [{"match": "regex", "regex": "/items/\\d+"}]
                    }
                }
            },
            {"location": "/items/99"},
            [],
            id="regex-rule",
        ),
        pytest.param(
            {"Location": "/items/1"},
            {"$.headers.Location": {"match": "regex", "regex": "/items/\\d+"}},
            {"location": "/orders/9"},
            [
                "header 'Location': expected a value matching regex '/items/\\d+', "
                "got '/orders/9'"
            ],
            id="v2-regex-rule",
        ),
    ],
)
def test_header_matching(
    expected_headers: dict[str, str],
    rules: dict[str, Any] | None,
    actual_headers: dict[str, str],
    expected: list[str],
) -> None:
    interaction = v3_interaction(headers=expected_headers, rules=rules)

    assert messages(interaction, ActualResponse(200, actual_headers)) == expected


@pytest.mark.parametrize(
    ("rules", "actual", "expected"),
    [
        pytest.param(None, 200, [], id="equal"),
        pytest.param(None, 404, ["status: expected 200, got 404"], id="different"),
        pytest.param(
            {
                "status": {
                    "$": {"matchers": [{"match": "statusCode", "status": "success"}]}
                }
            },
            204,
            [],
            id="status-class",
        ),
        pytest.param(
            {
                "status": {
                    "matchers": [{"match": "statusCode", "status": "clientError"}]
                }
            },
            500,
            ["status: expected a clientError status (400-499), got 500"],
            id="status-class-miss",
        ),
        pytest.param(
            {
                "status": {
                    "$": {"matchers": [{"match": "statusCode", "status": [200, 201]}]}
                }
            },
            202,
            ["status: expected one of 200, 201, got 202"],
            id="status-list",
        ),
    ],
)
def test_status_matching(
    rules: dict[str, Any] | None, actual: int, expected: list[str]
) -> None:
    interaction = v3_interaction(rules=rules)

    assert messages(interaction, ActualResponse(actual)) == expected


# --- Building the request to replay -----------------------------------------


def v4_request(request: dict[str, Any]) -> HttpInteraction:
    raw = {
        "type": "Synchronous/HTTP",
        "description": "x",
        "request": request,
        "response": {"status": 200},
    }
    return parse_pact(pact(raw, version="4.0")).interactions[0]


@pytest.mark.parametrize(
    ("request_part", "url"),
    [
        pytest.param(
            {"method": "GET", "path": "/items"}, "http://127.0.0.1:9/items", id="path"
        ),
        pytest.param(
            {
                "method": "GET",
                "path": "/search",
                "query": {"q": ["red lamp"], "tag": ["a", "b"], "all": [None]},
            },
            "http://127.0.0.1:9/search?q=red%20lamp&tag=a&tag=b&all",
            id="query-lists-encoded",
        ),
        pytest.param(
            {"method": "GET", "path": "/a b"},
            "http://127.0.0.1:9/a b",
            id="path-as-recorded",
        ),
    ],
)
def test_request_url(request_part: dict[str, Any], url: str) -> None:
    assert v4_request(request_part).request.url("http://127.0.0.1:9/") == url


@pytest.mark.parametrize(
    ("body", "sent", "content_type"),
    [
        pytest.param(
            {"content": {"a": 1}, "contentType": "application/json"},
            b'{"a": 1}',
            "application/json",
            id="json",
        ),
        pytest.param(
            {"content": "a=1&b=2", "contentType": "application/x-www-form-urlencoded"},
            b"a=1&b=2",
            "application/x-www-form-urlencoded",
            id="form",
        ),
        pytest.param(
            {
                "content": "aGk=",
                "contentType": "application/octet-stream",
                "encoded": "base64",
            },
            b"hi",
            "application/octet-stream",
            id="base64",
        ),
        pytest.param(
            {
                "content": '{"a": 2}',
                "contentType": "application/json",
                "encoded": "JSON",
            },
            b'{"a": 2}',
            "application/json",
            id="json-encoded-as-text",
        ),
    ],
)
def test_request_body_is_encoded_per_content_type(
    body: dict[str, Any], sent: bytes, content_type: str
) -> None:
    request = v4_request({"method": "POST", "path": "/", "body": body}).request

    assert request.encoded_body() == sent
    assert request.headers_to_send()["Content-Type"] == content_type


def test_provider_state_generators_fill_the_request() -> None:
    request = v4_request(
        {
            "method": "PUT",
            "path": "/items/1",
            "query": {"owner": ["x"]},
            "headers": {"X-Item": ["1"]},
            "body": {
                "content": {"id": 1, "name": "lamp"},
                "contentType": "application/json",
            },
            "generators": {
                "path": {"type": "ProviderState", "expression": "/items/${id}"},
                "query": {"owner": {"type": "ProviderState", "expression": "${owner}"}},
                "header": {
                    "X-Item": {"type": "ProviderState", "expression": "item-${id}"}
                },
                "body": {"$.id": {"type": "ProviderState", "expression": "${id}"}},
            },
        }
    ).request
    assert StateGenerator("path", "", "/items/${id}") in request.generators

    filled = request.with_state_values({"id": 42, "owner": "ann"})

    assert filled.path == "/items/42"
    assert filled.query == (("owner", "ann"),)
    assert filled.headers == (("X-Item", "item-42"),)
    assert filled.encoded_body() == b'{"id": 42, "name": "lamp"}'


def test_provider_state_generators_keep_examples_without_values() -> None:
    request = v4_request(
        {
            "method": "GET",
            "path": "/items/1",
            "generators": {
                "path": {"type": "ProviderState", "expression": "/items/${id}"}
            },
        }
    ).request

    assert request.with_state_values({}).path == "/items/1"
