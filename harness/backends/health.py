"""Waiting for an instance to answer its health path."""

from __future__ import annotations

import logging
from collections.abc import Callable

import requests
import tenacity

from harness.core.errors import InstanceStartError

__all__ = ["wait_until_healthy"]

logger = logging.getLogger(__name__)


class _Exited(Exception):
    """The instance stopped while we waited; retrying cannot help."""


def wait_until_healthy(
    name: str,
    url: str,
    timeout: float,
    exited: Callable[[], str | None],
    logs: Callable[[], str],
) -> None:
    """Poll ``url`` until it answers 2xx, the instance exits, or time runs out.

    ``exited`` returns a reason once the instance has stopped, else ``None``.
    Raises :class:`InstanceStartError` carrying the instance's last log lines.
    """

    def probe() -> None:
        reason = exited()
        if reason:
            raise _Exited(reason)
        logger.debug("health probe %s", url)
        response = requests.get(url, timeout=2)
        if not response.ok:
            raise requests.HTTPError(f"health answered {response.status_code}")

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_delay(timeout),
        wait=tenacity.wait_exponential(multiplier=0.05, max=0.5),
        retry=tenacity.retry_if_exception_type(requests.RequestException),
        reraise=True,
    )
    try:
        retrying(probe)
    except _Exited as exc:
        raise InstanceStartError(name, str(exc), logs()) from None
    except requests.RequestException as exc:
        reason = f"{url} not healthy after {timeout:g}s ({exc.__class__.__name__})"
        raise InstanceStartError(name, reason, logs()) from None
