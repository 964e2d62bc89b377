"""Comparing the schemas of two documents, each pair of schemas once.

The two documents are walked side by side from every place an operation uses a
schema. A :class:`Pair` is one schema of the old document against one of the new,
in one role; comparing it yields the changes of that pair alone and the pairs
under it (properties, items, matched ``oneOf``/``anyOf`` alternatives). Shared
and recursive schemas make this a graph, not a tree: large documents such as
Stripe's reach most of their components from most operations. So the pairs form
strongly connected components (Tarjan), and each pair gets the set of changes
reachable from it as a bit mask, computed once for the whole document. An
operation then costs a few mask unions, however deep its schemas go.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from harness.contracts.openapi.document import Document, Location, unescape
from harness.contracts.openapi.rules import Role, level_of, schema_rule
from harness.contracts.openapi.schema import Bound, Schema, SchemaKey, Schemas
from harness.core.model import Level

__all__ = ["Comparison", "Pair", "SchemaChange", "bits", "label"]


class Pair(NamedTuple):
    """A schema of the old document against one of the new, in one role."""

    old: SchemaKey
    new: SchemaKey
    role: Role
    root: bool


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """One difference between the two schemas of a pair."""

    rule: str
    level: Level
    message: str
    old: Location | None
    new: Location | None


def bits(mask: int) -> Iterator[int]:
    """The indexes of the bits set in ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


class Comparison:
    """The schema changes between two documents, in one direction."""

    def __init__(self, old: Schemas, new: Schemas) -> None:
        self.old = old
        self.new = new
        self.unchanged = _Unchanged(old.document, new.document)
        self.changes: list[SchemaChange] = []
        self._local: dict[Pair, int] = {}
        self._edges: dict[Pair, list[Pair]] = {}
        self._reach: dict[Pair, int] = {}

    def reach(self, start: Pair) -> int:
        """The changes of ``start`` and of every pair under it, as a bit mask."""
        known = self._reach.get(start)
        if known is not None:
            return known
        _Tarjan(self).run(start)
        return self._reach[start]

    def edges(self, pair: Pair) -> list[Pair]:
        """The pairs directly under ``pair``; compares ``pair`` on first use."""
        edges = self._edges.get(pair)
        if edges is None and self.unchanged.pair(pair.old, pair.new):
            self._local[pair] = 0
            edges = self._edges[pair] = []
        if edges is None:
            found = _Found(self, pair)
            found.compare()
            mask = 0
            for change in found.changes:
                mask |= 1 << len(self.changes)
                self.changes.append(change)
            self._local[pair] = mask
            edges = self._edges[pair] = found.children
        return edges

    def match(
        self, old: tuple[SchemaKey, ...], new: tuple[SchemaKey, ...]
    ) -> tuple[list[tuple[SchemaKey, SchemaKey]], list[SchemaKey], list[SchemaKey]]:
        """Pair alternatives by structure: equal first, then the most alike.

        Returns the matched pairs, the old alternatives left over (removed) and
        the new ones left over (added).
        """
        free = list(range(len(new)))
        pairs: list[tuple[int, int]] = []
        rest: list[int] = []
        new_signatures = [self.new.signature(key) for key in new]
        for i, key in enumerate(old):
            signature = self.old.signature(key)
            j = next((j for j in free if new_signatures[j] == signature), None)
            if j is None:
                rest.append(i)
            else:
                pairs.append((i, j))
                free.remove(j)

        scored = sorted(
            ((self._likeness(old[i], new[j]), i, j) for i in rest for j in free),
            reverse=True,
        )
        for score, i, j in scored:
            if score > 0 and i in rest and j in free:
                pairs.append((i, j))
                rest.remove(i)
                free.remove(j)
        matched = [(old[i], new[j]) for i, j in sorted(pairs)]
        return matched, [old[i] for i in rest], [new[j] for j in free]

    def _likeness(self, old_key: SchemaKey, new_key: SchemaKey) -> float:
        old, new = self.old.get(old_key), self.new.get(new_key)
        old_types, new_types = _types(old), _types(new)
        if old_types is not None and new_types is not None:
            numbers = {"integer", "number"}
            if not old_types & new_types and not numbers <= old_types | new_types:
                return 0.0
        score = 1.0
        if old.properties or new.properties:
            shared = _jaccard(set(old.properties), set(new.properties))
            if shared == 0:
                return 0.0
            score += shared
        if old.enum is not None and new.enum is not None:
            score += _jaccard(set(old.enum), set(new.enum))
        return score + (0.25 if old.format == new.format else 0.0)


class _Unchanged:
    """Schemas written identically in both documents, down to every reference.

    Most of a large document does not change between two versions; comparing a
    schema with its identical twin can find nothing, so such pairs are skipped.
    A referenced definition is unchanged when its text is equal in both
    documents and every definition it refers to is unchanged (the greatest
    fixed point, so that recursive definitions qualify).
    """

    def __init__(self, old: Document, new: Document) -> None:
        self.old = old
        self.new = new
        self.stable = self._stable_targets()
        self._known: dict[Location, bool] = {}

    def pair(self, old: SchemaKey, new: SchemaKey) -> bool:
        if len(old) != len(new):
            return False
        for old_part, new_part in zip(old, new, strict=True):
            if old_part.pointer != new_part.pointer or not self._location(old_part):
                return False
            if new_part.uri != self.new.uri:
                return False
        return True

    def _location(self, where: Location) -> bool:
        known = self._known.get(where)
        if known is None:
            known = False
            if where.uri == self.old.uri:
                pointer = where.pointer
                while pointer and not known:
                    known = pointer in self.stable
                    pointer = pointer.rpartition("/")[0]
            self._known[where] = known
        return known

    def _stable_targets(self) -> set[str]:
        """Pointers of the root file's referenced definitions that are unchanged."""
        inside: dict[str, set[str]] = {}
        for ref, target in self.old.targets.items():
            if target.uri == self.old.uri and ref.uri == self.old.uri:
                inside.setdefault(target.pointer, set())
        for ref, target in self.old.targets.items():
            if ref.uri == self.old.uri:
                for holder in _holders(ref.pointer, inside):
                    inside[holder].add(
                        target.pointer if target.uri == self.old.uri else ""
                    )
        stable = {p for p in inside if self._same_text(p)}
        shrinking = True
        while shrinking:
            before = len(stable)
            stable = {p for p in stable if inside[p] <= stable}
            shrinking = len(stable) < before
        return stable

    def _same_text(self, pointer: str) -> bool:
        try:
            old = self.old.node(Location(self.old.uri, pointer))
            new = self.new.node(Location(self.new.uri, pointer))
        except (KeyError, IndexError, ValueError, TypeError):
            return False
        return bool(old == new)


def _holders(pointer: str, targets: Mapping[str, object]) -> Iterator[str]:
    """The referenced definitions whose text contains ``pointer``."""
    while True:
        if pointer in targets:
            yield pointer
        if not pointer:
            return
        pointer = pointer.rpartition("/")[0]


class _Tarjan:
    """Strongly connected components of the pair graph, sinks first.

    When a component is complete, every component it reaches is complete too,
    so its mask is its members' own changes and their successors' masks.
    """

    def __init__(self, comparison: Comparison) -> None:
        self.comparison = comparison
        self.index: dict[Pair, int] = {}
        self.low: dict[Pair, int] = {}
        self.outside: dict[Pair, int] = {}
        self.stack: list[Pair] = []
        self.on_stack: set[Pair] = set()
        self.work: list[tuple[Pair, Iterator[Pair]]] = []

    def run(self, start: Pair) -> None:
        self._enter(start)
        reach = self.comparison._reach
        while self.work:
            pair, successors = self.work[-1]
            for successor in successors:
                if successor in reach:
                    self.outside[pair] |= reach[successor]
                elif successor not in self.index:
                    self._enter(successor)
                    break
                elif successor in self.on_stack:
                    self.low[pair] = min(self.low[pair], self.index[successor])
            else:
                self.work.pop()
                self._leave(pair)

    def _enter(self, pair: Pair) -> None:
        self.index[pair] = self.low[pair] = len(self.index)
        self.outside[pair] = 0
        self.stack.append(pair)
        self.on_stack.add(pair)
        self.work.append((pair, iter(self.comparison.edges(pair))))

    def _leave(self, pair: Pair) -> None:
        reach = self.comparison._reach
        if self.low[pair] == self.index[pair]:
            self._close(pair)
        if self.work:
            parent = self.work[-1][0]
            if pair in reach:
                self.outside[parent] |= reach[pair]
            else:
                self.low[parent] = min(self.low[parent], self.low[pair])

    def _close(self, pair: Pair) -> None:
        members = []
        while True:
            member = self.stack.pop()
            self.on_stack.discard(member)
            members.append(member)
            if member == pair:
                break
        mask = 0
        local = self.comparison._local
        for member in members:
            mask |= local[member] | self.outside[member]
        for member in members:
            self.comparison._reach[member] = mask


class _Found:
    """The changes of one pair of schemas, and the pairs under it."""

    def __init__(self, comparison: Comparison, pair: Pair) -> None:
        self.comparison = comparison
        self.pair = pair
        self.role = pair.role
        self.writes = pair.role.client_writes
        self.old = comparison.old.get(pair.old)
        self.new = comparison.new.get(pair.new)
        self.changes: list[SchemaChange] = []
        self.children: list[Pair] = []

    @functools.cached_property
    def label(self) -> str:
        """The old schema's name; worked out only for pairs that changed."""
        return label(self.old.where)

    @functools.cached_property
    def subject(self) -> str:
        return _SUBJECTS[self.pair.role] if self.pair.root else f"`{self.label}`"

    def compare(self) -> None:
        self._nullable()
        old_alternatives = self.old.alternatives is not None
        if old_alternatives != (self.new.alternatives is not None):
            self._alternatives()
            return
        self._types()
        self._values()
        self._pattern()
        self._bounds()
        self._properties()
        self._nested()
        if old_alternatives:
            self._alternatives()

    def _add(
        self,
        suffix: str,
        message: str,
        old: Location | None = None,
        new: Location | None = None,
    ) -> None:
        rule = schema_rule(self.role, self.pair.root, suffix)
        where_old = old or self.old.where
        where_new = new or self.new.where
        change = SchemaChange(rule, level_of(rule), message, where_old, where_new)
        self.changes.append(change)

    def _add_fixed(
        self, rule: str, message: str, old: Location | None, new: Location | None
    ) -> None:
        self.changes.append(SchemaChange(rule, level_of(rule), message, old, new))

    def _nullable(self) -> None:
        old, new = self.old.nullable, self.new.nullable
        if old and not new:
            text = "no longer accepts null" if self.writes else "is never null now"
            self._add("became-not-nullable", f"{self.subject} {text}")
        elif new and not old:
            text = "accepts null now" if self.writes else "may be null now"
            self._add("became-nullable", f"{self.subject} {text}")

    def _types(self) -> None:
        old, new = self.old, self.new
        if _types(old) == _types(new) and old.format == new.format:
            return
        wider = _accepts(new, old)
        narrower = _accepts(old, new)
        if self.writes:
            suffix = "type-generalized" if wider else "type-changed"
        elif narrower:
            suffix = "type-specialized"
        else:
            suffix = "type-generalized" if wider else "type-changed"
        text = f"type of {self.subject} changed from {_kind(old)} to {_kind(new)}"
        self._add(suffix, text)

    def _values(self) -> None:
        old, new = self.old.enum, self.new.enum
        if old is None and new is None:
            return
        if old is None:
            if self.writes and new is not None:
                self._add(
                    "became-enum", f"{self.subject} only accepts {_list(new)} now"
                )
            return
        if new is None:
            if not self.writes:
                self._add("became-not-enum", f"{self.subject} is no longer restricted")
            return
        for key in old.keys() - new.keys():
            value = _show(old[key])
            text = "no longer accepts" if self.writes else "is never"
            self._add("enum-value-removed", f"{self.subject} {text} {value}")
        for key in new.keys() - old.keys():
            value = _show(new[key])
            text = "accepts" if self.writes else "may be"
            self._add("enum-value-added", f"{self.subject} {text} {value} now")

    def _pattern(self) -> None:
        old, new = self.old.pattern, self.new.pattern
        if old == new:
            return
        if old is None:
            self._add("pattern-added", f"{self.subject} must match {new!r} now")
        elif new is None:
            self._add("pattern-removed", f"{self.subject} lost its pattern {old!r}")
        else:
            text = f"pattern of {self.subject} changed from {old!r} to {new!r}"
            self._add("pattern-changed", text)

    def _bounds(self) -> None:
        for name, stem, upper in _LIMITS:
            old, new = getattr(self.old, name), getattr(self.new, name)
            if old == new:
                continue
            if self.writes and new is not None:
                if old is None:
                    change = "increased" if stem == "min-length" else "set"
                    self._bound(name, f"{stem}-{change}", old, new)
                elif _tighter(new, old, upper):
                    self._bound(name, f"{stem}-{_TIGHTER[upper]}", old, new)
            elif not self.writes and old is not None:
                if new is None and stem in ("max-length", "min-items"):
                    self._bound(name, f"{stem}-unset", old, new)
                elif new is None or _tighter(old, new, upper):
                    self._bound(name, f"{stem}-{_LOOSER[upper]}", old, new)

    def _bound(self, name: str, suffix: str, old: object, new: object) -> None:
        before = "none" if old is None else str(old)
        after = "none" if new is None else str(new)
        text = f"{_WORDS[name]} of {self.subject} changed from {before} to {after}"
        self._add(suffix, text)

    def _properties(self) -> None:
        old, new = self.old, self.new
        for name, key in old.properties.items():
            if self._ignored(name, old, new):
                continue
            if name in new.properties:
                self.children.append(Pair(key, new.properties[name], self.role, False))
                self._required(name)
            else:
                self._removed(name)
        for name in new.properties.keys() - old.properties.keys():
            if not self._ignored(name, old, new):
                self._added(name)

    def _ignored(self, name: str, old: Schema, new: Schema) -> bool:
        """Read-only properties are not sent, write-only ones not returned."""
        for schema, reader in ((old, self.comparison.old), (new, self.comparison.new)):
            key = schema.properties.get(name)
            if key is not None:
                prop = reader.get(key)
                if prop.read_only if self.writes else prop.write_only:
                    return True
        return False

    def _where(self, schema: Schema, name: str) -> Location:
        return schema.declared.get(name, schema.where)

    def _required(self, name: str) -> None:
        was = name in self.old.required
        now = name in self.new.required
        if was == now:
            return
        old, new = self._where(self.old, name), self._where(self.new, name)
        subject = f"property `{self._child(name)}`"
        if self.writes:
            rule = (
                "request-property-became-required"
                if now
                else "request-property-became-optional"
            )
        else:
            rule = (
                "response-property-became-required"
                if now
                else "response-property-became-optional"
            )
        state = "required" if now else "optional"
        self._add_fixed(rule, f"{subject} is {state} now", old, new)

    def _removed(self, name: str) -> None:
        subject = f"property `{self._child(name)}`"
        required = name in self.old.required
        if self.writes:
            rule = "request-property-removed"
        elif required:
            rule = "response-required-property-removed"
        else:
            rule = "response-optional-property-removed"
        kind = "required " if required else ""
        text = f"{kind}{subject} was removed"
        self._add_fixed(rule, text, self._where(self.old, name), self.new.where)

    def _added(self, name: str) -> None:
        # A property more in a response breaks no client that ignores what it
        # does not know, which every client must; only requests are checked.
        if not self.writes:
            return
        required = name in self.new.required
        rule = (
            "new-required-request-property"
            if required
            else "new-optional-request-property"
        )
        kind = "required" if required else "optional"
        text = f"new {kind} property `{self._child(name)}`"
        self._add_fixed(rule, text, self.old.where, self._where(self.new, name))

    def _child(self, name: str) -> str:
        return f"{self.label}.{name}" if self.label else name

    def _nested(self) -> None:
        for old, new in (
            (self.old.items, self.new.items),
            (self.old.additional, self.new.additional),
        ):
            if old is not None and new is not None:
                self.children.append(Pair(old, new, self.role, False))

    def _alternatives(self) -> None:
        old = self.old.alternatives or (self.old.key,)
        new = self.new.alternatives or (self.new.key,)
        matched, removed, added = self.comparison.match(old, new)
        for old_key, new_key in matched:
            if (old_key, new_key) != (self.pair.old, self.pair.new):
                self.children.append(Pair(old_key, new_key, self.role, False))
        old_kind = _KINDS[self.old.combinator or self.new.combinator]
        new_kind = _KINDS[self.new.combinator or self.old.combinator]
        for key in removed:
            alternative = self._describe(key, True)
            text = f"{self.subject} lost the {old_kind[1]} alternative {alternative}"
            self._add(f"{old_kind[0]}-removed", text, old=key[0])
        for key in added:
            alternative = self._describe(key, False)
            text = f"{self.subject} gained the {new_kind[1]} alternative {alternative}"
            self._add(f"{new_kind[0]}-added", text, new=key[0])

    def _describe(self, key: SchemaKey, old: bool) -> str:
        reader = self.comparison.old if old else self.comparison.new
        name = label(key[0])
        if not name or _alternative(key[0]):
            return _kind(reader.get(key))
        return f"`{name}`"


_SUBJECTS = {
    Role.REQUEST: "the body",
    Role.PARAMETER: "the parameter",
    Role.RESPONSE: "the body",
    Role.HEADER: "the header",
}
_KINDS = {
    "oneOf": ("one-of", "oneOf"),
    "anyOf": ("any-of", "anyOf"),
    "": ("any-of", "anyOf"),
}
_LIMITS = (
    ("maximum", "max", True),
    ("minimum", "min", False),
    ("max_length", "max-length", True),
    ("min_length", "min-length", False),
    ("max_items", "max-items", True),
    ("min_items", "min-items", False),
)
_WORDS = {
    "maximum": "maximum",
    "minimum": "minimum",
    "max_length": "maxLength",
    "min_length": "minLength",
    "max_items": "maxItems",
    "min_items": "minItems",
}
_TIGHTER = {True: "decreased", False: "increased"}
_LOOSER = {True: "increased", False: "decreased"}


def _tighter(new: object, old: object, upper: bool) -> bool:
    """Whether the limit ``new`` allows fewer values than ``old``."""
    if isinstance(new, Bound) and isinstance(old, Bound):
        if new.value != old.value:
            return new.value < old.value if upper else new.value > old.value
        return new.exclusive and not old.exclusive
    if isinstance(new, int) and isinstance(old, int):
        return new < old if upper else new > old
    return False


def _types(schema: Schema) -> frozenset[str] | None:
    """Declared types, or those its keywords imply when a writer left them out."""
    if schema.types is not None:
        return schema.types
    if schema.properties or schema.required or schema.additional is not None:
        return frozenset({"object"})
    if schema.items is not None:
        return frozenset({"array"})
    return None


def _accepts(wide: Schema, narrow: Schema) -> bool:
    """Whether every value of ``narrow``'s type and format is of ``wide``'s too."""
    wide_types, narrow_types = _types(wide), _types(narrow)
    if wide_types is not None:
        if narrow_types is None:
            return False
        for name in narrow_types:
            if name not in wide_types and not (
                name == "integer" and "number" in wide_types
            ):
                return False
    return wide.format is None or wide.format == narrow.format


def _kind(schema: Schema) -> str:
    types = _types(schema)
    text = "/".join(sorted(types)) if types else "any"
    return f"{text} ({schema.format})" if schema.format else text


def _jaccard(first: set[str], second: set[str]) -> float:
    union = first | second
    return len(first & second) / len(union) if union else 1.0


def _show(value: object) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def _list(values: Mapping[str, object]) -> str:
    shown = sorted(_show(v) for v in values.values())
    if len(shown) > 5:
        shown = [*shown[:5], f"... ({len(shown)} values)"]
    return "[" + ", ".join(shown) + "]"


def label(where: Location) -> str:
    """A readable name for a schema, from its pointer: ``customer.sources[]``.

    Components keep their name; a schema written inline in an operation is
    named by the path from the body, parameter or header that holds it.
    """
    name, rest = _anchor(unescape(where.pointer))
    text, i = name, 0
    while i < len(rest):
        segment = rest[i]
        if segment in ("properties", "patternProperties") and i + 1 < len(rest):
            text = f"{text}.{rest[i + 1]}" if text else rest[i + 1]
            i += 1
        elif segment == "items":
            text += "[]"
        elif segment == "additionalProperties":
            text += ".*"
        elif segment in ("oneOf", "anyOf", "allOf"):
            i += 1
        i += 1
    return text


def _anchor(segments: list[str]) -> tuple[str, list[str]]:
    """The component a pointer is in, and the segments under it."""
    name, start, i = "", 0, 0
    while i < len(segments):
        segment, more = segments[i], i + 1 < len(segments)
        if segment in ("properties", "patternProperties"):
            i += 2
            continue
        if more and segment in ("schemas", "definitions", "parameters", "headers"):
            named = segment in ("schemas", "definitions")
            name, start = (segments[i + 1] if named else ""), i + 2
            i += 2
            continue
        if segment == "schema":
            name, start = "", i + 1
        i += 1
    if start == 0 and segments and segments[0] not in ("paths", "components"):
        # A schema in a file of its own: the file's top-level key names it.
        return segments[0], segments[1:]
    return name, segments[start:]


def _alternative(where: Location) -> bool:
    segments = unescape(where.pointer)
    return len(segments) > 1 and segments[-2] in ("oneOf", "anyOf")
