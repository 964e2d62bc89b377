"""The default backend: each instance is a local subprocess on a loopback port."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, ClassVar

from harness.backends.base import Instance
from harness.backends.health import wait_until_healthy
from harness.backends.ownership import pid_alive
from harness.core.errors import InstanceStartError
from harness.core.instances import InstanceSpec

__all__ = ["OWNER_ENV", "RUN_ENV", "ProcessBackend", "clean_processes"]

logger = logging.getLogger(__name__)

# Every process we start carries these in its environment. They are its labels:
# `rollout clean` finds the processes of dead runs through them.
RUN_ENV = "ROLLOUT_HARNESS_RUN_ID"
OWNER_ENV = "ROLLOUT_HARNESS_OWNER_PID"

_HOST = "127.0.0.1"
_STOP_GRACE = 5.0


@dataclass(slots=True)
class _Process:
    popen: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]


class ProcessBackend:
    """Starts instances with their ``command``; needs nothing installed.

    Each process runs in its own session, so that stopping it also stops the
    children it spawned (uvicorn workers, shell wrappers).
    """

    name: ClassVar[str] = "process"

    def __init__(self, run_id: str, workdir: Path, python: str = sys.executable):
        self.run_id = run_id
        self._workdir = workdir
        self._python = python
        self._logs = Path(tempfile.mkdtemp(prefix=f"{run_id}-"))
        self._instances: dict[str, Instance] = {}

    def start(self, spec: InstanceSpec, env: Mapping[str, str]) -> Instance:
        if not spec.version.command:
            raise InstanceStartError(
                spec.name,
                "no 'command' for the process backend; add one under "
                f"services.{spec.key.service}.versions.{spec.key.version}, "
                "or use --backend docker",
            )

        port = _free_port()
        process = self._spawn(spec, env, port)
        url = f"http://{_HOST}:{port}"
        instance = Instance(spec.key, url, url, handle=process)
        self._instances[spec.key.slug] = instance
        logger.info("starting %s on %s (pid %s)", spec.name, url, process.popen.pid)

        try:
            wait_until_healthy(
                spec.name,
                url + spec.version.health,
                spec.version.startup_timeout,
                exited=lambda: _exit_reason(process),
                logs=lambda: self.logs(instance),
            )
        except InstanceStartError:
            self.stop(instance)
            raise
        logger.info("instance %s started", spec.name)
        return instance

    def _spawn(self, spec: InstanceSpec, env: Mapping[str, str], port: int) -> _Process:
        values = {"{python}": self._python, "{host}": _HOST, "{port}": str(port)}
        command = [_fill(part, values) for part in spec.version.command]
        log_path = self._logs / f"{spec.key.slug}.log"
        log_file = log_path.open("wb")
        environment = {
            **os.environ,
            **spec.version.env,
            **env,
            "PORT": str(port),
            RUN_ENV: self.run_id,
            OWNER_ENV: str(os.getpid()),
        }
        try:
            popen = subprocess.Popen(
                command,
                cwd=self._workdir,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            log_file.close()
            reason = f"cannot run {command[0]!r}: {exc.strerror}"
            raise InstanceStartError(spec.name, reason) from None
        return _Process(popen, log_path, log_file)

    def logs(self, instance: Instance, lines: int = 40) -> str:
        process: _Process = instance.handle
        try:
            text = process.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, instance: Instance) -> None:
        process: _Process = instance.handle
        _terminate_group(process.popen)
        process.log_file.close()
        logger.info("instance %s stopped", instance.name)

    def close(self) -> None:
        for instance in list(self._instances.values()):
            self.stop(instance)
        self._instances.clear()

    def __enter__(self) -> ProcessBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def clean_processes(run_id: str | None = None) -> list[str]:
    """Stop processes left by runs whose harness process is gone.

    With ``run_id``, only that run's; processes of live runs are never touched.
    Returns a description of each process stopped.
    """
    stopped = []
    for pid, labels in _labelled_processes():
        owner = int(labels.get(OWNER_ENV, "0") or 0)
        if run_id is not None and labels.get(RUN_ENV) != run_id:
            continue
        if pid_alive(owner) and owner != pid:
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(os.getpgid(pid), signal.SIGKILL)
            stopped.append(f"process {pid} of run {labels.get(RUN_ENV)}")
    return stopped


def _labelled_processes() -> Iterator[tuple[int, dict[str, str]]]:
    """Processes whose environment carries a run label (Linux /proc only)."""
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            raw = (entry / "environ").read_bytes()
        except OSError:
            continue
        if RUN_ENV.encode() not in raw:
            continue
        pairs = (item.partition(b"=") for item in raw.split(b"\0") if item)
        labels = {
            key.decode(errors="replace"): value.decode(errors="replace")
            for key, _, value in pairs
            if key.decode(errors="replace") in (RUN_ENV, OWNER_ENV)
        }
        yield int(entry.name), labels


def _terminate_group(popen: subprocess.Popen[bytes]) -> None:
    # Signal the group even when its leader has exited: children it spawned
    # may still hold the port.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, signal.SIGTERM)
    try:
        popen.wait(timeout=_STOP_GRACE)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, signal.SIGKILL)
        popen.wait()


def _exit_reason(process: _Process) -> str | None:
    code = process.popen.poll()
    return None if code is None else f"the process exited with code {code}"


def _fill(part: str, values: Mapping[str, str]) -> str:
    for placeholder, value in values.items():
        part = part.replace(placeholder, value)
    return part


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        port: int = sock.getsockname()[1]
        return port
