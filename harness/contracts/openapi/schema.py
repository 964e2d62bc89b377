"""What a schema allows, read once per location, with ``$ref`` and ``allOf`` merged.

The diff compares schemas by what they allow, never by their names: a schema is
read as the conjunction of its own keywords, the schema its ``$ref`` points to
and every ``allOf`` member, so moving properties into a shared base or renaming
a component changes nothing here. The three dialects meet in one form: OpenAPI
3.0 ``nullable``, Swagger's ``x-nullable`` and 3.1's ``type: [..., "null"]`` all
become :attr:`Schema.nullable`; boolean and numeric ``exclusiveMinimum`` both
become a :class:`Bound`.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.contracts.openapi.document import Document, Location
from harness.core.errors import ContractError, Problem

__all__ = ["Bound", "Schema", "SchemaKey", "Schemas", "canonical", "schemas"]

#: The parts a schema is the conjunction of; the first one names it.
SchemaKey = tuple[Location, ...]

# Keywords that say nothing about which values are allowed.
_ANNOTATIONS = frozenset(
    {
        "$ref",
        "$comment",
        "allOf",
        "description",
        "example",
        "examples",
        "externalDocs",
        "title",
        "xml",
    }
)


@dataclass(frozen=True, slots=True)
class Bound:
    """A numeric limit; ``exclusive`` excludes the value itself."""

    value: float
    exclusive: bool = False

    def __str__(self) -> str:
        number = int(self.value) if float(self.value).is_integer() else self.value
        return f"{number} (exclusive)" if self.exclusive else str(number)


@dataclass(frozen=True, slots=True)
class Schema:
    """The constraints of one schema, after merging its parts."""

    key: SchemaKey
    types: frozenset[str] | None = None
    nullable: bool = False
    format: str | None = None
    enum: Mapping[str, Any] | None = None
    pattern: str | None = None
    minimum: Bound | None = None
    maximum: Bound | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    properties: Mapping[str, SchemaKey] = field(default_factory=dict)
    declared: Mapping[str, Location] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    items: SchemaKey | None = None
    additional: SchemaKey | None = None
    alternatives: tuple[SchemaKey, ...] | None = None
    combinator: str = ""
    read_only: bool = False
    write_only: bool = False

    @property
    def where(self) -> Location:
        """The location that names the schema: its first part."""
        return self.key[0]


def canonical(value: Any) -> str:
    """A key that tells enum values apart: ``1``, ``"1"`` and ``true`` differ."""
    if isinstance(value, str):
        return "s" + value
    return "j" + json.dumps(value, sort_keys=True, default=str)


def schemas(document: Document) -> Schemas:
    """The schema reader of ``document``, kept with it."""
    return document.derived("schemas", Schemas)


class Schemas:
    """Reads the schemas of one document; every answer is computed once."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self._keys: dict[Location, SchemaKey] = {}
        self._expanding: set[Location] = set()
        self._schemas: dict[SchemaKey, Schema] = {}
        self._signatures: dict[tuple[SchemaKey, int], Hashable] = {}

    def key(self, where: Location) -> SchemaKey:
        """The parts of the schema at ``where``: itself, its target, its allOf."""
        known = self._keys.get(where)
        if known is not None:
            return known
        if where in self._expanding:
            raise ContractError([self._cycle(where)])

        self._expanding.add(where)
        try:
            parts = self._parts(where)
        finally:
            self._expanding.discard(where)
        key = tuple(dict.fromkeys(parts)) or (where,)
        self._keys[where] = key
        return key

    def _parts(self, where: Location) -> list[Location]:
        value = self.document.node(where)
        if not isinstance(value, dict):
            return [where]
        parts: list[Location] = []
        target = self.document.deref(where)
        if isinstance(value.get("$ref"), str) and target != where:
            parts += self.key(target)
        if any(k not in _ANNOTATIONS and not k.startswith("x-") for k in value):
            parts.append(where)
        members = value.get("allOf")
        for index in range(len(members) if isinstance(members, list) else 0):
            parts += self.key(where.child("allOf", index))
        return parts

    def _cycle(self, where: Location) -> Problem:
        return Problem(
            self.document.display(where),
            "allOf",
            "the schema includes itself through $ref and allOf",
            hint="a schema cannot be its own allOf member; refer to it from a "
            "property instead",
        )

    def get(self, key: SchemaKey) -> Schema:
        """What the conjunction of ``key``'s parts allows."""
        known = self._schemas.get(key)
        if known is None:
            known = self._schemas[key] = _Merge(self, key).schema()
        return known

    def signature(self, key: SchemaKey, depth: int = 2) -> Hashable:
        """The structure of a schema down to ``depth``, without any names.

        Two alternatives of a ``oneOf`` with equal signatures describe the same
        values as far as the diff can tell at a glance.
        """
        cached = self._signatures.get((key, depth))
        if cached is not None:
            return cached
        schema = self.get(key)
        below = depth - 1
        found: Hashable = (
            tuple(sorted(schema.types)) if schema.types is not None else None,
            schema.format,
            frozenset(schema.enum) if schema.enum is not None else None,
        )
        if depth > 0:
            found = (
                found,
                frozenset(schema.properties),
                schema.required,
                self.signature(schema.items, below) if schema.items else None,
                tuple(self.signature(a, below) for a in schema.alternatives or ()),
            )
        self._signatures[(key, depth)] = found
        return found


class _Merge:
    """Collects the keywords of a schema's parts into one :class:`Schema`."""

    def __init__(self, reader: Schemas, key: SchemaKey) -> None:
        self.reader = reader
        self.key = key
        self.fields: dict[str, Any] = {}
        self.properties: dict[str, SchemaKey] = {}
        self.declared: dict[str, Location] = {}
        self.required: set[str] = set()
        self.nullable = False

    def schema(self) -> Schema:
        for part in self.key:
            value = self.reader.document.node(part)
            if value is False:
                self._merge_types(frozenset())
            elif isinstance(value, dict):
                self._read(part, value)
        return Schema(
            key=self.key,
            nullable=self.nullable,
            properties=self.properties,
            declared=self.declared,
            required=frozenset(self.required),
            **self.fields,
        )

    def _read(self, where: Location, value: dict[str, Any]) -> None:
        self._read_type(value)
        self._read_values(value)
        self._read_bounds(value)
        self._read_object(where, value)
        self._read_alternatives(where, value)
        if "items" in value and isinstance(value["items"], dict | bool):
            self._join("items", self.reader.key(where.child("items")))
        additional = value.get("additionalProperties")
        if isinstance(additional, dict):
            self._join(
                "additional", self.reader.key(where.child("additionalProperties"))
            )
        for flag, name in (("readOnly", "read_only"), ("writeOnly", "write_only")):
            if value.get(flag) is True:
                self.fields[name] = True

    def _read_type(self, value: dict[str, Any]) -> None:
        declared = value.get("type")
        if isinstance(declared, str):
            declared = [declared]
        if isinstance(declared, list):
            names = {str(t) for t in declared}
            self.nullable |= "null" in names
            self._merge_types(frozenset(names - {"null"}))
        if value.get("nullable") is True or value.get("x-nullable") is True:
            self.nullable = True
        if isinstance(value.get("format"), str):
            self.fields.setdefault("format", value["format"])

    def _merge_types(self, types: frozenset[str]) -> None:
        # Keep "integer" when one part says number and another integer.
        known = self.fields.get("types")
        if known is not None:
            merged = known & types
            if not merged and {"integer", "number"} <= known | types:
                merged = frozenset({"integer"})
            types = merged
        self.fields["types"] = types

    def _read_values(self, value: dict[str, Any]) -> None:
        values = None
        if isinstance(value.get("enum"), list):
            values = value["enum"]
        elif "const" in value:
            values = [value["const"]]
        if values is not None:
            if None in values:
                self.nullable = True
            enum = {canonical(v): v for v in values if v is not None}
            known = self.fields.get("enum")
            if known is not None:
                enum = {k: v for k, v in known.items() if k in enum}
            self.fields["enum"] = enum
        if isinstance(value.get("pattern"), str):
            self.fields.setdefault("pattern", value["pattern"])

    def _read_bounds(self, value: dict[str, Any]) -> None:
        for name, upper in (("minimum", False), ("maximum", True)):
            bound = _bound(value, name, upper)
            if bound is not None:
                self._tighten(name, bound, upper)
        for keyword, name, upper in (
            ("minLength", "min_length", False),
            ("maxLength", "max_length", True),
            ("minItems", "min_items", False),
            ("maxItems", "max_items", True),
        ):
            number = value.get(keyword)
            if number == 0 and not upper:
                continue  # a lower limit of zero is no limit
            if isinstance(number, int) and not isinstance(number, bool):
                known = self.fields.get(name)
                pick = min if upper else max
                self.fields[name] = number if known is None else pick(known, number)

    def _tighten(self, name: str, bound: Bound, upper: bool) -> None:
        known = self.fields.get(name)
        if known is None or _tighter(bound, known, upper):
            self.fields[name] = bound

    def _read_object(self, where: Location, value: dict[str, Any]) -> None:
        properties = value.get("properties")
        if isinstance(properties, dict):
            for name in properties:
                declared = where.child("properties", name)
                self.declared.setdefault(name, declared)
                child = self.reader.key(declared)
                known = self.properties.get(name)
                self.properties[name] = child if known is None else known + child
        required = value.get("required")
        if isinstance(required, list):
            self.required.update(str(name) for name in required)

    def _read_alternatives(self, where: Location, value: dict[str, Any]) -> None:
        if "alternatives" in self.fields:
            return
        for combinator in ("oneOf", "anyOf"):
            members = value.get(combinator)
            if isinstance(members, list):
                keys = [
                    self.reader.key(where.child(combinator, i))
                    for i in range(len(members))
                ]
                kept = tuple(k for k in keys if not self._only_null(k))
                self.nullable |= len(kept) < len(keys)
                self.fields["alternatives"] = kept
                self.fields["combinator"] = combinator
                return

    def _only_null(self, key: SchemaKey) -> bool:
        value = self.reader.document.node(key[0])
        return len(key) == 1 and isinstance(value, dict) and value.get("type") == "null"

    def _join(self, name: str, key: SchemaKey) -> None:
        known = self.fields.get(name)
        self.fields[name] = key if known is None else known + key


def _bound(value: dict[str, Any], name: str, upper: bool) -> Bound | None:
    exclusive_name = "exclusiveMaximum" if upper else "exclusiveMinimum"
    limit = value.get(name)
    exclusive = value.get(exclusive_name)
    number = _number(limit)
    if isinstance(exclusive, bool):
        # OpenAPI 3.0 and Swagger: a flag on `minimum`/`maximum`.
        return Bound(number, exclusive) if number is not None else None
    exclusive_number = _number(exclusive)
    if exclusive_number is None:
        return Bound(number) if number is not None else None
    # OpenAPI 3.1: a limit of its own; keep the tighter of the two.
    candidate = Bound(exclusive_number, True)
    if number is None or _tighter(candidate, Bound(number), upper):
        return candidate
    return Bound(number)


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _tighter(bound: Bound, other: Bound, upper: bool) -> bool:
    """Whether ``bound`` allows fewer values than ``other``."""
    if bound.value != other.value:
        return bound.value < other.value if upper else bound.value > other.value
    return bound.exclusive and not other.exclusive
