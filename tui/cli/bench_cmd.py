"""``evokafka bench``: measure the speed that matters, each figure next to a baseline from the same run."""

from __future__ import annotations

import json

import click

from tui.cli.common import Context, fail, pass_context

SCENARIO_NAMES = ("start", "publish", "ingest", "tail", "flood", "e2e", "memory", "scale", "faults")
"""Kept here so ``--help`` needs no import of the bench (the list is checked against the runner in tests)."""

WRITING_SCENARIOS = {
    "start": "its console creates the registry topic",
    "publish": "it publishes",
    "ingest": "it fills a topic",
    "tail": "it fills a topic",
    "flood": "it floods a topic",
    "e2e": "it publishes",
    "memory": "it fills a topic",
}
"""Why each scenario writes to the cluster. In read-only mode every scenario is refused (one not listed here
too: a new scenario is taken to write until it is shown not to)."""


@click.command()
@click.option("--quick", is_flag=True, help="Small counts and short runs: finishes in under a minute (CI).")
@click.option(
    "--brokers",
    "brokers",
    metavar="HOST:PORT,…",
    help="Measure on this cluster instead of an embedded broker (topics under a bench prefix, deleted after).",
)
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    type=click.Choice(SCENARIO_NAMES),
    help="Run only this scenario (repeatable). Default: all.",
)
@click.option(
    "--runs",
    type=click.IntRange(1, 20),
    default=1,
    show_default=True,
    help="Run the whole bench this many times in a row (a fresh broker each time); the JSON then judges every "
    "goal over all runs: median, worst, spread, and whether it held in every one.",
)
@click.option(
    "--table",
    "table",
    type=click.Path(exists=True, dir_okay=False),
    metavar="FILE",
    help="Print the README's performance table (markdown) from a saved JSON of this command, and exit.",
)
@pass_context
def command(
    ctx: Context, quick: bool, brokers: str | None, scenarios: tuple[str, ...], runs: int, table: str | None
) -> None:
    """Run the benchmark and print ONE JSON object on stdout (progress goes to stderr). With --runs N the
    whole bench runs N times in a row and a goal holds only if it held in every run.

    \b
    Scenarios and goals:
      start    evokafka --help; the console's first paint < 500 ms (against `python -c pass`)
      publish  EventPublisher vs awaiting each send (>= 10x) and vs raw aiokafka bytes (>= 0.8x)
      ingest   a pane's pipeline vs raw getmany + json.loads (>= 0.9x); panes with a text and a
               JSONPath filter vs getmany + orjson.loads (>= 0.9x)
      flood    the console, three panes on a flooded topic: >= 20,000 records/s, key p99 < 50 ms, fps
      e2e      publish -> row visible in a pane at 1,000 records/s: p99 < 150 ms
      memory   RSS growth after 1,000,000 records through the panes < 50 MiB (fewer with --quick); with
               1 MB records, RSS growth < the panes' byte budget (3 x EVOKAFKA_PANE_BUFFER_BYTES)
      scale    200 instances x 31 topics, 10,000 registry records: first paint < 1 s, instances
               list < 1 s, topics diff < 2 s, layout < 2 s, discovery < 2 s, RSS < 300 MiB
      faults   silent/reset cut, empty/durable restart, 1 of 3 lost: state changed < 3 s, resumed, counts
    Figures with several rounds give median, worst and spread.
    """
    from tui.bench.runner import run_bench
    from tui.bench.runs import combine, markdown_table
    from tui.demo.broker import BrokerError

    if table is not None:
        try:
            with open(table, encoding="utf-8") as saved:
                loaded = json.load(saved)
        except (OSError, ValueError) as exc:
            fail(f"{table}: not a JSON file of evokafka bench ({exc})")
        if not isinstance(loaded, dict) or not ("reports" in loaded or "scenarios" in loaded):
            fail(f"{table}: not a JSON object printed by evokafka bench")
        click.echo(markdown_table(loaded if "reports" in loaded else combine([loaded])))
        return

    chosen = list(scenarios) or list(SCENARIO_NAMES)
    target = brokers or ctx.brokers
    ctx.app_settings()  # learns EVOKAFKA_READ_ONLY too
    if ctx.read_only:
        fail(
            "read-only mode: refusing to run bench scenarios that write to the cluster: "
            + "; ".join(f"{name} ({WRITING_SCENARIOS.get(name, 'it writes')})" for name in chosen)
        )
    reports = []
    try:
        for number in range(1, runs + 1):
            if runs > 1:
                click.echo(f"bench: run {number}/{runs}", err=True)
            reports.append(run_bench(chosen, quick=quick, brokers=target))
    except BrokerError as exc:
        fail(str(exc), code=1)
    except KeyboardInterrupt:
        fail("interrupted", code=130)
    click.echo(json.dumps(reports[0] if runs == 1 else combine(reports), indent=2))
