"""The supervisor on real processes (small Python servers on free loopback ports): one of a
kind, stale pid files recognised, TERM then KILL of the whole process group."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from orchestration.supervisor import (
    Launch,
    Service,
    ServiceError,
    Supervisor,
    group_members,
    port_in_use,
)

# A server that answers 200 on every GET; with "stubborn" it and a worker it forks (same
# process group, holding the same socket) ignore SIGTERM, as a hung server would.
SERVER = """
import http.server, os, signal, sys
port, stubborn = int(sys.argv[1]), sys.argv[2] == "stubborn"
if stubborn:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
server = http.server.HTTPServer(("127.0.0.1", port), http.server.SimpleHTTPRequestHandler)
if stubborn and os.fork() == 0:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
server.serve_forever()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server(port: int, mode: str = "plain", name: str = "web") -> Service:
    return Service(name, "test server", lambda: Launch([sys.executable, "-c", SERVER,
                                                        str(port), mode]),
                   port=port, probe_path="/", port_setting="TEST_PORT", ready_timeout_s=60)


@pytest.fixture
def supervisor(tmp_path):
    sup = Supervisor(tmp_path, stop_timeout_s=2)
    yield sup
    sup.stop_all()


def test_a_second_start_starts_nothing_and_stop_ends_the_group(supervisor):
    service = server(free_port())
    state, started = supervisor.start(service)
    assert started and state.running and supervisor.ready(service)
    assert supervisor.pid_file("web").exists() and supervisor.log_file("web").exists()
    assert os.getpgid(state.pid) == state.pid  # its own process group

    again, started_again = supervisor.start(service)
    assert not started_again and again.pid == state.pid
    elsewhere = server(free_port())  # asked on another port: says where the running one is
    assert supervisor.status(elsewhere).url == service.url
    assert len(group_members(state.pid)) == 1

    assert supervisor.stop("web")
    assert not port_in_use("127.0.0.1", service.port)
    assert group_members(state.pid) == []
    assert not supervisor.pid_file("web").exists()
    assert not supervisor.status(service).running
    assert not supervisor.stop("web")


def test_stale_pid_files_are_recognised_and_never_signalled(supervisor):
    service = server(free_port())
    supervisor.run_dir.mkdir(parents=True)
    # A pid the kernel gave to another process since (here: this test's own process).
    me = psutil.Process()
    record = {"pid": me.pid, "create_time": me.create_time() - 1000.0, "meta": {}}
    supervisor.pid_file("web").write_text(json.dumps(record))
    assert not supervisor.status(service).running
    assert not supervisor.stop("web")  # and we are still alive to say so
    # A dead process.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    record = {"pid": dead.pid, "create_time": time.time(), "meta": {}}
    supervisor.pid_file("web").write_text(json.dumps(record))
    assert not supervisor.status(service).running

    state, started = supervisor.start(service)  # a stale file does not block a start
    assert started and state.running and state.pid != dead.pid


def test_what_ignores_sigterm_is_killed_with_its_workers(supervisor):
    service = server(free_port(), "stubborn")
    state, _ = supervisor.start(service)
    deadline = time.monotonic() + 30
    while len(group_members(state.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(group_members(state.pid)) == 2  # the leader and its forked worker
    assert supervisor.stop("web", timeout=1)
    assert group_members(state.pid) == []
    assert not port_in_use("127.0.0.1", service.port)


def test_workers_left_by_a_dead_leader_are_ended_before_a_new_start(supervisor):
    service = server(free_port(), "stubborn")
    state, _ = supervisor.start(service)
    deadline = time.monotonic() + 30
    while len(group_members(state.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    os.kill(state.pid, signal.SIGKILL)  # the worker keeps the port
    deadline = time.monotonic() + 30
    while supervisor.status(service).running and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not supervisor.status(service).running and group_members(state.pid)

    new, started = supervisor.start(service)
    assert started and new.pid != state.pid and supervisor.ready(service)
    assert group_members(state.pid) == []  # the orphaned worker is gone, not doubled


def test_a_port_held_by_another_process_is_refused_with_the_setting_to_change(supervisor):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        service = server(holder.getsockname()[1])
        with pytest.raises(ServiceError, match=r"already in use by another process; set "
                                               r"TEST_PORT to a free port"):
            supervisor.start(service)
    assert not supervisor.pid_file("web").exists()


def test_a_service_that_exits_fails_fast_and_leaves_no_pid_file(supervisor):
    service = Service("broken", "broken server",
                      lambda: Launch([sys.executable, "-c", "raise SystemExit(3)"]),
                      port=free_port(), probe_path="/", ready_timeout_s=600)
    with pytest.raises(ServiceError, match=r"broken server exited before it was ready; see "
                                           r".*broken\.log"):
        supervisor.start(service)
    assert not supervisor.pid_file("broken").exists()


def test_an_endpoint_started_before_the_supervisor_is_taken_over_and_stopped(tmp_path):
    from orchestration.services import adopt_legacy_endpoint

    port = free_port()
    old = subprocess.Popen([sys.executable, "-c", SERVER, str(port), "plain", "models",
                            "serve"], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not port_in_use("127.0.0.1", port) and time.monotonic() < deadline:
            time.sleep(0.1)  # long running, as an endpoint left by hireloop 0.1 would be
        (tmp_path / "serve").mkdir()
        (tmp_path / "serve" / "serve.pid").write_text(f"{old.pid}\n")  # hireloop 0.1's file
        supervisor = Supervisor(tmp_path, stop_timeout_s=5)
        adopt_legacy_endpoint(supervisor, tmp_path)
        assert supervisor.label("endpoint") == "scoring endpoint"
        assert supervisor.stop_all() == ["endpoint"]
        assert old.wait(timeout=10) is not None and group_members(old.pid) == []
        assert not (tmp_path / "serve" / "serve.pid").exists()
    finally:
        old.kill()
        old.wait()
