"""One small supervisor for every process the platform starts (endpoint, UIs, daemons).

Each service runs detached in its own session (so its own process group: stopping it ends
its workers too), with a pid file `$HIRELOOP_HOME/run/<name>.pid` and a log
`$HIRELOOP_HOME/logs/<name>.log`. The pid file records the process's start time, so a
pid the kernel gave to another process since is recognised as stale, not signalled. A
lock per service makes "already running?" and the start one step: never two of a kind.

It lives in orchestration, not in `ml`: starting processes is deployment, and `ml` only
describes the command it wants run (`ml.endpoint_launch.command`), then calls what it is given
(`ml.deploy.EndpointProcess`). Adding a service is one `Service(...)` with its `launch`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil


class ServiceError(RuntimeError):
    """A service could not be started, or did not become ready."""


@dataclass(frozen=True)
class Launch:
    """How to run a service: built only when it is started (it may need PostgreSQL)."""

    command: Sequence[str]
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)  # kept in the pid file


@dataclass(frozen=True)
class Service:
    """A supervised process: its name (file stem), what to call it, where it listens."""

    name: str
    label: str
    launch: Callable[[], Launch] = field(compare=False, repr=False)
    host: str = "127.0.0.1"
    port: int | None = None
    probe_path: str | None = None  # answers 200 once ready; None: the port accepts
    port_setting: str | None = None  # the variable that moves it to another port
    ready_timeout_s: float = 180.0
    login: str | None = field(default=None, compare=False)  # how to sign in, where it asks

    @property
    def url(self) -> str | None:
        return f"http://{self.host}:{self.port}" if self.port else None


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    label: str
    running: bool
    pid: int | None
    url: str | None
    log: Path
    meta: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        where = f"{self.url} " if self.url else ""
        return where + (f"running (pid {self.pid})" if self.running else "not running")


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def group_members(pgid: int) -> list[psutil.Process]:
    """Live (non-zombie) processes in process group `pgid`: what stop() must end."""
    members = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                members.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return members


def _reap(pid: int) -> None:
    """Collect our own exited child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _process(pid: int, create_time: float) -> psutil.Process | None:
    """The live process `pid` if it is the one we started (same start time), else None."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            _reap(pid)
            return None
        if abs(proc.create_time() - create_time) > 0.05:
            return None  # the pid now belongs to another process
        return proc
    except psutil.Error:
        return None


class Supervisor:
    """Starts, reports and stops the services of one `$HIRELOOP_HOME`."""

    def __init__(self, home: Path, stop_timeout_s: float = 15.0):
        self.run_dir = Path(home) / "run"
        self.log_dir = Path(home) / "logs"
        self.stop_timeout_s = stop_timeout_s  # TERM, then KILL what is left after this

    def pid_file(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    @contextlib.contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.run_dir / f"{name}.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _record(self, name: str) -> dict[str, Any] | None:
        try:
            record = json.loads(self.pid_file(name).read_text())
            int(record["pid"]), float(record["create_time"])
            return record
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _live_pid(self, name: str) -> int | None:
        record = self._record(name)
        if record is None:
            return None
        proc = _process(int(record["pid"]), float(record["create_time"]))
        return proc.pid if proc else None

    def names(self) -> list[str]:
        """Every service with a pid file here (running or stale)."""
        return sorted(p.stem for p in self.run_dir.glob("*.pid"))

    def label(self, name: str) -> str:
        """What the service is called in messages (its name if the pid file says nothing)."""
        return (self._record(name) or {}).get("label", name)

    def adopt(self, name: str, pid: int, label: str) -> bool:
        """Take over a process started before this supervisor (a pid file of an older
        version), so stop() can end it; False if `pid` is gone or leads no group."""
        try:
            proc = psutil.Process(pid)
            if os.getpgid(pid) != pid or proc.status() == psutil.STATUS_ZOMBIE:
                return False
            record = {"pid": pid, "create_time": proc.create_time(), "label": label,
                      "command": proc.cmdline(), "url": None, "meta": {}}
        except (psutil.Error, ProcessLookupError):
            return False
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.pid_file(name).write_text(json.dumps(record, indent=2) + "\n")
        return True

    def status(self, service: Service) -> ServiceStatus:
        """Whether it runs (a stale pid file counts as not running); starts nothing."""
        record = self._record(service.name) or {}
        pid = self._live_pid(service.name)
        return ServiceStatus(  # a running one answers where it was started
            name=service.name, label=service.label, running=pid is not None, pid=pid,
            url=record.get("url", service.url) if pid else service.url,
            log=self.log_file(service.name), meta=record.get("meta", {}) if pid else {},
        )

    def ready(self, service: Service) -> bool:
        """The readiness probe: HTTP 200 on `probe_path`, else the port accepts, else alive."""
        if self._live_pid(service.name) is None:
            return False
        if service.port and service.probe_path:
            return http_ok(f"{service.url}{service.probe_path}")
        if service.port:
            return port_in_use(service.host, service.port)
        return True

    def start(self, service: Service, *, wait: bool = True) -> tuple[ServiceStatus, bool]:
        """Start `service` unless it runs; returns its status and whether it was started now.

        Refused (ServiceError) when another process holds its port. With `wait`, returns
        once the readiness probe passes; a service that exits or times out is stopped.
        """
        with self._lock(service.name):
            current = self.status(service)
            if current.running:
                return current, False
            self._stop_locked(service.name)  # a stale pid file, or workers its leader left
            if service.port and port_in_use(service.host, service.port):
                hint = f"; set {service.port_setting} to a free port" if service.port_setting \
                    else ""
                raise ServiceError(f"{service.label}: {service.host}:{service.port} is already "
                                   f"in use by another process{hint}")
            launch = service.launch()
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log_path = self.log_file(service.name)
            with open(log_path, "ab") as log:
                log.write(f"\n=== {datetime.now(UTC).isoformat(timespec='seconds')} "
                          f"{' '.join(map(str, launch.command))}\n".encode())
                log.flush()
                proc = subprocess.Popen(
                    [str(c) for c in launch.command], env=None if launch.env is None else
                    dict(launch.env), cwd=launch.cwd, stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, start_new_session=True)
            record = {"pid": proc.pid, "create_time": psutil.Process(proc.pid).create_time(),
                      "label": service.label,
                      "command": [str(c) for c in launch.command], "url": service.url,
                      "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                      "meta": dict(launch.meta)}
            tmp = self.pid_file(service.name).with_suffix(".tmp")
            tmp.write_text(json.dumps(record, indent=2) + "\n")
            tmp.replace(self.pid_file(service.name))
        if wait:
            self.wait_ready(service)
        return self.status(service), True

    def wait_ready(self, service: Service, timeout: float | None = None) -> float:
        """Poll the readiness probe; seconds waited. Stops the service if it does not come up."""
        limit = service.ready_timeout_s if timeout is None else timeout
        began = time.monotonic()
        while not self.ready(service):
            if self._live_pid(service.name) is None:
                self.stop(service.name)
                raise ServiceError(f"{service.label} exited before it was ready; see "
                                   f"{self.log_file(service.name)}")
            if time.monotonic() - began > limit:
                self.stop(service.name)
                raise ServiceError(f"{service.label} was not ready within {limit:.0f}s; see "
                                   f"{self.log_file(service.name)}")
            time.sleep(0.25)
        return time.monotonic() - began

    def stop(self, name: str, timeout: float | None = None) -> bool:
        """TERM the service's process group, KILL what is left after `timeout` (default
        `stop_timeout_s`), remove the pid file. False when nothing of it was running."""
        with self._lock(name):
            return self._stop_locked(name, timeout)

    def _stop_locked(self, name: str, timeout: float | None = None) -> bool:
        timeout = self.stop_timeout_s if timeout is None else timeout
        record = self._record(name)
        self.pid_file(name).unlink(missing_ok=True)
        if record is None:
            return False
        pid = int(record["pid"])
        leader = _process(pid, float(record["create_time"]))
        if leader is None:
            # Dead leader: its group id cannot be reused while members remain, so any
            # member left is an orphaned worker of ours. A reused pid leads another group.
            with contextlib.suppress(psutil.Error):
                if psutil.pid_exists(pid) and os.getpgid(pid) == pid:
                    return False
            if not group_members(pid):
                return False
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)
            deadline = time.monotonic() + timeout
            while True:
                _reap(pid)
                if not group_members(pid) or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            if not group_members(pid):
                break
        return True

    def stop_many(self, names: Sequence[str], timeout: float | None = None) -> list[str]:
        """Stop these services all at once (each shuts down in its own time); the names of
        those that were running."""
        if not names:
            return []
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            stopped = list(pool.map(lambda name: self.stop(name, timeout), names))
        return [name for name, was in zip(names, stopped, strict=True) if was]

    def stop_all(self, timeout: float | None = None) -> list[str]:
        """Stop every service with a pid file here; the names of those that were running."""
        return self.stop_many(self.names(), timeout)
