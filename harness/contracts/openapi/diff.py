"""Breaking changes between two OpenAPI documents, in either direction.

A one-way diff asks: does a client built against the *old* document still work
against a server that implements the *new* one? ``backward`` takes BASE as old
and REVISION as new; ``forward`` swaps them, which is what a consumer that rolls
first (or a provider that rolls back) meets. Operations are matched by method and
path template, parameters by location and name (path parameters by position),
responses by status; schemas are compared by structure (see :mod:`.compare`).
"""

from __future__ import annotations

import datetime
import functools
import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.contracts.openapi.changes import Change, DiffResult, Direction
from harness.contracts.openapi.compare import Comparison, Pair, bits
from harness.contracts.openapi.document import Document, Location, load
from harness.contracts.openapi.ignore import IgnoreRule, apply_ignores
from harness.contracts.openapi.operations import (
    MediaType,
    Operation,
    Parameter,
    RequestBody,
    Requirement,
    Response,
    Security,
    contract,
)
from harness.contracts.openapi.rules import Role, level_of
from harness.contracts.openapi.schema import schemas
from harness.core.model import Level

__all__ = ["diff", "diff_files"]

logger = logging.getLogger(__name__)

_lock = threading.RLock()


def diff_files(
    base: str | Path,
    revision: str | Path,
    direction: Direction = Direction.BACKWARD,
    ignore: Sequence[IgnoreRule] = (),
    today: datetime.date | None = None,
) -> DiffResult:
    """Load both documents (see :func:`load`) and :func:`diff` them."""
    return diff(load(base), load(revision), direction, ignore, today)


def diff(
    base: Document,
    revision: Document,
    direction: Direction = Direction.BACKWARD,
    ignore: Sequence[IgnoreRule] = (),
    today: datetime.date | None = None,
) -> DiffResult:
    """What breaks between ``base`` and ``revision`` in ``direction``.

    ``today`` decides whether a sunset date has passed. Raises
    :class:`ContractError` when a schema turns out to contain itself.
    """
    day = today or datetime.date.today()
    found: list[Change] = []
    # Schema readers memoize as they go and are shared by every diff of a
    # document; the engine diffs cells from several threads.
    with _lock:
        for single in direction.singles():
            forward = single is Direction.FORWARD
            old, new = (revision, base) if forward else (base, revision)
            found += _one_way(old, new, forward, day)

    kept, ignored = apply_ignores(found, ignore)
    operations = len(contract(base).operations.keys() | contract(revision).operations)
    logger.info(
        "diffed %s and %s (%s): %d changes, %d ignored",
        base.path,
        revision.path,
        direction.value,
        len(kept),
        len(ignored),
    )
    return DiffResult(base.path, revision.path, direction, kept, ignored, operations)


@functools.lru_cache(maxsize=32)
def _one_way(
    old: Document, new: Document, forward: bool, today: datetime.date
) -> tuple[Change, ...]:
    # Documents come from load()'s cache, so the same file version is the same
    # object: a diff asked for again, by another cell, is not computed again.
    return tuple(_Differ(old, new, forward, today).run())


class _Differ:
    """One direction: a client of ``old`` against a server of ``new``."""

    def __init__(
        self, old: Document, new: Document, forward: bool, today: datetime.date
    ) -> None:
        self.old_document, self.new_document = old, new
        self.old, self.new = contract(old), contract(new)
        self.comparison = Comparison(schemas(old), schemas(new))
        self.forward = forward
        self.today = today
        self.found: list[Change] = []
        self._shown: dict[tuple[bool, Location | None], str] = {}

    def run(self) -> list[Change]:
        self._global_security()
        new_paths = {key.split(" ", 1)[1] for key in self.new.operations}
        for key, operation in sorted(self.old.operations.items()):
            counterpart = self.new.operations.get(key)
            if counterpart is None:
                gone = key.split(" ", 1)[1] not in new_paths
                self._removed(operation, gone)
            else:
                _OperationDiff(self, operation, counterpart).run()
        for key in sorted(self.new.operations.keys() - self.old.operations.keys()):
            added = self.new.operations[key]
            self.emit(
                "endpoint-added", added.label, "operation added", None, added.where
            )
        return self.found

    def emit(
        self,
        rule: str,
        operation: str,
        message: str,
        old: Location | None,
        new: Location | None,
        level: Level | None = None,
    ) -> None:
        old_text = self._show(True, old)
        new_text = self._show(False, new)
        base, revision = (new_text, old_text) if self.forward else (old_text, new_text)
        direction = Direction.FORWARD if self.forward else Direction.BACKWARD
        change = Change(
            rule, level or level_of(rule), operation, message, base, revision, direction
        )
        self.found.append(change)

    def _show(self, old: bool, where: Location | None) -> str:
        shown = self._shown.get((old, where))
        if shown is None:
            document = self.old_document if old else self.new_document
            shown = self._shown[(old, where)] = document.display(where)
        return shown

    def _removed(self, operation: Operation, path_gone: bool) -> None:
        stem = "api-path-removed" if path_gone else "api-removed"
        what = "path and operation" if path_gone else "operation"
        sunset = operation.sunset
        if sunset is not None and sunset > self.today:
            rule, text = (
                f"{stem}-before-sunset",
                f"{what} removed before its sunset {sunset}",
            )
        elif operation.deprecated or sunset is not None:
            rule, text = f"{stem}-with-deprecation", f"deprecated {what} removed"
        else:
            rule, text = (
                f"{stem}-without-deprecation",
                f"{what} removed without deprecation",
            )
        self.emit(rule, operation.label, text, operation.where, None)

    def _global_security(self) -> None:
        """Document-wide security, for operations that declare none of their own."""
        old, new = self.old, self.new
        if old.security == new.security:
            return
        inherits = any(
            op.security is None and new.operations[key].security is None
            for key, op in old.operations.items()
            if key in new.operations
        )
        if inherits:
            where_old, where_new = old.security_where, new.security_where
            _SecurityDiff(self, "api-global-security", "", where_old, where_new).run(
                old.security, new.security
            )


class _OperationDiff:
    """One operation present in both documents."""

    def __init__(self, differ: _Differ, old: Operation, new: Operation) -> None:
        self.differ = differ
        self.old = old
        self.new = new
        self.label = old.label
        self.roots: list[tuple[Pair, str]] = []

    def run(self) -> None:
        self._lifecycle()
        self._parameters()
        self._request_body()
        self._responses()
        self._security()
        self._schemas()

    def emit(
        self,
        rule: str,
        message: str,
        old: Location | None,
        new: Location | None,
        level: Level | None = None,
    ) -> None:
        self.differ.emit(rule, self.label, message, old, new, level)

    def _root(
        self, old: Location | None, new: Location | None, role: Role, context: str
    ) -> None:
        if old is not None and new is not None:
            old_key = schemas(self.differ.old_document).key(old)
            new_key = schemas(self.differ.new_document).key(new)
            self.roots.append((Pair(old_key, new_key, role, True), context))

    def _lifecycle(self) -> None:
        old, new = self.old, self.new
        if new.deprecated and not old.deprecated:
            self.emit(
                "endpoint-deprecated", "operation deprecated", old.where, new.where
            )
        elif old.deprecated and not new.deprecated:
            self.emit(
                "endpoint-reactivated", "no longer deprecated", old.where, new.where
            )
        if (
            old.sunset is not None
            and new.sunset is not None
            and new.sunset < old.sunset
        ):
            text = f"sunset moved earlier, from {old.sunset} to {new.sunset}"
            self.emit("api-sunset-date-changed-too-small", text, old.where, new.where)
        elif old.sunset is not None and new.sunset is None and new.deprecated:
            text = (
                f"sunset date {old.sunset} removed but the operation stays deprecated"
            )
            self.emit("sunset-deleted", text, old.where, new.where)

    def _parameters(self) -> None:
        old, new = self.old.parameters, self.new.parameters
        for key, parameter in old.items():
            counterpart = new.get(key)
            if counterpart is None:
                self._parameter_removed(parameter)
            else:
                self._parameter(parameter, counterpart)
        for key in new.keys() - old.keys():
            added = new[key]
            rule = (
                "new-required-request-parameter"
                if added.required
                else "new-optional-request-parameter"
            )
            state = "required" if added.required else "optional"
            self.emit(rule, f"new {state} {added.label}", self.old.where, added.where)

    def _parameter_removed(self, parameter: Parameter) -> None:
        sunset = parameter.sunset
        if sunset is not None and sunset > self.differ.today:
            rule = "request-parameter-removed-before-sunset"
            text = f"{parameter.label} removed before its sunset {sunset}"
        elif parameter.deprecated or sunset is not None:
            rule = "request-parameter-removed-with-deprecation"
            text = f"deprecated {parameter.label} removed"
        else:
            rule, text = "request-parameter-removed", f"{parameter.label} removed"
        self.emit(rule, text, parameter.where, None)

    def _parameter(self, old: Parameter, new: Parameter) -> None:
        if new.required != old.required:
            rule = (
                "request-parameter-became-required"
                if new.required
                else "request-parameter-became-optional"
            )
            state = "required" if new.required else "optional"
            self.emit(rule, f"{old.label} is {state} now", old.where, new.where)
        if new.deprecated != old.deprecated:
            rule = (
                "request-parameter-deprecated"
                if new.deprecated
                else "request-parameter-reactivated"
            )
            state = "deprecated" if new.deprecated else "no longer deprecated"
            self.emit(rule, f"{old.label} is {state}", old.where, new.where)
        self._root(old.schema, new.schema, Role.PARAMETER, old.label)

    def _request_body(self) -> None:
        old, new = self.old.request_body, self.new.request_body
        if old is None and new is not None:
            state = "required" if new.required else "optional"
            rule = f"request-body-added-{state}"
            self.emit(rule, f"new {state} request body", self.old.where, new.where)
        elif old is not None and new is None:
            self.emit("request-body-removed", "request body removed", old.where, None)
        elif old is not None and new is not None:
            self._request_body_changes(old, new)

    def _request_body_changes(self, old: RequestBody, new: RequestBody) -> None:
        if new.required and not old.required:
            self.emit(
                "request-body-became-required",
                "request body is required now",
                old.where,
                new.where,
            )
        elif old.required and not new.required:
            self.emit(
                "request-body-became-optional",
                "request body is optional now",
                old.where,
                new.where,
            )
        for name, media in old.content.items():
            target = _accepting(name, new.content)
            if target is None:
                text = f"request body no longer accepts {name}"
                self.emit(
                    "request-body-media-type-removed", text, media.where, new.where
                )
            else:
                context = f"request body ({name})"
                self._root(
                    media.schema, new.content[target].schema, Role.REQUEST, context
                )
        for name in new.content.keys() - old.content.keys():
            text = f"request body accepts {name} now"
            self.emit(
                "request-body-media-type-added",
                text,
                old.where,
                new.content[name].where,
            )

    def _responses(self) -> None:
        old, new = self.old.responses, self.new.responses
        for status, response in old.items():
            counterpart = _status(status, new)
            if counterpart is None:
                kind = "success" if status.startswith("2") else "non-success"
                text = f"response {status} removed"
                self.emit(f"response-{kind}-status-removed", text, response.where, None)
            else:
                self._response(status, response, new[counterpart])
        for status, response in new.items():
            if _status(status, old) is None:
                kind = "success" if status.startswith("2") else "non-success"
                text = f"response {status} added"
                self.emit(
                    f"response-{kind}-status-added",
                    text,
                    self.old.where,
                    response.where,
                )

    def _response(self, status: str, old: Response, new: Response) -> None:
        for name, media in old.content.items():
            counterpart = new.content.get(name)
            if counterpart is None:
                text = f"response {status} no longer returns {name}"
                self.emit("response-media-type-removed", text, media.where, new.where)
            else:
                context = f"response {status} ({name})"
                self._root(media.schema, counterpart.schema, Role.RESPONSE, context)
        for name in new.content.keys() - old.content.keys():
            text = f"response {status} may return {name} now"
            self.emit(
                "response-media-type-added", text, old.where, new.content[name].where
            )
        self._headers(status, old, new)

    def _headers(self, status: str, old: Response, new: Response) -> None:
        for key, header in old.headers.items():
            counterpart = new.headers.get(key)
            subject = f"response {status} header `{header.name}`"
            if counterpart is None:
                rule = (
                    "required-response-header-removed"
                    if header.required
                    else "optional-response-header-removed"
                )
                self.emit(rule, f"{subject} removed", header.where, new.where)
                continue
            if header.required and not counterpart.required:
                text = f"{subject} is optional now"
                self.emit(
                    "response-header-became-optional",
                    text,
                    header.where,
                    counterpart.where,
                )
            self._root(header.schema, counterpart.schema, Role.HEADER, subject)
        for key in new.headers.keys() - old.headers.keys():
            header = new.headers[key]
            text = f"response {status} header `{header.name}` added"
            self.emit("response-header-added", text, old.where, header.where)

    def _security(self) -> None:
        old, new = self.old, self.new
        if old.security is None and new.security is None:
            return  # both follow the document; see _Differ._global_security
        old_security = _own_or(old.security, self.differ.old.security)
        new_security = _own_or(new.security, self.differ.new.security)
        if old_security != new_security:
            where_old = old.security_where or self.differ.old.security_where
            where_new = new.security_where or self.differ.new.security_where
            _SecurityDiff(
                self.differ, "api-security", self.label, where_old, where_new
            ).run(old_security, new_security)

    def _schemas(self) -> None:
        comparison = self.differ.comparison
        seen_mask = 0
        seen: set[tuple[str, Location | None, Location | None]] = set()
        for pair, context in self.roots:
            mask = comparison.reach(pair) & ~seen_mask
            seen_mask |= mask
            for index in bits(mask):
                change = comparison.changes[index]
                key = (change.rule, change.old, change.new)
                if key not in seen:
                    seen.add(key)
                    message = f"{context}: {change.message}"
                    self.emit(
                        change.rule, message, change.old, change.new, change.level
                    )


def _status(status: str, responses: Mapping[str, Response]) -> str | None:
    """The status of ``responses`` that answers ``status``: itself, or its range.

    A client of ``200`` reads a ``2XX`` response and the other way round.
    """
    if status in responses:
        return status
    if status.endswith("XX"):
        return next((s for s in responses if s[:1] == status[:1]), None)
    family = f"{status[:1]}XX"
    return family if family in responses else None


def _own_or(own: Security | None, document: Security) -> Security:
    return own if own is not None else document


def _accepting(name: str, content: Mapping[str, MediaType]) -> str | None:
    """The media type of ``content`` that takes what clients sent as ``name``."""
    if name in content:
        return name
    family = name.split("/", 1)[0] + "/*"
    for candidate in (family, "*/*"):
        if candidate in content:
            return candidate
    return None


class _SecurityDiff:
    """Security requirements: alternatives, each a set of schemes with scopes.

    A client built against the old document satisfies one old alternative; it
    still gets in when some new alternative asks for no more than that.
    """

    def __init__(
        self,
        differ: _Differ,
        prefix: str,
        operation: str,
        old_where: Location,
        new_where: Location,
    ) -> None:
        self.differ = differ
        self.prefix = prefix
        self.operation = operation
        self.old_where = old_where
        self.new_where = new_where

    def run(self, old: Security, new: Security) -> None:
        old_alternatives = old or ((),)
        new_alternatives = new or ((),)
        answered: set[Requirement] = set()
        for alternative in old_alternatives:
            if alternative not in new_alternatives:
                answered |= self._lost(alternative, new_alternatives)
        for alternative in new_alternatives:
            if alternative not in old_alternatives and alternative not in answered:
                if alternative:
                    self._emit(
                        "added", f"also accepts {_describe(alternative)}", Level.INFO
                    )
                else:
                    self._emit(
                        "removed",
                        "accepts requests without credentials now",
                        Level.INFO,
                    )

    def _lost(
        self,
        alternative: Requirement,
        new: Security,
    ) -> set[Requirement]:
        breaking = not any(_covers(alternative, other) for other in new)
        level = Level.ERROR if breaking else Level.INFO
        names = {scheme for scheme, _ in alternative}
        same = next((o for o in new if {s for s, _ in o} == names and o), None)
        if same is not None:
            self._scopes(alternative, same, level)
            return {same}
        if not alternative:
            self._emit("added", f"requires {_describe_all(new)} now", Level.ERROR)
            return set(new)
        self._emit("removed", f"no longer accepts {_describe(alternative)}", level)
        return set()

    def _scopes(self, old: Requirement, new: Requirement, level: Level) -> None:
        before = dict(old)
        for scheme, scopes in new:
            for scope in sorted(set(scopes) - set(before.get(scheme, ()))):
                self._emit(
                    "scope-added", f"{scheme} needs the scope {scope!r} now", level
                )
            for scope in sorted(set(before.get(scheme, ())) - set(scopes)):
                self._emit(
                    "scope-removed",
                    f"{scheme} no longer needs the scope {scope!r}",
                    Level.INFO,
                )

    def _emit(self, suffix: str, message: str, level: Level) -> None:
        rule = f"{self.prefix}-{suffix}"
        self.differ.emit(
            rule, self.operation, message, self.old_where, self.new_where, level
        )


def _covers(
    client: Requirement,
    required: Requirement,
) -> bool:
    """Whether credentials for ``client`` satisfy the requirement ``required``."""
    held = dict(client)
    return all(
        scheme in held and set(scopes) <= set(held[scheme])
        for scheme, scopes in required
    )


def _describe(alternative: Requirement) -> str:
    if not alternative:
        return "no credentials"
    return " + ".join(
        f"{scheme} [{', '.join(scopes)}]" if scopes else scheme
        for scheme, scopes in alternative
    )


def _describe_all(alternatives: Security) -> str:
    return " or ".join(_describe(a) for a in alternatives)
