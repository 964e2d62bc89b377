"""The docker backend: each instance is a container on a network of its run.

Instances of one run share a bridge network and find each other by network
alias (the instance's slug), so a consumer is wired to one provider version
even while other versions of the same service run beside it. The harness
reaches each container through a port published on 127.0.0.1 only.

Images are never pulled: they must exist on the engine, because the gate is
about the images a change proposes, and a silent pull could test another.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import docker
import requests
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer
from testcontainers.core.exceptions import ContainerStartException
from testcontainers.core.network import Network

from harness.backends.base import OWNER_LABEL, RUN_LABEL, Instance
from harness.backends.health import wait_until_healthy
from harness.backends.ownership import owner, owner_alive
from harness.core.errors import (
    BackendUnavailable,
    ConfigError,
    InstanceStartError,
    Problem,
)
from harness.core.instances import InstanceSpec

__all__ = ["DockerBackend", "clean_containers", "owner"]

logger = logging.getLogger(__name__)

_LOOPBACK = "127.0.0.1"
_REAPER_SETTING = "TESTCONTAINERS_RYUK_DISABLED"


class DockerBackend:
    """Starts each instance as a container of its version's ``image``.

    ``cpus`` and ``memory`` (Docker notation, e.g. ``"512m"``) limit every
    container, so that a run behaves the same on a laptop and on a CI machine.
    The work directory is unused: images carry their own files.
    """

    name: ClassVar[str] = "docker"

    def __init__(
        self,
        run_id: str,
        _workdir: Path | None = None,
        cpus: float = 1.0,
        memory: str = "512m",
    ) -> None:
        self.run_id = run_id
        self._limits = _limits(cpus, memory)
        self._labels = {RUN_LABEL: run_id, OWNER_LABEL: owner()}
        self._instances: dict[str, Instance] = {}
        self._closed = False
        _disable_reaper_unless_asked()

        self._client = connect()
        self._network = Network(docker_network_kw={"labels": dict(self._labels)})
        self._network.name = f"rollout-{_name_safe(run_id)}"
        try:
            self._network.create()
        except DockerException as exc:
            self._client.close()
            raise _unavailable(exc) from None
        logger.info("created network %s for run %s", self._network.name, run_id)

    def start(self, spec: InstanceSpec, env: Mapping[str, str]) -> Instance:
        image = self._local_image(spec)
        container = self._container(spec, image, env)
        try:
            container.start()
        except APIError as exc:
            _discard(container)
            raise InstanceStartError(
                spec.name, f"Docker refused to run image {image!r}: {exc.explanation}"
            ) from None
        except (DockerException, requests.ConnectionError) as exc:
            raise _unavailable(exc) from None

        instance = self._register(spec, container)
        logger.info("starting %s from %s on %s", spec.name, image, instance.url)
        try:
            wait_until_healthy(
                spec.name,
                instance.url + spec.version.health,
                spec.version.startup_timeout,
                exited=lambda: _exit_reason(container),
                logs=lambda: self.logs(instance),
            )
        except InstanceStartError as exc:
            self.stop(instance)
            reason = f"{exc.reason} (image {image})"
            raise InstanceStartError(spec.name, reason, exc.logs) from None
        logger.info("instance %s started", spec.name)
        return instance

    def _local_image(self, spec: InstanceSpec) -> str:
        image = spec.version.image
        where = f"services.{spec.key.service}.versions.{spec.key.version}"
        if not image:
            raise InstanceStartError(
                spec.name,
                f"no 'image' for the docker backend; add 'image:' under {where}",
            )
        try:
            self._client.images.get(image)
        except ImageNotFound:
            raise InstanceStartError(
                spec.name,
                f"image {image!r} ({where}.image) is not on the Docker engine and "
                "the harness never pulls; build it first (docker build -t "
                f"{image} DIR) or load it (docker pull / docker load)",
            ) from None
        except (DockerException, requests.ConnectionError) as exc:
            raise _unavailable(exc) from None
        return image

    def _container(
        self, spec: InstanceSpec, image: str, env: Mapping[str, str]
    ) -> DockerContainer:
        port = spec.version.port
        container = DockerContainer(
            image,
            name=self._container_name(spec),
            env={**spec.version.env, **env, "PORT": str(port)},
            network=self._network,
            network_aliases=[spec.key.slug],
        )
        container.with_kwargs(labels=dict(self._labels), **self._limits)
        # testcontainers types a binding as a bare host port, but hands the
        # mapping to the Docker SDK unchanged, which also accepts (address,
        # port); a port of None lets the engine choose a free one.
        container.ports[f"{port}/tcp"] = (_LOOPBACK, None)  # type: ignore[assignment]
        return container

    def _register(self, spec: InstanceSpec, container: DockerContainer) -> Instance:
        instance = Instance(
            spec.key,
            url=f"http://{_LOOPBACK}:{_published_port(container, spec.version.port)}",
            peer_url=f"http://{spec.key.slug}:{spec.version.port}",
            handle=container,
        )
        self._instances[spec.key.slug] = instance
        return instance

    def _container_name(self, spec: InstanceSpec) -> str:
        return f"rollout-{_name_safe(self.run_id)}-{spec.key.slug}"

    def logs(self, instance: Instance, lines: int = 40) -> str:
        container: DockerContainer = instance.handle
        try:
            raw: bytes = container.get_wrapped_container().logs(tail=lines)
        except (DockerException, requests.ConnectionError):
            return ""
        return raw.decode(errors="replace").rstrip("\n")

    def stop(self, instance: Instance) -> None:
        container: DockerContainer = instance.handle
        self._instances.pop(instance.key.slug, None)
        try:
            container.stop()
        except NotFound:
            return
        except DockerException as exc:
            logger.warning("could not remove %s: %s", instance.name, exc)
            return
        logger.info("instance %s stopped", instance.name)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True

        for instance in list(self._instances.values()):
            self.stop(instance)
        try:
            self._remove_stragglers()
            self._network.remove()
            logger.info("removed network %s", self._network.name)
        except NotFound:
            pass
        except (DockerException, requests.ConnectionError) as exc:
            logger.warning("could not clean up run %s: %s", self.run_id, exc)
        finally:
            self._client.close()

    def _remove_stragglers(self) -> None:
        # A start interrupted between create and register (Ctrl-C, an engine
        # error) leaves a container that only its labels can find.
        filters = {"label": [f"{key}={value}" for key, value in self._labels.items()]}
        for container in self._client.containers.list(all=True, filters=filters):
            with contextlib.suppress(NotFound):
                container.remove(force=True, v=True)

    def __enter__(self) -> DockerBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def connect() -> Any:
    """A Docker SDK client for the engine the environment points at.

    Raises :class:`BackendUnavailable` saying how to start or find one.
    """
    try:
        client = docker.from_env()
        client.ping()
    except (DockerException, requests.ConnectionError) as exc:
        raise _unavailable(exc) from None
    return client


def clean_containers(run_id: str | None = None) -> list[str]:
    """Remove containers and networks left by runs whose harness process is gone.

    With ``run_id``, only that run's. Only objects carrying the run label are
    considered, and never those of a run whose owner process still lives, or
    whose owner ran on another host (this host cannot tell whether it lives).
    Returns a description of each object removed.
    """
    client = connect()
    labelled = {"label": RUN_LABEL}
    try:
        removed = [
            _remove("container", container, container.labels, force=True, v=True)
            for container in client.containers.list(all=True, filters=labelled)
            if _left_behind(container.labels, run_id)
        ]
        removed += [
            _remove("network", network, network.attrs["Labels"])
            for network in client.networks.list(filters=labelled)
            if _left_behind(network.attrs["Labels"], run_id)
        ]
    except (DockerException, requests.ConnectionError) as exc:
        raise _unavailable(exc) from None
    finally:
        client.close()
    return [description for description in removed if description]


def _left_behind(labels: Mapping[str, str], run_id: str | None) -> bool:
    if run_id is not None and labels.get(RUN_LABEL) != run_id:
        return False
    return not owner_alive(labels.get(OWNER_LABEL, ""))


def _remove(kind: str, item: Any, labels: Mapping[str, str], **options: bool) -> str:
    try:
        item.remove(**options)
    except NotFound:
        return ""
    except APIError as exc:
        logger.warning("could not remove %s %s: %s", kind, item.name, exc.explanation)
        return ""
    logger.info("removed %s %s", kind, item.name)
    return f"{kind} {item.name} of run {labels.get(RUN_LABEL)}"


def _discard(container: DockerContainer) -> None:
    with contextlib.suppress(ContainerStartException, DockerException):
        container.stop()


def _exit_reason(container: DockerContainer) -> str | None:
    wrapped = container.get_wrapped_container()
    try:
        wrapped.reload()
    except NotFound:
        return "the container was removed"
    if wrapped.status not in ("exited", "dead"):
        return None
    state = wrapped.attrs["State"]
    if state.get("OOMKilled"):
        limit = wrapped.attrs["HostConfig"]["Memory"]
        return f"the container was killed for exceeding its memory limit ({limit} B)"
    return f"the container exited with code {state.get('ExitCode')}"


def _published_port(container: DockerContainer, port: int) -> str:
    try:
        return container.get_docker_client().port(container.get_container_id(), port)
    except ConnectionError:
        # The container exited before the engine published its port; the
        # health wait reports the exit, with the container's logs.
        return "0"


def _limits(cpus: float, memory: str) -> dict[str, int]:
    problems = []
    if cpus <= 0:
        problems.append(
            Problem(
                "backend options",
                "cpus",
                f"{cpus} is not a positive number",
                hint="give the CPUs per container, e.g. 1 or 0.5",
            )
        )
    try:
        memory_bytes = docker.utils.parse_bytes(memory)
    except DockerException:
        memory_bytes = 0
    if memory_bytes <= 0:
        problems.append(
            Problem(
                "backend options",
                "memory",
                f"{memory!r} is not a memory size",
                hint="write it as Docker does, e.g. 512m or 1g",
            )
        )
    if problems:
        raise ConfigError(problems)
    return {"nano_cpus": int(cpus * 1e9), "mem_limit": memory_bytes}


def _disable_reaper_unless_asked() -> None:
    # The reaper (Ryuk) is an image pulled from a registry, which many CI
    # machines cannot reach; the harness removes what it started itself.
    if _REAPER_SETTING not in os.environ:
        testcontainers_config.ryuk_disabled = True


def _name_safe(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_.-]+", "-", text).strip("-.") or "run"


def _unavailable(exc: BaseException) -> BackendUnavailable:
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    return BackendUnavailable(
        f"cannot reach the Docker engine at {where} ({exc}); start it (for "
        "example `dockerd &` as root, or `systemctl start docker`) or set "
        "DOCKER_HOST to an engine that runs"
    )
