"""The shell's home: what the console is connected to, and the way to every area."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.console.bridge import listen
from tui.console.messages import ClusterChanged, RegistryEntryUpdated, RegistryStateChanged
from tui.console.screens.areas import AREAS
from tui.console.screens.base import ConsoleScreen
from tui.console.session import Session
from tui.listeners import Unsubscribe
from tui.status import RegistryState


def overview(session: Session) -> Content:
    """Cluster, registry and configuration in a few lines."""
    cluster, registry, settings = session.cluster, session.registry_view, session.settings
    live = ", ".join(cluster.live_brokers) or "—"
    lines = [
        Content.from_markup("[b]Cluster[/b]   id $id · brokers $live", id=cluster.cluster_id or "unknown", live=live),
        Content.from_markup(
            "[b]Registry[/b]  $state · $count instances · topic $topic$problems",
            state=registry.state.value if registry.state is not RegistryState.RETRYING
            else f"retrying (attempt {registry.attempt}): {registry.error}",
            count=str(len(session.registry_entries())),
            topic=session.app_settings.registry_topic,
            problems=f" · {session.registry_problems} corrupt records skipped"
            if session.registry_problems else "",
        ),
        Content.from_markup(
            "[b]Topics[/b]    prefix $prefix · global $glob · auto-create $auto",
            prefix=settings.topic_prefix,
            glob="on" if settings.global_enabled else "off",
            auto="on" if settings.auto_create_topics else "off",
        ),
    ]
    if not settings.enabled:
        lines.append(Content.from_markup("[$warning]KAFKA_ENABLED=false: nothing is published[/]"))
    if session.read_only:
        lines.append(Content.from_markup("[$warning]Read-only: publishing and registry writes are refused[/]"))
    return Content("\n").join(lines)


class MainScreen(ConsoleScreen):
    """Home: an overview and a menu of the console's areas."""

    SCREEN_NAME = "Home"

    def __init__(self) -> None:
        super().__init__()
        self._unsubscribe: Unsubscribe | None = None
        self._overview_due = False

    def compose_body(self) -> ComposeResult:
        yield Static(id="overview")
        options = [
            Option(Content.from_markup("[b]$key[/b]  $title  [$text-muted]$help[/]", key=a.key, title=a.title,
                                       help=a.help), id=a.mode)
            for a in AREAS
            if a.mode != "home"
        ]
        yield OptionList(*options, id="areas")

    def on_mount(self) -> None:
        self._unsubscribe = listen(
            self.session, self, ClusterChanged, RegistryStateChanged, RegistryEntryUpdated
        )
        self._refresh_overview()
        self.query_one("#areas", OptionList).focus()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @on(ClusterChanged)
    @on(RegistryStateChanged)
    @on(RegistryEntryUpdated)
    def _overview_changed(self) -> None:
        # A registry replay posts one message per record (10,000 at scale): draw once after the queued ones.
        if not self._overview_due:
            self._overview_due = True
            self.call_later(self._refresh_overview)

    def _refresh_overview(self) -> None:
        self._overview_due = False
        self.query_one("#overview", Static).update(overview(self.session))

    @on(OptionList.OptionSelected, "#areas")
    async def _open(self, message: OptionList.OptionSelected) -> None:
        if message.option.id is not None:
            await self.app.run_action(f"app.open_area('{message.option.id}')")
