"""``evokafka web`` without a browser or a broker: which hosts need a token, help, one-line failures."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tui.web.server import console_argv, is_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "LOCALHOST", "::1", "[::1]"])
def test_loopback_needs_no_token(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.10", "example.org", "localhost.example.org"])
def test_every_other_host_needs_a_token(host: str) -> None:
    assert not is_loopback(host)


def test_tabs_run_the_console_with_the_options_given_to_evokafka(tmp_path: object) -> None:
    argv = console_argv("tui", brokers="b:1", env_file="x.env", read_only=True)
    assert argv[:3] == [sys.executable, "-m", "tui"]
    assert argv[3:5] == ["--brokers", "b:1"] and argv[-1] == "--read-only"
    assert argv[6].endswith("/x.env") and argv[6].startswith("/")  # absolute: the tab may start elsewhere


def _evokafka(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=60)


def test_help() -> None:
    done = _evokafka("web", "--help")
    assert done.returncode == 0
    assert "--token" in done.stdout and "--demo" in done.stdout


def test_a_taken_port_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = _evokafka("web", "--port", str(taken.getsockname()[1]))
    assert done.returncode == 1
    assert done.stderr.strip().startswith("evokafka: cannot listen on 127.0.0.1:")
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_bad_input_exits_2() -> None:
    done = _evokafka("web", "--port", "http")
    assert done.returncode == 2 and "Traceback" not in done.stderr
