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


def test_bare_arguments_are_watch_arguments() -> None:
    """`evokafka TOPIC.WITH.DOTS`, `evokafka -i X -e Y` go to watch; a bare word stays a mistyped subcommand."""
    import click

    from tui.cli import LazyGroup

    group = cli
    assert isinstance(group, LazyGroup)
    ctx = click.Context(group)
    assert group._with_watch(ctx, ["evolution.shop.call"]) == ["watch", "evolution.shop.call"]
    assert group._with_watch(ctx, ["--brokers", "b:1", "-i", "shop"]) == ["--brokers", "b:1", "watch", "-i", "shop"]
    assert group._with_watch(ctx, ["--read-only", "--env-file=x", "-e", "call"]) == [
        "--read-only", "--env-file=x", "watch", "-e", "call"]
    assert group._with_watch(ctx, ["tail", "evolution.shop.call"]) == ["tail", "evolution.shop.call"]
    assert group._with_watch(ctx, ["nope"]) == ["nope"]
    assert group._with_watch(ctx, ["--bogus"]) == ["--bogus"]


def test_watch_bad_input_exits_2_one_line() -> None:
    for args in (["watch"], ["watch", "-e", "messages.upsrt"], ["-i", "bad name!"], ["watch", "-i", "x", "--from",
                                                                                     "yesterday"]):
        result = run(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "did you mean" in run("watch", "-e", "messages.upsrt").stderr


def test_watch_panes_per_topic_instance_and_event() -> None:
    from tui.cli.watch_cmd import watch_panes

    specs = watch_panes("evolution", ["evolution.global.call"], ["shop"], ["MESSAGES_UPSERT", "messages.upsert"])
    assert [s.title for s in specs] == ["evolution.global.call", "shop · messages.upsert"]
    assert specs[1].selection.instances == ("shop",) and specs[1].selection.events == ("messages.upsert",)
    by_event = watch_panes("evolution", [], [], ["call"])
    regex = by_event[0].selection.regex()
    assert regex is not None
    assert regex.fullmatch("evolution.global.call") and regex.fullmatch("evolution.acme.sales.call")
    assert not regex.fullmatch("evolution.acme.labels.edit")
    everything = watch_panes("evolution", [], ["shop"], [])
    assert len(everything[0].selection.events) == 31 and everything[0].start == "-20"


def test_profile_option_reads_the_profile_and_production_opens_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.profiles import ProfileStore

    store = ProfileStore(tmp_path / "profiles")
    store.save("staging", {"KAFKA_BROKERS": "staging:9092", "KAFKA_SASL_PASSWORD": "hunter2"})
    store.save("prod", {"KAFKA_BROKERS": "prod:9092"}, production=True)
    env = {"EVOKAFKA_CONFIG_DIR": str(tmp_path)}
    shown = run("--profile", "staging", "config", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "staging:9092" in shown.stdout and "hunter2" not in shown.stdout
    missing = run("--profile", "nowhere", "config", env=env)
    assert missing.returncode == 2 and "staging" in missing.stderr and len(missing.stderr.splitlines()) == 1
    both = run("--profile", "staging", "--env-file", "x.env", "config", env=env)
    assert both.returncode == 2 and "not both" in both.stderr

    from tui.cli.common import Context

    monkeypatch.setenv("EVOKAFKA_CONFIG_DIR", str(tmp_path))
    assert Context(profile_name="prod").app_settings(environ={}).read_only
    assert not Context(profile_name="prod", read_write=True).app_settings(environ={}).read_only
    assert not Context(profile_name="staging").app_settings(environ={}).read_only
