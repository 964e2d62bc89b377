"""The ``stream`` check: websocket messages of the provider, read by the consumer.

The check subscribes to the edge's channel on the running provider version,
collects a bounded number of messages, and validates each against the message
schemas the consumer version accepts.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import websocket

from harness.checks.base import Check, CheckContext
from harness.contracts.messages import load_message_schema
from harness.core.model import CheckKind, CheckResult, Finding

__all__ = ["CHECK"]

logger = logging.getLogger(__name__)


def preflight(context: CheckContext) -> None:
    consumption = context.consumption
    if consumption is not None and consumption.messages is not None:
        load_message_schema(consumption.messages)


def run(context: CheckContext) -> CheckResult:
    consumption = context.consumption
    if consumption is None or consumption.messages is None:
        return CheckResult.skipped(
            CheckKind.STREAM,
            f"{context.cell.consumer} declares no messages it accepts from "
            f"{context.cell.edge.provider}",
        )
    if context.provider_url is None:
        return CheckResult.skipped(CheckKind.STREAM, "no running provider")

    schema = load_message_schema(consumption.messages)
    url = "ws" + context.provider_url.removeprefix("http") + context.edge.channel
    began = time.monotonic()
    try:
        messages = _collect(url, context.edge.messages, context.edge.message_timeout)
    except websocket.WebSocketBadStatusException as exc:
        finding = Finding(
            message=f"channel {context.edge.channel} refused the subscription "
            f"(HTTP {exc.status_code})",
            location=context.edge.channel,
        )
        return CheckResult.from_findings(CheckKind.STREAM, [finding])
    except (OSError, websocket.WebSocketException) as exc:
        return CheckResult.from_error(
            CheckKind.STREAM, f"cannot subscribe to {url}: {exc}"
        )

    if not messages:
        return CheckResult.from_error(
            CheckKind.STREAM,
            f"no message on {url} within {context.edge.message_timeout:g}s; "
            "nothing is known (raise the edge's message_timeout, or make the "
            "provider emit on subscribe)",
        )

    findings = _judge(messages, schema.problems, context.edge.channel)
    summary = f"{len(messages)} messages on {context.edge.channel} checked"
    return CheckResult.from_findings(
        CheckKind.STREAM, findings, summary, time.monotonic() - began
    )


def _collect(url: str, count: int, timeout: float) -> list[str]:
    """Up to ``count`` text messages received within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    connection = websocket.create_connection(url, timeout=timeout)
    messages: list[str] = []
    try:
        while len(messages) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            connection.settimeout(remaining)
            try:
                frame = connection.recv()
            except websocket.WebSocketTimeoutException:
                break
            messages.append(frame if isinstance(frame, str) else frame.decode())
    finally:
        connection.close()
    logger.debug("collected %d messages from %s", len(messages), url)
    return messages


def _judge(
    messages: list[str], problems_of: Callable[[Any], list[str]], channel: str
) -> list[Finding]:
    findings: dict[str, Finding] = {}
    for index, text in enumerate(messages):
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            problems = ["message is not JSON"]
        else:
            problems = problems_of(message)
        for problem in problems:
            findings.setdefault(
                problem,
                Finding(
                    message=problem,
                    location=channel,
                    detail=f"message {index + 1}: {text[:500]}",
                ),
            )
    return list(findings.values())


CHECK = Check(kind=CheckKind.STREAM, run=run, preflight=preflight)
