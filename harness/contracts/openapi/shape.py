"""The shape a document must have for the diff to read it, as JSON Schema.

Deliberately shallow: these schemas check the containers the diff walks (paths,
operations, parameters, request bodies, responses, security requirements) and
leave everything else, schemas included, to the specification's own validators.
A document that passes can be read without guessing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["schema_for"]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_STRINGS = {"type": "array", "items": {"type": "string"}}

_SECURITY = {
    "type": "array",
    "items": {"type": "object", "additionalProperties": _STRINGS},
}

_REFERENCE = {"required": ["$ref"], "properties": {"$ref": {"type": "string"}}}


def _parameter(locations: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "if": {"required": ["$ref"]},
        "then": _REFERENCE,
        "else": {
            "required": ["name", "in"],
            "properties": {
                "name": {"type": "string"},
                "in": {"enum": list(locations)},
                "required": {"type": "boolean"},
                "deprecated": {"type": "boolean"},
                "schema": {"type": ["object", "boolean"]},
                "content": {"type": "object"},
            },
        },
    }


def _content() -> dict[str, Any]:
    media_type = {
        "type": "object",
        "properties": {"schema": {"type": ["object", "boolean"]}},
    }
    return {"type": "object", "additionalProperties": media_type}


def _response(swagger: bool) -> dict[str, Any]:
    body = {"schema": {"type": "object"}} if swagger else {"content": _content()}
    return {
        "type": "object",
        "properties": {"headers": {"type": "object"}, **body},
    }


def _operation(swagger: bool) -> dict[str, Any]:
    locations: tuple[str, ...] = ("query", "header", "path", "cookie")
    if swagger:
        locations = ("query", "header", "path", "formData", "body")
    properties: dict[str, Any] = {
        "parameters": {"type": "array", "items": _parameter(locations)},
        "responses": {
            "type": "object",
            "propertyNames": {"pattern": r"^([1-5][0-9Xx]{2}|default|x-.*)$"},
            "additionalProperties": _response(swagger),
        },
        "security": _SECURITY,
        "deprecated": {"type": "boolean"},
    }
    if swagger:
        properties |= {"consumes": _STRINGS, "produces": _STRINGS}
    else:
        properties["requestBody"] = {
            "type": "object",
            "properties": {"content": _content(), "required": {"type": "boolean"}},
        }
    return {"type": "object", "properties": properties}


def _path_item(swagger: bool) -> dict[str, Any]:
    operations = {method: _operation(swagger) for method in _METHODS}
    parameters = _operation(swagger)["properties"]["parameters"]
    return {
        "type": "object",
        "properties": {**operations, "parameters": parameters},
    }


def schema_for(version: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) of documents of one :class:`SpecVersion` value."""
    swagger = version == "2.0"
    paths = {
        "type": "object",
        "propertyNames": {"pattern": "^(/|x-)"},
        "patternProperties": {"^/": _path_item(swagger)},
    }
    properties: dict[str, Any] = {"paths": paths, "security": _SECURITY}
    if swagger:
        properties |= {
            "definitions": {"type": "object"},
            "consumes": _STRINGS,
            "produces": _STRINGS,
        }
    else:
        properties["components"] = {
            "type": "object",
            "properties": {"schemas": {"type": "object"}},
        }
    return {
        "type": "object",
        "required": ["paths"] if version != "3.1" else [],
        "properties": properties,
    }
