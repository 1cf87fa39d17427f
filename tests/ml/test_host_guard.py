"""ml.host_guard: which Host headers the endpoint answers (DNS rebinding)."""

from __future__ import annotations

import pytest

from ml.host_guard import allowed_hosts, host_allowed


@pytest.mark.parametrize("header", ["127.0.0.1", "127.0.0.1:5001", "localhost", "LocalHost:1",
                                    "[::1]", "[::1]:5001", " localhost "])
def test_loopback_names_with_or_without_a_port_are_answered(header):
    assert host_allowed(header, allowed_hosts("127.0.0.1"))


@pytest.mark.parametrize("header", [None, "", "evil.example", "evil.example:5001",
                                    "127.0.0.1.nip.io", "localhost.", "127.0.0.2", "[::1",
                                    "::1", "localhost:", "localhost:80:80", "[::1]x",
                                    "localhost:abc", "10.0.0.5:5001"])
def test_any_other_host_is_refused(header):
    assert not host_allowed(header, allowed_hosts("127.0.0.1"))


def test_the_bind_host_is_answered_when_the_endpoint_binds_another():
    allowed = allowed_hosts("10.0.0.5")
    assert host_allowed("10.0.0.5:5001", allowed) and host_allowed("localhost", allowed)
    assert not host_allowed("10.0.0.6", allowed)
    assert host_allowed("[fd00::5]:5001", allowed_hosts("fd00::5"))
