"""What one browser tab of ``evokafka web --demo`` runs: ``python -m tui.web.demo_tab --brokers … [options]``.

The console (:class:`tui.demo.viewer.DemoViewer`) on the demo the web server runs, with the same settings the
server's demo uses (the demo's overrides applied, ``--env-file`` and ``--read-only`` honoured).
"""

from __future__ import annotations

import click

from tui.cli.common import Context, fail
from tui.cli.demo_cmd import demo_settings
from tui.kafka.options import ConnectionSetupError


@click.command()
@click.option("--brokers", required=True, metavar="HOST:PORT", help="Where the web server's demo listens.")
@click.option("--env-file", type=click.Path(dir_okay=False), help="Settings file given to evokafka web.")
@click.option("--read-only", is_flag=True, help="Refuse every write.")
@click.option("--instances", type=int, default=5, show_default=True, help="Instances the demo seeded.")
@click.option("--global/--no-global", "global_enabled", default=True, help="Whether the demo publishes to global topics.")
def main(brokers: str, env_file: str | None, read_only: bool, instances: int, global_enabled: bool) -> None:
    """Open the console on the web server's demo."""
    from tui.demo.viewer import DemoViewer

    ctx = Context(env_file=env_file, brokers=brokers, read_only=read_only)
    settings = demo_settings(ctx, brokers, global_enabled)
    try:
        app = DemoViewer.build(settings, ctx.app_settings(), instances=instances, global_enabled=global_enabled)
    except ConnectionSetupError as exc:
        fail(str(exc))
    app.run()


if __name__ == "__main__":
    main()
