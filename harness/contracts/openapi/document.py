"""Reading one contract document: its syntax, its version, its shape, its references.

:func:`load` returns a :class:`Document` for an OpenAPI 3.0, OpenAPI 3.1 or Swagger
2.0 file written in YAML or JSON. Every ``$ref`` is resolved once, at load time,
with :mod:`referencing`: local pointers and relative files alike, so that a broken
reference or a reference cycle is reported before any diff starts. Everything
wrong with a document is raised together as one :class:`ContractError`.

Loads are cached by path, modification time and size of the document and of every
file it refers to: the engine asks for the same contract once per cell.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, cast
from urllib.parse import unquote, urldefrag, urljoin, urlsplit
from urllib.request import url2pathname

import referencing
import referencing.exceptions
import yaml
from jsonschema import Draft202012Validator, ValidationError

from harness.contracts.openapi import shape
from harness.core.errors import ContractError, Problem

__all__ = ["Document", "Location", "SpecVersion", "load"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

# A document with more problems than this has a bigger issue than its details.
_MAX_PROBLEMS = 25

# YAML aliases can make a small file expand into an enormous tree; stop walking
# well before that turns into a hang.
_MAX_NODES = 5_000_000

_READ_HINT = "check the path and the file's permissions"
_SYNTAX_HINT = "fix the syntax at that line and column"

# Keys whose values are data (examples, defaults, enums) or vendor extensions:
# a "$ref" key inside them is a value, not a reference.
_DATA_KEYS = frozenset({"example", "default", "enum", "const"})

# Keys whose values map names to objects: their keys are names, never keywords.
_NAME_MAPS = frozenset(
    {
        "callbacks",
        "content",
        "definitions",
        "$defs",
        "dependentSchemas",
        "encoding",
        "headers",
        "links",
        "parameters",
        "pathItems",
        "paths",
        "patternProperties",
        "properties",
        "requestBodies",
        "responses",
        "schemas",
        "securityDefinitions",
        "securitySchemes",
        "webhooks",
    }
)


class SpecVersion(enum.Enum):
    """The specification a document follows."""

    SWAGGER_2 = "2.0"
    OPENAPI_30 = "3.0"
    OPENAPI_31 = "3.1"


class Location(NamedTuple):
    """Where a value sits: a file's URI and a JSON pointer (RFC 6901) into it."""

    uri: str
    pointer: str

    def child(self, *segments: str | int) -> Location:
        """The location of a value nested under this one."""
        tail = "".join("/" + escape(segment) for segment in segments)
        return Location(self.uri, self.pointer + tail)


def escape(segment: str | int) -> str:
    """One JSON pointer segment, escaped as RFC 6901 section 3 requires."""
    text = str(segment)
    if "~" in text or "/" in text:
        return text.replace("~", "~0").replace("/", "~1")
    return text


def unescape(pointer: str) -> list[str]:
    """The segments of a JSON pointer, unescaped."""
    if not pointer:
        return []
    return [s.replace("~1", "/").replace("~0", "~") for s in pointer[1:].split("/")]


class Document:
    """A contract document whose syntax, shape and references were checked.

    ``targets`` maps the location of every ``$ref`` object to the location of the
    value it finally denotes (chains of references are followed). Reading a value
    never touches the file system again.
    """

    __slots__ = (
        "_derived",
        "_nodes",
        "digest",
        "files",
        "path",
        "targets",
        "uri",
        "version",
    )

    def __init__(
        self,
        path: Path,
        version: SpecVersion,
        files: Mapping[str, Any],
        targets: Mapping[Location, Location],
        digest: str,
    ) -> None:
        self.path = path
        self.uri = path.as_uri()
        self.version = version
        self.files = files
        self.targets = targets
        self.digest = digest
        self._nodes: dict[Location, Any] = {}
        self._derived: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"Document({str(self.path)!r}, {self.version.value})"

    @property
    def root(self) -> Location:
        """The location of the whole root file."""
        return Location(self.uri, "")

    @property
    def contents(self) -> Any:
        """The root file, parsed."""
        return self.files[self.uri]

    def node(self, where: Location) -> Any:
        """The value at ``where``; the location must exist."""
        nodes = self._nodes
        if where in nodes:
            return nodes[where]

        # Values are mostly read parent first: climb to the nearest value
        # already read (the file itself at worst), then walk down from there.
        pending: list[Location] = []
        known = where
        while known not in nodes and known.pointer:
            pending.append(known)
            known = Location(known.uri, known.pointer.rpartition("/")[0])
        value = nodes[known] if known in nodes else self.files[known.uri]
        for step in reversed(pending):
            value = _step(value, step.pointer.rpartition("/")[2])
            nodes[step] = value
        return value

    def derived(self, name: str, build: Callable[[Document], _T]) -> _T:
        """A view computed from this document once and kept with it."""
        try:
            return cast("_T", self._derived[name])
        except KeyError:
            value = self._derived[name] = build(self)
            return value

    def deref(self, where: Location) -> Location:
        """Where the value at ``where`` really is, after following its ``$ref``."""
        return self.targets.get(where, where)

    def display(self, where: Location | None) -> str:
        """A location as a user reads it: ``#/pointer`` or ``file.yaml#/pointer``."""
        if where is None:
            return ""
        if where.uri == self.uri:
            return "#" + where.pointer
        other = Path(url2pathname(urlsplit(where.uri).path))
        try:
            name = other.relative_to(self.path.parent).as_posix()
        except ValueError:
            name = str(other)
        return f"{name}#{where.pointer}"


def _step(container: Any, segment: str) -> Any:
    key = segment.replace("~1", "/").replace("~0", "~")
    return container[int(key)] if isinstance(container, list) else container[key]


def load(path: str | Path) -> Document:
    """Read, check and resolve a contract document; cached per file version.

    Raises :class:`ContractError` with every problem found: unreadable file,
    invalid YAML or JSON, unsupported version, a value of the wrong shape, a
    broken ``$ref`` or a reference cycle.
    """
    resolved = Path(path).resolve()
    key = _stamp(resolved)
    with _lock:
        cached = _cache.get(resolved)
    if cached is not None and cached[0] == key and _unchanged(cached[1]):
        return cached[2]

    document, sources = _Loader(resolved).load()
    with _lock:
        _cache[resolved] = (key, sources, document)
    logger.debug("loaded %s (%s)", resolved, document.version.value)
    return document


_Stamp = tuple[int, int]
_lock = threading.Lock()
_cache: dict[Path, tuple[_Stamp, tuple[tuple[Path, _Stamp], ...], Document]] = {}


def _stamp(path: Path) -> _Stamp:
    try:
        stat = path.stat()
    except OSError as exc:
        raise ContractError(
            [
                Problem(
                    str(path),
                    "",
                    f"cannot read the contract: {exc.strerror or exc}",
                    hint="check the path; relative paths start at the current folder",
                )
            ]
        ) from None
    return (stat.st_mtime_ns, stat.st_size)


def _unchanged(sources: tuple[tuple[Path, _Stamp], ...]) -> bool:
    try:
        return all(_stamp(path) == stamp for path, stamp in sources)
    except ContractError:
        return False


class _Loader:
    """One load: reads the root file and every file its references reach."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files: dict[str, Any] = {}
        self.hashes: dict[str, str] = {}
        self.sources: list[tuple[Path, _Stamp]] = []
        self.problems: list[Problem] = []
        self.targets: dict[Location, Location] = {}

    def load(self) -> tuple[Document, tuple[tuple[Path, _Stamp], ...]]:
        uri = self.path.as_uri()
        contents = self._read(self.path)
        version = _version(self.path, contents)

        self.problems += _shape_problems(self.path, contents, version)
        if not self.problems:
            self._resolve_references(uri)
        if self.problems:
            raise ContractError(self.problems[:_MAX_PROBLEMS])

        digest = hashlib.sha256()
        for name in sorted(self.hashes):
            digest.update(self.hashes[name].encode())
        document = Document(
            self.path, version, self.files, self.targets, digest.hexdigest()
        )
        return document, tuple(self.sources)

    def _read(self, path: Path) -> Any:
        uri = path.as_uri()
        if uri in self.files:
            return self.files[uri]

        stamp = _stamp(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ContractError(
                [
                    Problem(
                        str(path),
                        "",
                        f"cannot read the file: {exc.strerror}",
                        _READ_HINT,
                    )
                ]
            ) from None
        contents = _parse(path, raw)
        self.files[uri] = contents
        self.hashes[uri] = hashlib.sha256(raw).hexdigest()
        self.sources.append((path, stamp))
        return contents

    def _resolve_references(self, root: str) -> None:
        registry: referencing.Registry[Any] = referencing.Registry(
            retrieve=self._retrieve  # type: ignore[call-arg]
        ).with_resource(root, referencing.Resource.opaque(self.files[root]))
        pending = [root]
        scanned: set[str] = set()
        while pending:
            uri = pending.pop()
            if uri in scanned:
                continue
            scanned.add(uri)
            # JSON cannot share values; YAML aliases can, even recursively.
            if not uri.endswith(".json"):
                aliases = _walk_problems(self.path, uri, self.files[uri])
                if aliases:
                    self.problems += aliases
                    continue
            resolved: dict[str, Location | None] = {}
            for where, ref in _references(uri, self.files[uri]):
                if ref not in resolved:
                    resolved[ref] = self._lookup(registry, where, ref)
                target = resolved[ref]
                if target is not None:
                    self.targets[where] = target
                    pending.append(target.uri)
        self._follow_chains()

    def _retrieve(self, uri: str) -> referencing.Resource[Any]:
        parts = urlsplit(uri)
        if parts.scheme != "file":
            raise ContractError(
                [
                    Problem(
                        uri,
                        "",
                        "remote references are not followed",
                        hint="download the document and refer to the local copy",
                    )
                ]
            )
        contents = self._read(Path(url2pathname(parts.path)))
        return referencing.Resource.opaque(contents)

    def _lookup(
        self, registry: referencing.Registry[Any], where: Location, ref: str
    ) -> Location | None:
        uri, fragment = urldefrag(urljoin(where.uri, ref))
        try:
            registry.resolver(base_uri=where.uri).lookup(ref)
        except referencing.exceptions.Unresolvable as exc:
            self.problems += _unresolvable(self.path, where, ref, exc)
            return None
        except (ValueError, TypeError):
            # referencing indexes lists with int(segment); "#/items/x" lands here.
            self.problems.append(_broken(self.path, where, ref))
            return None
        return Location(uri, unquote(fragment))

    def _follow_chains(self) -> None:
        """Point every reference at its final value, refusing cycles."""
        final: dict[Location, Location] = {}
        looping: set[Location] = set()
        for start in self.targets:
            if start in looping:
                continue
            seen = [start]
            target = self.targets[start]
            while target in self.targets and target not in final:
                if target in seen or target in looping:
                    self.problems.append(_cycle(self.path, seen))
                    looping.update(seen)
                    break
                seen.append(target)
                target = self.targets[target]
            else:
                target = final.get(target, target)
                for where in seen:
                    final[where] = target
        self.targets = final


def _parse(path: Path, raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContractError(
            [
                Problem(
                    str(path), f"byte {exc.start}", "not UTF-8 text", "save it as UTF-8"
                )
            ]
        ) from None

    try:
        return _parse_text(path, text)
    except RecursionError:
        raise ContractError(
            [Problem(str(path), "", "nested too deeply to read", "use $ref to share")]
        ) from None


def _parse_text(path: Path, text: str) -> Any:
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            raise ContractError(
                [Problem(str(path), where, f"invalid JSON: {exc.msg}", _SYNTAX_HINT)]
            ) from None
    try:
        return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        message = f"invalid YAML: {exc.problem or exc}"
        raise ContractError(
            [Problem(str(path), where, message, _SYNTAX_HINT)]
        ) from None
    except yaml.YAMLError as exc:
        raise ContractError(
            [Problem(str(path), "", f"invalid YAML: {exc}", _SYNTAX_HINT)]
        ) from None


class _YamlLoader(yaml.CSafeLoader):
    """The safe loader, with mapping keys read as strings.

    OpenAPI keys are strings, but YAML reads an unquoted ``200:`` as an integer.
    """

    def construct_mapping(
        self, node: yaml.MappingNode, deep: bool = False
    ) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        return {k if isinstance(k, str) else str(k): v for k, v in mapping.items()}


def _version(path: Path, contents: Any) -> SpecVersion:
    if not isinstance(contents, dict):
        raise ContractError(
            [
                Problem(
                    str(path),
                    "",
                    "the document is not a mapping",
                    hint="an OpenAPI document starts with `openapi: 3.x` or "
                    "`swagger: '2.0'`",
                )
            ]
        )
    declared = contents.get("openapi", contents.get("swagger"))
    text = str(declared) if declared is not None else ""
    if "swagger" in contents and text == "2.0":
        return SpecVersion.SWAGGER_2
    if "openapi" in contents and text.startswith("3.0"):
        return SpecVersion.OPENAPI_30
    if "openapi" in contents and text.startswith(("3.1", "3.2")):
        return SpecVersion.OPENAPI_31
    key = (
        "swagger" if "swagger" in contents and "openapi" not in contents else "openapi"
    )
    found = f"found {text!r}" if text else "it is missing"
    raise ContractError(
        [
            Problem(
                str(path),
                key,
                f"not a supported OpenAPI version ({found})",
                hint="rollout reads OpenAPI 3.0 and 3.1 (`openapi: 3.x.y`) and "
                "Swagger 2.0 (`swagger: '2.0'`)",
            )
        ]
    )


_VALIDATORS = {
    version: Draft202012Validator(shape.schema_for(version.value))
    for version in SpecVersion
}


def _shape_problems(path: Path, contents: Any, version: SpecVersion) -> list[Problem]:
    errors = _VALIDATORS[version].iter_errors(contents)
    ordered = sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])
    return [_shape_problem(path, error) for error in ordered[:_MAX_PROBLEMS]]


def _shape_problem(path: Path, error: ValidationError) -> Problem:
    pointer = "#" + "".join("/" + escape(p) for p in error.absolute_path)
    if error.validator == "type":
        found = type(error.instance).__name__.replace("dict", "mapping")
        message = f"expected {_kinds(error.validator_value)}, found {found}"
        return Problem(
            str(path), pointer, message, hint="see the OpenAPI specification"
        )
    if error.validator == "required":
        return Problem(str(path), pointer, error.message, hint="add the missing field")
    if error.validator == "propertyNames":
        return Problem(
            str(path),
            pointer,
            f"{error.instance!r} is not a valid key here",
            hint="paths start with '/'; extensions start with 'x-'",
        )
    message = error.message if len(error.message) < 160 else error.message[:157] + "..."
    return Problem(str(path), pointer, message, hint="see the OpenAPI specification")


def _kinds(value: Any) -> str:
    names = value if isinstance(value, list) else [value]
    words = {"object": "a mapping", "array": "a list", "string": "a string"}
    return " or ".join(words.get(str(n), f"a {n}") for n in names)


def _references(uri: str, contents: Any) -> Iterator[tuple[Location, str]]:
    """Every ``$ref`` where OpenAPI allows one: not inside examples or extensions."""
    stack: list[tuple[Any, str, bool]] = [(contents, "", False)]
    while stack:
        value, pointer, names = stack.pop()
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str) and not names:
                yield Location(uri, pointer), ref
            for key, child in value.items():
                if not isinstance(child, dict | list):
                    continue
                if names or not (key in _DATA_KEYS or key.startswith("x-")):
                    if key == "examples" and not names:
                        yield from _example_references(uri, pointer, child)
                        continue
                    child_names = key in _NAME_MAPS and not names
                    stack.append((child, f"{pointer}/{escape(key)}", child_names))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                if isinstance(child, dict | list):
                    stack.append((child, f"{pointer}/{index}", False))


def _example_references(
    uri: str, pointer: str, examples: Any
) -> Iterator[tuple[Location, str]]:
    # A media type's `examples` maps names to Example Objects, which may be
    # references; a schema's `examples` (OpenAPI 3.1) is a list of plain values.
    if isinstance(examples, dict):
        for name, example in examples.items():
            if isinstance(example, dict) and isinstance(example.get("$ref"), str):
                where = Location(uri, f"{pointer}/examples/{escape(name)}")
                yield where, example["$ref"]


def _walk_problems(path: Path, uri: str, contents: Any) -> list[Problem]:
    """Refuse YAML alias cycles and alias bombs, which no JSON tree can express."""
    on_path: set[int] = set()
    done: set[int] = set()
    stack: list[tuple[Any, str, bool]] = [(contents, "", False)]
    visited = 0
    while stack:
        value, pointer, leaving = stack.pop()
        if leaving:
            on_path.discard(id(value))
            done.add(id(value))
            continue
        if not isinstance(value, dict | list) or id(value) in done:
            continue
        if id(value) in on_path:
            return [
                Problem(
                    _file_name(path, uri),
                    "#" + pointer,
                    "a YAML alias contains itself",
                    hint="use a $ref for recursive structures",
                )
            ]
        visited += 1
        if visited > _MAX_NODES:
            return [
                Problem(
                    _file_name(path, uri),
                    "",
                    f"the document expands to more than {_MAX_NODES} values",
                    hint="YAML aliases multiply the document; use $ref instead",
                )
            ]
        on_path.add(id(value))
        stack.append((value, pointer, True))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            stack.append((child, f"{pointer}/{escape(key)}", False))
    return []


def _file_name(path: Path, uri: str) -> str:
    return str(Path(url2pathname(urlsplit(uri).path))) if uri else str(path)


def _unresolvable(
    path: Path, where: Location, ref: str, error: Exception
) -> list[Problem]:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ContractError):
            reason = cause.problems[0]
            return [
                Problem(
                    _file_name(path, where.uri),
                    f"#{where.pointer}/$ref",
                    f"the reference {ref!r} cannot be followed: {reason}",
                    hint=reason.hint or "fix the referenced file or the reference",
                )
            ]
        cause = cause.__cause__
    return [_broken(path, where, ref)]


def _broken(path: Path, where: Location, ref: str) -> Problem:
    return Problem(
        _file_name(path, where.uri),
        f"#{where.pointer}/$ref",
        f"the reference {ref!r} points to nothing",
        hint="fix the pointer or add the missing definition; pointers escape '/' "
        "as '~1' and '~' as '~0'",
    )


def _cycle(path: Path, chain: list[Location]) -> Problem:
    steps = " -> ".join("#" + where.pointer for where in chain)
    return Problem(
        _file_name(path, chain[0].uri),
        f"#{chain[0].pointer}/$ref",
        f"the reference never reaches a value: {steps} -> (again)",
        hint="one of these references must point to an actual definition",
    )
