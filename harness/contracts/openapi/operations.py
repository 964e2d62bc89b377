"""The operations of a document, in one form for OpenAPI 3.x and Swagger 2.0.

Swagger 2.0 differs in where things sit, not in what they mean: body parameters
become request bodies, ``consumes`` and ``produces`` become media types, and a
non-body parameter or a header is its own schema. Locations keep pointing into
the document as written, so findings name the lines a user edits.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.contracts.openapi.document import Document, Location, SpecVersion

__all__ = [
    "Contract",
    "Header",
    "MediaType",
    "Operation",
    "Parameter",
    "RequestBody",
    "Requirement",
    "Response",
    "Security",
    "contract",
    "operation_key",
]

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_TEMPLATE = re.compile(r"\{[^}/]*\}")
_DEFAULT_MEDIA = ("application/json",)

#: One security requirement: (scheme, scopes) pairs that must all be satisfied.
Requirement = tuple[tuple[str, tuple[str, ...]], ...]
#: Alternative requirements; a request must satisfy one of them.
Security = tuple[Requirement, ...]


def operation_key(method: str, path: str) -> str:
    """``GET /items/{}``: two templates that differ only in names are one path."""
    return f"{method.upper()} {_TEMPLATE.sub('{}', path)}"


@dataclass(frozen=True, slots=True)
class Parameter:
    """A request parameter; path parameters are identified by their position."""

    name: str
    location: str
    required: bool
    deprecated: bool
    sunset: datetime.date | None
    schema: Location | None
    where: Location

    @property
    def label(self) -> str:
        """How messages name it: ``query parameter `limit```."""
        return f"{self.location} parameter `{self.name}`"


@dataclass(frozen=True, slots=True)
class MediaType:
    """A media type of a request body or response, and its schema if any."""

    name: str
    schema: Location | None
    where: Location


@dataclass(frozen=True, slots=True)
class RequestBody:
    """A request body: whether it is required, and its media types."""

    required: bool
    content: Mapping[str, MediaType]
    where: Location


@dataclass(frozen=True, slots=True)
class Header:
    """A response header and its schema."""

    name: str
    required: bool
    schema: Location | None
    where: Location


@dataclass(frozen=True, slots=True)
class Response:
    """One status of an operation: its media types and headers."""

    status: str
    content: Mapping[str, MediaType]
    headers: Mapping[str, Header]
    where: Location


@dataclass(frozen=True, slots=True)
class Operation:
    """One method on one path, with everything a client depends on."""

    method: str
    path: str
    where: Location
    deprecated: bool
    sunset: datetime.date | None
    security: Security | None
    security_where: Location | None
    parameters: Mapping[tuple[str, str], Parameter]
    request_body: RequestBody | None
    responses: Mapping[str, Response]

    @property
    def label(self) -> str:
        """``GET /items/{sku}``, as written in the document."""
        return f"{self.method} {self.path}"

    @property
    def key(self) -> str:
        """What matches it with the same operation in another document."""
        return operation_key(self.method, self.path)


@dataclass(frozen=True, slots=True)
class Contract:
    """Every operation of a document, keyed by :func:`operation_key`."""

    operations: Mapping[str, Operation]
    security: Security
    security_where: Location


def contract(document: Document) -> Contract:
    """The operations of ``document``, read once and kept with it."""
    return document.derived("contract", lambda d: _Reader(d).contract())


class _Reader:
    def __init__(self, document: Document) -> None:
        self.document = document
        self.swagger = document.version is SpecVersion.SWAGGER_2
        root = document.contents
        self.consumes = _strings(root.get("consumes")) or _DEFAULT_MEDIA
        self.produces = _strings(root.get("produces")) or _DEFAULT_MEDIA

    def contract(self) -> Contract:
        root = self.document.root
        operations: dict[str, Operation] = {}
        paths = self.document.node(root).get("paths") or {}
        for path in paths:
            if path.startswith("/"):
                for operation in self._path_item(path, root.child("paths", path)):
                    operations.setdefault(operation.key, operation)
        security = _security(self.document.contents.get("security")) or ()
        return Contract(operations, security, root.child("security"))

    def _resolved(self, where: Location) -> tuple[Location, Any]:
        target = self.document.deref(where)
        return target, self.document.node(target)

    def _path_item(self, path: str, where: Location) -> list[Operation]:
        where, item = self._resolved(where)
        shared = self._parameters(path, where, item.get("parameters"), {})
        return [
            self._operation(method, path, where.child(method), shared)
            for method in _METHODS
            if isinstance(item.get(method), dict)
        ]

    def _operation(
        self,
        method: str,
        path: str,
        where: Location,
        shared: Mapping[tuple[str, str], Parameter],
    ) -> Operation:
        raw = self.document.node(where)
        parameters = self._parameters(path, where, raw.get("parameters"), shared)
        body = self._request_body(where, raw, parameters)
        security = _security(raw.get("security"))
        return Operation(
            method=method.upper(),
            path=path,
            where=where,
            deprecated=raw.get("deprecated") is True,
            sunset=_date(raw.get("x-sunset")),
            security=security,
            security_where=where.child("security") if security is not None else None,
            parameters={k: p for k, p in parameters.items() if p.location != "body"},
            request_body=body,
            responses=self._responses(where, raw),
        )

    def _parameters(
        self,
        path: str,
        where: Location,
        raw: Any,
        inherited: Mapping[tuple[str, str], Parameter],
    ) -> dict[tuple[str, str], Parameter]:
        found = dict(inherited)
        names = [name[1:-1] for name in _TEMPLATE.findall(path)]
        for index in range(len(raw) if isinstance(raw, list) else 0):
            parameter = self._parameter(where.child("parameters", index))
            found[_parameter_key(parameter, names)] = parameter
        return found

    def _parameter(self, where: Location) -> Parameter:
        where, raw = self._resolved(where)
        schema: Location | None = where
        if not self.swagger or raw.get("in") == "body":
            schema = self._parameter_schema(where, raw)
        return Parameter(
            name=str(raw.get("name", "")),
            location=str(raw.get("in", "")),
            required=raw.get("required") is True,
            deprecated=raw.get("deprecated") is True,
            sunset=_date(raw.get("x-sunset")),
            schema=schema,
            where=where,
        )

    def _parameter_schema(self, where: Location, raw: Any) -> Location | None:
        if "schema" in raw:
            return where.child("schema")
        content = raw.get("content")
        if isinstance(content, dict) and content:
            name = next(iter(content))
            if isinstance(content[name], dict) and "schema" in content[name]:
                return where.child("content", name, "schema")
        return None

    def _request_body(
        self,
        where: Location,
        raw: Mapping[str, Any],
        parameters: Mapping[tuple[str, str], Parameter],
    ) -> RequestBody | None:
        if self.swagger:
            body = next((p for p in parameters.values() if p.location == "body"), None)
            if body is None:
                return None
            media = _strings(raw.get("consumes")) or self.consumes
            content = {m: MediaType(m, body.schema, body.where) for m in media}
            return RequestBody(body.required, _lowered(content), body.where)
        if "requestBody" not in raw:
            return None
        where, body_raw = self._resolved(where.child("requestBody"))
        content = self._content(where, body_raw)
        return RequestBody(body_raw.get("required") is True, content, where)

    def _content(self, where: Location, raw: Mapping[str, Any]) -> dict[str, MediaType]:
        content = raw.get("content")
        if not isinstance(content, dict):
            return {}
        found = {}
        for name, media in content.items():
            media_where = where.child("content", name)
            schema = None
            if isinstance(media, dict) and "schema" in media:
                schema = media_where.child("schema")
            found[name] = MediaType(name, schema, media_where)
        return _lowered(found)

    def _responses(
        self, where: Location, raw: Mapping[str, Any]
    ) -> dict[str, Response]:
        responses = raw.get("responses")
        if not isinstance(responses, dict):
            return {}
        media = _strings(raw.get("produces")) or self.produces
        found = {}
        for status in responses:
            if not status.startswith("x-"):
                code = status.lower() if status.lower() == "default" else status.upper()
                found[code] = self._response(
                    code, where.child("responses", status), media
                )
        return found

    def _response(
        self, status: str, where: Location, media: tuple[str, ...]
    ) -> Response:
        where, raw = self._resolved(where)
        if self.swagger:
            schema = where.child("schema") if "schema" in raw else None
            content = {m: MediaType(m, schema, where) for m in media} if schema else {}
            content = _lowered(content)
        else:
            content = self._content(where, raw)
        return Response(status, content, self._headers(where, raw), where)

    def _headers(self, where: Location, raw: Mapping[str, Any]) -> dict[str, Header]:
        headers = raw.get("headers")
        if not isinstance(headers, dict):
            return {}
        found = {}
        for name in headers:
            if name.lower() == "content-type":
                continue  # OpenAPI 3: ignored; the media type says it
            header_where, header = self._resolved(where.child("headers", name))
            schema = self._header_schema(header_where, header)
            required = header.get("required") is True
            found[name.lower()] = Header(name, required, schema, header_where)
        return found

    def _header_schema(self, where: Location, raw: Any) -> Location | None:
        if self.swagger:
            return where
        return self._parameter_schema(where, raw)


def _parameter_key(parameter: Parameter, template_names: list[str]) -> tuple[str, str]:
    if parameter.location == "path" and parameter.name in template_names:
        return ("path", f"#{template_names.index(parameter.name)}")
    if parameter.location == "header":
        return ("header", parameter.name.lower())
    return (parameter.location, parameter.name)


def _lowered(content: dict[str, MediaType]) -> dict[str, MediaType]:
    return {name.lower().replace(" ", ""): media for name, media in content.items()}


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()


def _security(value: Any) -> Security | None:
    if not isinstance(value, list):
        return None
    alternatives = []
    for requirement in value:
        if isinstance(requirement, dict):
            schemes = tuple(
                sorted(
                    (str(name), tuple(sorted(str(s) for s in scopes or ())))
                    for name, scopes in requirement.items()
                )
            )
            alternatives.append(schemes)
    return tuple(alternatives)


def _date(value: Any) -> datetime.date | None:
    """A sunset date: YAML may have read it already; JSON gives text."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None
