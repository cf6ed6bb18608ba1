"""The command line's frame: --help everywhere, exit 2 with one line on bad input, config output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli import SUBCOMMANDS, cli


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=60,
                          env={"PATH": "", **(env or {})}, cwd=cwd)


def test_every_registered_subcommand_has_help() -> None:
    import click

    names = cli.list_commands(click.Context(cli))
    assert set(names) == set(SUBCOMMANDS)  # every subcommand of the design is in this build
    for name in names:
        result = run(name, "--help")
        assert result.returncode == 0, (name, result.stderr)
        assert "Usage:" in result.stdout


def test_unknown_subcommand_and_bad_option_exit_2_one_line() -> None:
    for args in (["nope"], ["tail"], ["config", "--bogus"]):
        result = run(*args)
        assert result.returncode == 2, args
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_config_masks_the_password_and_reveals_on_request(tmp_path: Path) -> None:
    env = {"KAFKA_SASL_ENABLED": "true", "KAFKA_SASL_PASSWORD": "hunter2", "EVOLUTION_API_KEY": "k3y"}
    shown = run("config", env=env)
    assert shown.returncode == 0
    assert "hunter2" not in shown.stdout and "k3y" not in shown.stdout
    assert "KAFKA_SASL_PASSWORD = ********" in shown.stdout
    revealed = json.loads(run("config", "--json", "--reveal", env=env).stdout)
    assert revealed["SASL"]["KAFKA_SASL_PASSWORD"] == "hunter2"


def test_config_reads_dot_env_in_the_working_directory_and_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("KAFKA_CLIENT_ID = from-dot-env\n")
    other = tmp_path / "other.env"
    other.write_text("KAFKA_CLIENT_ID = from-other\n")
    assert "KAFKA_CLIENT_ID = from-dot-env" in run("config", cwd=tmp_path).stdout
    assert "KAFKA_CLIENT_ID = from-other" in run("--env-file", str(other), "config", cwd=tmp_path).stdout


@pytest.mark.parametrize(("env", "name"), [({"KAFKA_NUM_PARTITIONS": "-1"}, "KAFKA_NUM_PARTITIONS"),
                                           ({"KAFKA_BROKERS": "nohostport"}, "KAFKA_BROKERS")])
def test_invalid_config_exits_2_with_one_line(env: dict[str, str], name: str) -> None:
    result = run("config", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and "Traceback" not in result.stderr
