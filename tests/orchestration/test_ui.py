"""`hireloop ui`, `status`, `down` and `--version` as a user runs them: real processes
(dagster-webserver, dagster-daemon, MLflow UI, Evidently UI) in their own HIRELOOP_HOMEs on
free ports.

Each test stops what it starts, and checks by process group that nothing is left behind.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from orchestration.config import TELEMETRY_OFF, Settings
from orchestration.services import UI_SERVICES
from orchestration.supervisor import Supervisor, group_members, port_in_use

REPO = Path(__file__).resolve().parents[2]
PORTS = ("HIRELOOP_ENDPOINT_PORT", "HIRELOOP_DAGSTER_PORT", "HIRELOOP_MLFLOW_PORT",
         "HIRELOOP_EVIDENTLY_PORT")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for sock in socks:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in socks]
    for sock in socks:
        sock.close()
    return ports


class Installation:
    """One HIRELOOP_HOME with its own ports; the CLI run as a separate process."""

    def __init__(self, home: Path, database_url: str | None):
        self.home = home
        self.env = {**os.environ, **TELEMETRY_OFF, "HIRELOOP_HOME": str(home),
                    "PYTHONPATH": str(REPO),
                    **dict(zip(PORTS, map(str, free_ports(len(PORTS))), strict=True))}
        self.env.pop("HIRELOOP_DATABASE_URL", None)
        if database_url:
            self.env["HIRELOOP_DATABASE_URL"] = database_url
        self.ports = [int(self.env[name]) for name in PORTS]

    @property
    def settings(self) -> Settings:
        return Settings(home=self.home, endpoint_port=self.ports[0],
                        dagster_port=self.ports[1], mlflow_port=self.ports[2],
                        evidently_port=self.ports[3])

    def services(self):
        return [make(self.settings) for make in UI_SERVICES]

    def cli(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "orchestration.cli", *args], env=self.env,
                              cwd=REPO, capture_output=True, text=True, timeout=timeout)

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "orchestration.cli", *args],
                                env=self.env, cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)

    def pids(self) -> dict[str, int | None]:
        supervisor = Supervisor(self.home)
        return {s.name: supervisor.status(s).pid for s in self.services()}

    def all_ready(self) -> bool:
        supervisor = Supervisor(self.home)
        return all(supervisor.ready(s) for s in self.services())

    def nothing_left(self, groups: list[int]) -> None:
        """No port of this installation held, no process left in any group it started."""
        assert [p for p in self.ports if port_in_use("127.0.0.1", p)] == []
        assert {g: group_members(g) for g in groups if group_members(g)} == {}
        assert list((self.home / "run").glob("*.pid")) == []

    def stop(self) -> None:
        Supervisor(self.home).stop_all()


@pytest.fixture
def installations(tmp_path, pg_server):
    """A factory of installations; every one is stopped (and its PostgreSQL) at the end."""
    made: list[Installation] = []

    def make(name: str, embedded_pg: bool = False) -> Installation:
        url = None if embedded_pg else pg_server.url("postgres")
        made.append(Installation(tmp_path / name, url))
        return made[-1]

    yield make
    for inst in made:
        inst.stop()
        if (inst.home / "pg").exists():
            inst.cli("down", timeout=120)


def wait_until(condition, proc: subprocess.Popen | None = None, limit: float = 420) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"`hireloop ui` exited early:\n{proc.stdout.read()}")
        assert time.monotonic() < deadline, "the UIs did not come up"
        time.sleep(1)


def read_until(proc: subprocess.Popen, text: str) -> str:
    """What `proc` printed up to and including the line holding `text` (it has finished
    starting then: a second command would race it for what it is still starting)."""
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if text in line:
            return "".join(lines)
    raise AssertionError(f"`hireloop ui` exited before printing {text!r}:\n{''.join(lines)}")


def test_version_is_the_package_version():
    from importlib.metadata import version

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output == f"hireloop {version('hireloop')}\n"


def test_a_bad_port_setting_is_one_line_naming_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("HIRELOOP_HOME", str(tmp_path))
    monkeypatch.setenv("HIRELOOP_MLFLOW_PORT", "50o0")
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 2
    assert "HIRELOOP_MLFLOW_PORT must be a TCP port number (1-65535), got '50o0'" in result.output
    assert "Traceback" not in result.output


def test_foreground_ui_once_then_sigterm_leaves_nothing(installations):
    inst = installations("one")
    ui = inst.popen("ui")
    try:
        # Once it says how to stop it, it has started the UIs and, when the shared database
        # holds a champion, the endpoint too.
        head = read_until(ui, "Ctrl-C stops what this command started")
        assert inst.all_ready(), head
        first = inst.pids()
        assert None not in first.values()

        # A second `ui` starts nothing new and says so.
        second = inst.cli("ui")
        assert second.returncode == 0, second.stdout + second.stderr
        # every UI, and the endpoint too when the database it shares holds a champion
        serving = second.stdout.count("serving version")
        assert second.stdout.count("already running") == len(inst.services()) + serving
        assert "nothing started" in second.stdout
        assert inst.pids() == first

        # Every socket any of their processes listens on is bound to loopback.
        listening = {c.laddr.ip for g in first.values() for proc in group_members(g)
                     for c in proc.net_connections("inet") if c.status == "LISTEN"}
        assert listening == {"127.0.0.1"}

        # `status` reports each UI, the endpoint and the champion.
        status = inst.cli("status")
        assert status.returncode == 0, status.stderr
        web, daemon, ui_pid = first["dagster-webserver"], first["dagster-daemon"], \
            first["mlflow-ui"]
        assert f"Dagster UI: http://127.0.0.1:{inst.ports[1]} running (pid {web})" \
            in status.stdout
        assert f"Dagster daemon: running (pid {daemon})" in status.stdout
        assert f"MLflow UI: http://127.0.0.1:{inst.ports[2]} running (pid {ui_pid})" \
            in status.stdout
        # where the MLflow UI's password is (never the password), at start and in `status`
        login = f"sign in as admin, password in {inst.home / 'secrets' / 'mlflow-ui.password'}"
        assert login in head and login in status.stdout
        assert inst.settings.mlflow_admin_password_file().read_text() not in status.stdout

        # State files are the user's only, whatever the umask (the test's is 022)
        state = [p for folder in ("logs", "run", "secrets", "mlflow-auth", "dagster")
                 for p in (inst.home / folder).rglob("*")]
        assert state and {oct(_mode(p)) for p in state if p.is_file()} == {oct(0o600)}
        assert {oct(_mode(p)) for p in state if p.is_dir()} <= {oct(0o700)}
        assert f"Evidently UI: http://127.0.0.1:{inst.ports[3]} running " \
               f"(pid {first['evidently-ui']})" in status.stdout
        # `ui` serves the champion when the database it shares holds one, else says none
        endpoint = f"endpoint: http://127.0.0.1:{inst.ports[0]}"
        assert (f"{endpoint} not running; champion" in status.stdout
                or (serving and f"{endpoint} running" in status.stdout))
    finally:
        ui.send_signal(signal.SIGTERM)
        out, _ = ui.communicate(timeout=120)
    out = head + out
    assert ui.returncode == 0, out
    assert "MLflow UI stopped" in out and "Dagster daemon stopped" in out
    assert "Evidently UI stopped" in out
    inst.nothing_left([*first.values(), ui.pid])


def test_two_installations_side_by_side_then_down_stops_each(installations):
    one, two = installations("one"), installations("two", embedded_pg=True)
    starting = [inst.popen("ui", "--detach") for inst in (one, two)]  # at the same time
    for proc in starting:
        out, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0 and "running detached" in out, out
    assert one.all_ready() and two.all_ready()
    groups = {inst.home: list(inst.pids().values()) for inst in (one, two)}

    status_two = two.cli("status")
    assert f"Dagster UI: http://127.0.0.1:{two.ports[1]} running" in status_two.stdout
    assert f"MLflow UI: http://127.0.0.1:{two.ports[2]} running" in status_two.stdout
    assert "postgres_state: running" in status_two.stdout

    down = two.cli("down")
    assert down.returncode == 0, down.stderr
    assert "embedded PostgreSQL stopped" in down.stdout
    two.nothing_left(groups[two.home])
    assert not (two.home / "pg" / "postmaster.pid").exists()
    assert one.all_ready()  # the other installation is untouched

    status_two = two.cli("status")
    assert f"Dagster UI: http://127.0.0.1:{two.ports[1]} not running" in status_two.stdout
    assert "postgres_state: stopped" in status_two.stdout

    down = one.cli("down")
    assert down.returncode == 0 and "PostgreSQL: nothing to stop" in down.stdout
    one.nothing_left(groups[one.home])


def test_status_names_the_served_and_champion_versions_and_down_stops_the_endpoint(
        installations):
    import mlflow

    from ml.promotion import promote
    from ml.registry import register_version
    from orchestration.resources import EndpointResource, HireloopRuntime, MlflowResource
    from tests.ml.conftest import log_constant_model

    inst = installations("served", embedded_pg=True)
    assert inst.cli("up").returncode == 0
    resource = MlflowResource(runtime=HireloopRuntime(home=str(inst.home)))
    before = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    try:
        target = resource.target()  # this installation's own MLflow
        version = str(register_version(target.client, log_constant_model(0.5), "model").version)
        promote(target.client, version, actor="test", why="status test")
        process = EndpointResource.from_settings(inst.settings).process(target.tracking_uri)
        pid = process.start(served_version=version)["pid"]
    finally:
        mlflow.set_tracking_uri(before[0])
        mlflow.set_registry_uri(before[1])

    status = inst.cli("status")
    assert (f"endpoint: http://127.0.0.1:{inst.ports[0]} running (pid {pid}), serving "
            f"version {version}; champion version {version}") in status.stdout, status.stdout

    down = inst.cli("down")
    assert down.returncode == 0, down.stderr
    assert "endpoint stopped" in down.stdout and "embedded PostgreSQL stopped" in down.stdout
    inst.nothing_left([pid])
