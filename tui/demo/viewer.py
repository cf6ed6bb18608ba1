"""The console on a demo that runs in another process: ``evokafka web --demo`` gives each browser tab one.

The web server owns the demo (one embedded broker, one seeded registry, one stream of traffic); every tab runs
this console against it, so ten tabs watch the same traffic instead of starting ten brokers. It opens on the
demo's panes like ``evokafka demo``; the chaos keys are not there, since the broker belongs to the server.
"""

from __future__ import annotations

from textual.screen import Screen

from tui.config import AppSettings, KafkaSettings
from tui.console.app import EvokafkaApp
from tui.console.session import Session
from tui.demo.console import arrange_panes
from tui.demo.runner import DemoConfig, DemoRunner


class DemoViewer(EvokafkaApp):
    """The ordinary console (``--read-only`` honoured) that opens with the demo's panes."""

    DEFAULT_MODE = "streams"
    """A browser tab opens on the demo's panes (``evokafka demo`` itself opens on a home that explains it)."""

    def __init__(self, session: Session, demo: DemoRunner) -> None:
        super().__init__(session)
        self._demo = demo
        """Describes the demo (prefix, instances, layouts) for its panes; never started here."""
        self._first_screen: Screen[object] | None = None

    @classmethod
    def build(cls, settings: KafkaSettings, app_settings: AppSettings, *, instances: int, global_enabled: bool) -> DemoViewer:
        """The console on the demo's cluster (``settings.brokers``)."""
        demo = DemoRunner(
            settings,
            DemoConfig(instances=instances, global_enabled=global_enabled, external=True),
            registry_topic=app_settings.registry_topic,
        )
        return cls(Session.build(settings, app_settings), demo)

    async def prepare_services(self) -> None:
        """Remember the screen the console opened on: it gets the demo's panes."""
        self._first_screen = self.screen

    async def services_started(self) -> None:
        """Open the demo's panes, as ``evokafka demo`` does."""
        first, self._first_screen = self._first_screen, None
        if first is not None:
            await arrange_panes(first, self._demo)
