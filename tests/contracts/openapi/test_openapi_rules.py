"""One pair of documents per rule, diffed in both directions.

Each case states every rule id expected backward (clients of the first document,
server of the second) and forward (the other way round); an empty set means the
change must produce no finding at all in that direction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.contracts.openapi import RULES
from harness.contracts.openapi.rules import Role


def api(
    paths: Mapping[str, Any],
    schemas: Mapping[str, Any] | None = None,
    version: str = "3.0.3",
    **extra: Any,
) -> dict[str, Any]:
    """An OpenAPI 3 document with ``paths`` and component ``schemas``."""
    document: dict[str, Any] = {
        "openapi": version,
        "info": {"title": "t", "version": "1"},
        "paths": dict(paths),
    }
    if schemas:
        document["components"] = {"schemas": dict(schemas)}
    return document | extra


def json_content(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": dict(schema)}}


def ok(schema: Mapping[str, Any] | None = None, status: str = "200") -> dict[str, Any]:
    """``responses`` with one response, JSON when a schema is given."""
    response: dict[str, Any] = {"description": "d"}
    if schema is not None:
        response["content"] = json_content(schema)
    return {status: response}


def get(schema: Mapping[str, Any] | None = None, /, **operation: Any) -> dict[str, Any]:
    """A GET operation answering 200 with ``schema``."""
    return {"get": {"responses": ok(schema), **operation}}


def post(body: Mapping[str, Any], required: bool = True) -> dict[str, Any]:
    """A POST operation taking a JSON body of schema ``body``."""
    return {
        "post": {
            "requestBody": {"required": required, "content": json_content(body)},
            "responses": ok(),
        }
    }


def query(name: str, schema: Mapping[str, Any], **parameter: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": dict(schema), **parameter}


def obj(required: tuple[str, ...] = (), **properties: Any) -> dict[str, Any]:
    """An object schema; a property given as a string is that type."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            name: {"type": p} if isinstance(p, str) else p
            for name, p in properties.items()
        },
    }
    if required:
        schema["required"] = list(required)
    return schema


@dataclass(frozen=True)
class Case:
    id: str
    base: dict[str, Any]
    revision: dict[str, Any]
    backward: set[str]
    forward: set[str] = field(default_factory=set)


def _param(schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return api({"/a": get(parameters=[query("q", schema, **extra)])})


def _reply(schema: dict[str, Any], **schemas: Any) -> dict[str, Any]:
    return api({"/a": get(schema)}, schemas or None)


def _send(schema: dict[str, Any], **schemas: Any) -> dict[str, Any]:
    return api({"/a": post(schema)}, schemas or None)


def _secured(own: list[dict[str, list[str]]] | None, **root: Any) -> dict[str, Any]:
    operation = get() if own is None else get(security=own)
    schemes = {
        "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
        "bearer": {"type": "http", "scheme": "bearer"},
    }
    return api({"/a": operation}, components={"securitySchemes": schemes}, **root)


def _headers(**headers: Any) -> dict[str, Any]:
    response = {"description": "d", "headers": headers}
    return api({"/a": {"get": {"responses": {"200": response}}}})


ITEM = obj(("id", "name"), id="string", name="string", note="string")
ITEM_REF = {"$ref": "#/components/schemas/Item"}

OPERATIONS = [
    Case(
        "path-removed",
        api({"/a": get(), "/b": get()}),
        api({"/a": get()}),
        {"api-path-removed-without-deprecation"},
        {"endpoint-added"},
    ),
    Case(
        "deprecated-path-removed",
        api({"/a": get(), "/b": get(deprecated=True)}),
        api({"/a": get()}),
        {"api-path-removed-with-deprecation"},
        {"endpoint-added"},
    ),
    Case(
        "path-removed-before-sunset",
        api({"/a": get(), "/b": get(deprecated=True, **{"x-sunset": "2027-01-01"})}),
        api({"/a": get()}),
        {"api-path-removed-before-sunset"},
        {"endpoint-added"},
    ),
    Case(
        "path-removed-after-sunset",
        api({"/a": get(), "/b": get(deprecated=True, **{"x-sunset": "2025-01-01"})}),
        api({"/a": get()}),
        {"api-path-removed-with-deprecation"},
        {"endpoint-added"},
    ),
    Case(
        "operation-removed",
        api({"/a": {**get(), **post(obj())}}),
        api({"/a": get()}),
        {"api-removed-without-deprecation"},
        {"endpoint-added"},
    ),
    Case(
        "operation-deprecated",
        api({"/a": get()}),
        api({"/a": get(deprecated=True)}),
        {"endpoint-deprecated"},
        {"endpoint-reactivated"},
    ),
    Case(
        "sunset-moved-earlier",
        api({"/a": get(deprecated=True, **{"x-sunset": "2027-06-01"})}),
        api({"/a": get(deprecated=True, **{"x-sunset": "2027-01-01"})}),
        {"api-sunset-date-changed-too-small"},
    ),
    Case(
        "sunset-deleted",
        api({"/a": get(deprecated=True, **{"x-sunset": "2027-06-01"})}),
        api({"/a": get(deprecated=True)}),
        {"sunset-deleted"},
    ),
    Case(
        "path-parameter-renamed",
        api(
            {
                "/a/{id}": get(
                    parameters=[
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ]
                )
            }
        ),
        api(
            {
                "/a/{sku}": get(
                    parameters=[
                        {
                            "name": "sku",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ]
                )
            }
        ),
        set(),
        set(),
    ),
]

PARAMETERS = [
    Case(
        "new-required-parameter",
        api({"/a": get()}),
        _param({"type": "string"}, required=True),
        {"new-required-request-parameter"},
        {"request-parameter-removed"},
    ),
    Case(
        "new-optional-parameter",
        api({"/a": get()}),
        _param({"type": "string"}),
        {"new-optional-request-parameter"},
        {"request-parameter-removed"},
    ),
    Case(
        "deprecated-parameter-removed",
        _param({"type": "string"}, deprecated=True),
        api({"/a": get()}),
        {"request-parameter-removed-with-deprecation"},
        {"new-optional-request-parameter"},
    ),
    Case(
        "parameter-removed-before-sunset",
        _param({"type": "string"}, deprecated=True, **{"x-sunset": "2027-01-01"}),
        api({"/a": get()}),
        {"request-parameter-removed-before-sunset"},
        {"new-optional-request-parameter"},
    ),
    Case(
        "parameter-became-required",
        _param({"type": "string"}),
        _param({"type": "string"}, required=True),
        {"request-parameter-became-required"},
        {"request-parameter-became-optional"},
    ),
    Case(
        "parameter-deprecated",
        _param({"type": "string"}),
        _param({"type": "string"}, deprecated=True),
        {"request-parameter-deprecated"},
        {"request-parameter-reactivated"},
    ),
    Case(
        "parameter-type-changed",
        _param({"type": "string"}),
        _param({"type": "integer"}),
        {"request-parameter-type-changed"},
        {"request-parameter-type-changed"},
    ),
    Case(
        "parameter-format-added",
        _param({"type": "string"}),
        _param({"type": "string", "format": "uuid"}),
        {"request-parameter-type-changed"},
        {"request-parameter-type-generalized"},
    ),
    Case(
        "parameter-enum-value-removed",
        _param({"type": "string", "enum": ["a", "b", "c"]}),
        _param({"type": "string", "enum": ["a", "b"]}),
        {"request-parameter-enum-value-removed"},
        {"request-parameter-enum-value-added"},
    ),
    Case(
        "parameter-became-enum",
        _param({"type": "string"}),
        _param({"type": "string", "enum": ["a"]}),
        {"request-parameter-became-enum"},
    ),
    Case(
        "parameter-pattern-added",
        _param({"type": "string"}),
        _param({"type": "string", "pattern": "^[a-z]+$"}),
        {"request-parameter-pattern-added"},
        {"request-parameter-pattern-removed"},
    ),
    Case(
        "parameter-pattern-changed",
        _param({"type": "string", "pattern": "^[a-z]+$"}),
        _param({"type": "string", "pattern": "^[a-z0-9]+$"}),
        {"request-parameter-pattern-changed"},
        {"request-parameter-pattern-changed"},
    ),
    Case(
        "parameter-max-decreased",
        _param({"type": "integer", "maximum": 100}),
        _param({"type": "integer", "maximum": 50}),
        {"request-parameter-max-decreased"},
    ),
    Case(
        "parameter-max-made-exclusive",
        _param({"type": "integer", "maximum": 100}),
        _param({"type": "integer", "maximum": 100, "exclusiveMaximum": True}),
        {"request-parameter-max-decreased"},
    ),
    Case(
        "parameter-max-set",
        _param({"type": "integer"}),
        _param({"type": "integer", "maximum": 10}),
        {"request-parameter-max-set"},
    ),
    Case(
        "parameter-min-increased",
        _param({"type": "integer", "minimum": 1}),
        _param({"type": "integer", "minimum": 5}),
        {"request-parameter-min-increased"},
    ),
    Case(
        "parameter-max-length-set",
        _param({"type": "string"}),
        _param({"type": "string", "maxLength": 8}),
        {"request-parameter-max-length-set"},
    ),
    Case(
        "parameter-min-length-increased",
        _param({"type": "string", "minLength": 1}),
        _param({"type": "string", "minLength": 3}),
        {"request-parameter-min-length-increased"},
    ),
    Case(
        "parameter-max-items-decreased",
        _param({"type": "array", "items": {"type": "string"}, "maxItems": 10}),
        _param({"type": "array", "items": {"type": "string"}, "maxItems": 5}),
        {"request-parameter-max-items-decreased"},
    ),
    Case(
        "parameter-min-items-set",
        _param({"type": "array", "items": {"type": "string"}}),
        _param({"type": "array", "items": {"type": "string"}, "minItems": 2}),
        {"request-parameter-min-items-set"},
    ),
    Case(
        "parameter-became-not-nullable",
        _param({"type": "string", "nullable": True}),
        _param({"type": "string"}),
        {"request-parameter-became-not-nullable"},
        {"request-parameter-became-nullable"},
    ),
    Case(
        "parameter-items-enum-narrowed",
        _param({"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}),
        _param({"type": "array", "items": {"type": "string", "enum": ["a"]}}),
        {"request-parameter-property-enum-value-removed"},
        {"request-parameter-property-enum-value-added"},
    ),
    Case(
        "header-parameter-case",
        api(
            {
                "/a": get(
                    parameters=[
                        {
                            "name": "X-Trace",
                            "in": "header",
                            "schema": {"type": "string"},
                        }
                    ]
                )
            }
        ),
        api(
            {
                "/a": get(
                    parameters=[
                        {
                            "name": "x-trace",
                            "in": "header",
                            "schema": {"type": "string"},
                        }
                    ]
                )
            }
        ),
        set(),
        set(),
    ),
]

REQUEST_BODIES = [
    Case(
        "request-body-added-required",
        api({"/a": {"post": {"responses": ok()}}}),
        _send(obj()),
        {"request-body-added-required"},
        {"request-body-removed"},
    ),
    Case(
        "request-body-became-required",
        api({"/a": post(obj(), required=False)}),
        api({"/a": post(obj(), required=True)}),
        {"request-body-became-required"},
        {"request-body-became-optional"},
    ),
    Case(
        "request-media-type-removed",
        api(
            {
                "/a": {
                    "post": {
                        "requestBody": {
                            "content": {
                                "application/json": {"schema": obj()},
                                "application/xml": {"schema": obj()},
                            }
                        },
                        "responses": ok(),
                    }
                }
            }
        ),
        api(
            {
                "/a": {
                    "post": {
                        "requestBody": {
                            "content": {"application/json": {"schema": obj()}}
                        },
                        "responses": ok(),
                    }
                }
            }
        ),
        {"request-body-media-type-removed"},
        {"request-body-media-type-added"},
    ),
    Case(
        "new-required-request-property",
        _send(obj(("a",), a="string")),
        _send(obj(("a", "b"), a="string", b="string")),
        {"new-required-request-property"},
        {"request-property-removed"},
    ),
    Case(
        "new-optional-request-property",
        _send(obj(("a",), a="string")),
        _send(obj(("a",), a="string", b="string")),
        {"new-optional-request-property"},
        {"request-property-removed"},
    ),
    Case(
        "request-property-became-required",
        _send(obj((), a="string")),
        _send(obj(("a",), a="string")),
        {"request-property-became-required"},
        {"request-property-became-optional"},
    ),
    Case(
        "request-property-type-changed",
        _send(obj(a="integer")),
        _send(obj(a="string")),
        {"request-property-type-changed"},
        {"request-property-type-changed"},
    ),
    Case(
        "request-property-integer-to-number",
        _send(obj(a="integer")),
        _send(obj(a="number")),
        {"request-property-type-generalized"},
        {"request-property-type-changed"},
    ),
    Case(
        "request-property-enum-narrowed",
        _send(obj(a={"type": "string", "enum": ["x", "y"]})),
        _send(obj(a={"type": "string", "enum": ["x"]})),
        {"request-property-enum-value-removed"},
        {"request-property-enum-value-added"},
    ),
    Case(
        "request-body-enum-narrowed",
        _send({"type": "string", "enum": ["x", "y"]}),
        _send({"type": "string", "enum": ["y"]}),
        {"request-body-enum-value-removed"},
        {"request-body-enum-value-added"},
    ),
    Case(
        "request-property-became-not-nullable",
        _send(obj(a={"type": "string", "nullable": True})),
        _send(obj(a={"type": "string"})),
        {"request-property-became-not-nullable"},
        {"request-property-became-nullable"},
    ),
    Case(
        "request-property-max-length-decreased",
        _send(obj(a={"type": "string", "maxLength": 10})),
        _send(obj(a={"type": "string", "maxLength": 5})),
        {"request-property-max-length-decreased"},
    ),
    Case(
        "required-read-only-property-added",
        _send(obj(("a",), a="string")),
        _send(obj(("a", "id"), a="string", id={"type": "string", "readOnly": True})),
        set(),
        set(),
    ),
]

RESPONSES = [
    Case(
        "success-status-removed",
        api({"/a": {"get": {"responses": {**ok(), **ok(status="404")}}}}),
        api({"/a": {"get": {"responses": ok(status="404")}}}),
        {"response-success-status-removed"},
        {"response-success-status-added"},
    ),
    Case(
        "non-success-status-removed",
        api({"/a": {"get": {"responses": {**ok(), **ok(status="404")}}}}),
        api({"/a": {"get": {"responses": ok()}}}),
        {"response-non-success-status-removed"},
        {"response-non-success-status-added"},
    ),
    Case(
        "status-range-keeps-clients",
        api({"/a": {"get": {"responses": ok(status="200")}}}),
        api({"/a": {"get": {"responses": ok(status="2XX")}}}),
        set(),
        set(),
    ),
    Case(
        "response-media-type-removed",
        api(
            {
                "/a": {
                    "get": {
                        "responses": {
                            "200": {
                                "description": "d",
                                "content": {
                                    "application/json": {"schema": obj()},
                                    "text/csv": {},
                                },
                            }
                        }
                    }
                }
            }
        ),
        _reply(obj()),
        {"response-media-type-removed"},
        {"response-media-type-added"},
    ),
    Case(
        "response-required-property-removed",
        _reply(obj(("a", "b"), a="string", b="string")),
        _reply(obj(("a",), a="string")),
        {"response-required-property-removed"},
        set(),
    ),
    Case(
        "response-optional-property-removed",
        _reply(obj(("a",), a="string", b="string")),
        _reply(obj(("a",), a="string")),
        {"response-optional-property-removed"},
        set(),
    ),
    Case(
        "response-optional-property-added",
        _reply(obj(("a",), a="string")),
        _reply(obj(("a",), a="string", b="string")),
        set(),
        {"response-optional-property-removed"},
    ),
    Case(
        "response-property-became-optional",
        _reply(obj(("a",), a="string")),
        _reply(obj((), a="string")),
        {"response-property-became-optional"},
        {"response-property-became-required"},
    ),
    Case(
        "response-property-type-changed",
        _reply(obj(a="string")),
        _reply(obj(a="boolean")),
        {"response-property-type-changed"},
        {"response-property-type-changed"},
    ),
    Case(
        "response-property-integer-to-number",
        _reply(obj(a="integer")),
        _reply(obj(a="number")),
        {"response-property-type-generalized"},
        {"response-property-type-specialized"},
    ),
    Case(
        "response-property-enum-widened",
        _reply(obj(a={"type": "string", "enum": ["x"]})),
        _reply(obj(a={"type": "string", "enum": ["x", "y"]})),
        {"response-property-enum-value-added"},
        {"response-property-enum-value-removed"},
    ),
    Case(
        "response-body-enum-widened",
        _reply({"type": "string", "enum": ["x"]}),
        _reply({"type": "string", "enum": ["x", "y"]}),
        {"response-body-enum-value-added"},
        {"response-mediatype-enum-value-removed"},
    ),
    Case(
        "response-property-became-nullable",
        _reply(obj(a={"type": "string"})),
        _reply(obj(a={"type": "string", "nullable": True})),
        {"response-property-became-nullable"},
        {"response-property-became-not-nullable"},
    ),
    Case(
        "response-property-became-nullable-3.1",
        api({"/a": get(obj(a={"type": "string"}))}, version="3.1.0"),
        api({"/a": get(obj(a={"type": ["string", "null"]}))}, version="3.1.0"),
        {"response-property-became-nullable"},
        {"response-property-became-not-nullable"},
    ),
    Case(
        "response-property-max-length-increased",
        _reply(obj(a={"type": "string", "maxLength": 5})),
        _reply(obj(a={"type": "string", "maxLength": 10})),
        {"response-property-max-length-increased"},
    ),
    Case(
        "response-array-items-changed",
        _reply({"type": "array", "items": obj(("a",), a="string")}),
        _reply({"type": "array", "items": obj((), a="string")}),
        {"response-property-became-optional"},
        {"response-property-became-required"},
    ),
    Case(
        "required-header-removed",
        _headers(**{"X-Rate": {"required": True, "schema": {"type": "integer"}}}),
        _headers(),
        {"required-response-header-removed"},
        {"response-header-added"},
    ),
    Case(
        "optional-header-removed",
        _headers(**{"X-Rate": {"schema": {"type": "integer"}}}),
        _headers(),
        {"optional-response-header-removed"},
        {"response-header-added"},
    ),
    Case(
        "header-became-optional",
        _headers(**{"X-Rate": {"required": True, "schema": {"type": "integer"}}}),
        _headers(**{"X-Rate": {"schema": {"type": "integer"}}}),
        {"response-header-became-optional"},
    ),
    Case(
        "header-type-changed",
        _headers(**{"X-Rate": {"schema": {"type": "integer"}}}),
        _headers(**{"X-Rate": {"schema": {"type": "string"}}}),
        {"response-header-type-changed"},
        {"response-header-type-changed"},
    ),
]

CAT = obj(("meow",), meow="boolean")
DOG = obj(("bark",), bark="boolean")
BIRD = obj(("tweet",), tweet="boolean")

STRUCTURE = [
    Case(
        "renamed-component-same-shape",
        _reply(ITEM_REF, Item=ITEM),
        _reply({"$ref": "#/components/schemas/Product"}, Product=ITEM),
        set(),
        set(),
    ),
    Case(
        "reordered-enum",
        _reply(obj(a={"type": "string", "enum": ["x", "y", "z"]})),
        _reply(obj(a={"type": "string", "enum": ["z", "x", "y"]})),
        set(),
        set(),
    ),
    Case(
        "properties-moved-into-all-of-base",
        _reply(ITEM),
        _reply(
            {
                "allOf": [
                    {"$ref": "#/components/schemas/Base"},
                    obj(("name",), name="string", note="string"),
                ]
            },
            Base=obj(("id",), id="string"),
        ),
        set(),
        set(),
    ),
    Case(
        "one-of-reordered-and-renamed",
        _reply(
            {
                "oneOf": [
                    {"$ref": "#/components/schemas/Cat"},
                    {"$ref": "#/components/schemas/Dog"},
                ]
            },
            Cat=CAT,
            Dog=DOG,
        ),
        _reply(
            {
                "oneOf": [
                    {"$ref": "#/components/schemas/Hound"},
                    {"$ref": "#/components/schemas/Kitty"},
                ]
            },
            Kitty=CAT,
            Hound=DOG,
        ),
        set(),
        set(),
    ),
    Case(
        "response-one-of-added",
        _reply({"oneOf": [CAT, DOG]}),
        _reply({"oneOf": [CAT, DOG, BIRD]}),
        {"response-body-one-of-added"},
        {"response-body-one-of-removed"},
    ),
    Case(
        "response-wrapped-in-one-of",
        _reply(CAT),
        _reply({"oneOf": [DOG, CAT]}),
        {"response-body-one-of-added"},
        {"response-body-one-of-removed"},
    ),
    Case(
        "request-property-any-of-removed",
        _send(obj(a={"anyOf": [{"type": "string"}, {"type": "integer"}]})),
        _send(obj(a={"anyOf": [{"type": "string"}]})),
        {"request-property-any-of-removed"},
        {"request-property-any-of-added"},
    ),
    Case(
        "change-inside-one-of-alternative",
        _reply({"oneOf": [CAT, DOG]}),
        _reply({"oneOf": [obj((), meow="boolean"), DOG]}),
        {"response-property-became-optional"},
        {"response-property-became-required"},
    ),
    Case(
        "recursive-schema-changed-deep-inside",
        _reply(
            {"$ref": "#/components/schemas/Node"},
            Node=obj(
                ("name",),
                name="string",
                children={
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/Node"},
                },
            ),
        ),
        _reply(
            {"$ref": "#/components/schemas/Node"},
            Node=obj(
                ("name",),
                name="integer",
                children={
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/Node"},
                },
            ),
        ),
        {"response-property-type-changed"},
        {"response-property-type-changed"},
    ),
]

SECURITY = [
    Case(
        "security-required-where-none-was",
        _secured(None),
        _secured([{"key": []}]),
        {"api-security-added"},
        {"api-security-removed"},
    ),
    Case(
        "security-alternative-added",
        _secured([{"key": []}]),
        _secured([{"key": []}, {"bearer": []}]),
        {"api-security-added"},
        {"api-security-removed"},
    ),
    Case(
        "security-scope-added",
        _secured([{"oauth": ["read"]}]),
        _secured([{"oauth": ["read", "write"]}]),
        {"api-security-scope-added"},
        {"api-security-scope-removed"},
    ),
    Case(
        "global-security-scheme-replaced",
        _secured(None, security=[{"key": []}]),
        _secured(None, security=[{"bearer": []}]),
        {"api-global-security-removed", "api-global-security-added"},
        {"api-global-security-removed", "api-global-security-added"},
    ),
]


ALL = OPERATIONS + PARAMETERS + REQUEST_BODIES + RESPONSES + STRUCTURE + SECURITY


@pytest.mark.parametrize("case", ALL, ids=[c.id for c in ALL])
def test_rule(case: Case, diff_rules: Any) -> None:
    backward, forward = diff_rules(case.base, case.revision)

    assert backward == case.backward
    assert forward == case.forward


def test_every_expected_rule_is_in_the_catalog() -> None:
    expected = set().union(*(c.backward | c.forward for c in ALL))

    assert expected - RULES.keys() == set()


def test_every_rule_is_documented() -> None:
    docs = (Path(__file__).parents[3] / "docs/diff.md").read_text()
    prefixes = [role.prefix(root) for role in Role for root in (True, False)]

    def documented(rule: str) -> bool:
        if f"`{rule}`" in docs:
            return True
        return any(
            rule.startswith(f"{p}-") and f"`{rule[len(p) + 1 :]}`" in docs
            for p in prefixes
            if f"`{p}`" in docs
        )

    assert [rule for rule in RULES if not documented(rule)] == []
