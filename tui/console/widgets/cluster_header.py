"""The header: connection state, cluster (brokers, how many reachable, cluster id), the instance source
(Evolution API or the registry, and whether it answers), read-only badge."""

from __future__ import annotations

import time

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from tui.console.bridge import listen
from tui.console.messages import ClusterChanged, PublisherChanged, RegistryStateChanged, SourceStateChanged
from tui.console.session import Session
from tui.listeners import Unsubscribe
from tui.status import (
    ClusterView,
    PublisherState,
    RegistryHealthState,
    RegistryState,
    RegistryView,
    SourceState,
    SourceView,
)

_STATE_COLOUR: dict[PublisherState, str] = {
    PublisherState.DISCONNECTED: "$text-muted",
    PublisherState.CONNECTING: "$warning",
    PublisherState.CONNECTED: "$success",
    PublisherState.STALLED: "$warning",
    PublisherState.RECONNECTING: "$warning",
    PublisherState.FAILED: "$error",
}


def describe_cluster(view: ClusterView, *, compact: bool = False) -> Content:
    """``kafka-1:9092,kafka-2:9092 1/2 up · cluster abc`` (or why the cluster is not readable); ``compact``
    names the first broker only (``kafka-1:9092 +1``)."""
    if compact and len(view.brokers) > 1:
        brokers = f"{view.brokers[0]} +{len(view.brokers) - 1}"
    else:
        brokers = ",".join(view.brokers)
    if view.reachable is None:
        reach = Content.from_markup("[$text-muted]checking…[/]")
    else:
        colour = "$success" if view.reachable == len(view.brokers) else "$warning" if view.reachable else "$error"
        reach = Content.from_markup(f"[{colour}]$n/$m up[/]", n=str(view.reachable), m=str(len(view.brokers)))
    parts = [Content.from_markup("[b]$brokers[/b] ", brokers=brokers) + reach]
    if view.cluster_id:
        parts.append(Content.from_markup("cluster $id", id=view.cluster_id))
    if view.error and view.reachable:
        parts.append(Content.from_markup("[$error]$error[/]", error=view.error))
    return Content(" · ").join(parts)


def describe_connection(state: PublisherState | None, registry: RegistryView) -> Content:
    """``● connected · registry synced``."""
    if state is None:
        producer = Content("○ producer ?")
    else:
        producer = Content.from_markup(f"[{_STATE_COLOUR[state]}]● $state[/]", state=state.value)
    health = registry.health
    if registry.state is RegistryState.SYNCED and health is not None and health.state is RegistryHealthState.LOST:
        when = time.strftime("%H:%M:%S", time.localtime(health.lost_at or time.time()))
        reg = Content.from_markup("[$error]registry lost by the cluster at $when[/]", when=when)
    elif registry.state is RegistryState.SYNCED and health is not None and health.state is not RegistryHealthState.SYNCED:
        reg = Content.from_markup("[$warning]registry $state[/]", state=health.state.value)
    elif registry.state is RegistryState.SYNCED:
        reg = Content.from_markup("[$success]registry synced[/]")
    elif registry.state is RegistryState.RETRYING:
        reg = Content.from_markup("[$warning]registry retrying #$n[/]", n=str(registry.attempt))
    else:
        reg = Content.from_markup("[$text-muted]registry $state[/]", state=registry.state.value)
    return Content(" · ").join([producer, reg])


def short_label(label: str) -> str:
    """``Evolution API http://evo:8080`` → ``Evolution API``; ``registry __evokafka_instances`` → ``registry``."""
    head, _, tail = label.rpartition(" ")
    return head if head and ("://" in tail or tail.startswith("_") or "." in tail) else label


def describe_source(view: SourceView, *, compact: bool = False) -> Content:
    """Where instances come from (``Evolution API http://evo:8080``, ``registry __evokafka_instances``) and, when
    the last call failed, why (a refused key said as such). ``compact``: the kind only, for 80 columns."""
    text = short_label(view.label) if compact else view.label
    label = Content.from_markup(" │ [b]$label[/b]", label=text)
    if view.state is not SourceState.FAILED:
        return label
    why = "API key refused (401)" if view.auth_failed else "not answering"
    return label + Content.from_markup(" [$error]✗ $why[/]", why=why)


class ClusterHeader(Horizontal):
    """One line at the top of every console screen."""

    DEFAULT_CSS = """
    ClusterHeader { height: 1; dock: top; }
    ClusterHeader > #cluster-line { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    ClusterHeader > #source-badge { width: auto; max-width: 45%; text-wrap: nowrap; text-overflow: ellipsis;
                                    padding: 0 1 0 0; }
    ClusterHeader > #profile-badge { width: auto; max-width: 20; text-wrap: nowrap; text-overflow: ellipsis;
                                     padding: 0 1; display: none; }
    ClusterHeader.-profile > #profile-badge { display: block; }
    ClusterHeader > #profile-badge.-production { background: $warning; color: $text; text-style: bold; }
    ClusterHeader > #read-only-badge { width: auto; display: none; }
    ClusterHeader.-read-only > #read-only-badge { display: block; }
    """

    def __init__(self, session: Session, *, screen_name: str = "", id: str | None = None) -> None:
        """``screen_name`` is said right after the brand (which screen this is)."""
        super().__init__(id=id)
        self._session = session
        self.screen_name = screen_name
        self._unsubscribe: Unsubscribe | None = None
        self._producer: PublisherState | None = None
        self._last: tuple[ClusterView, RegistryView, PublisherState | None, SourceView] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="cluster-line")
        yield Static(id="source-badge")
        yield Static(id="profile-badge")
        yield Static("READ-ONLY", id="read-only-badge")

    def on_mount(self) -> None:
        session = self._session
        self.set_class(session.read_only, "-read-only")
        profile = session.profile
        if profile is not None:
            self.set_class(True, "-profile")
            badge = self.query_one("#profile-badge", Static)
            badge.update(f"{profile.name}{' PRODUCTION' if profile.production else ''}")
            badge.set_class(profile.production, "-production")
        self._producer = session.publisher_status.state
        self._unsubscribe = listen(
            session, self, ClusterChanged, RegistryStateChanged, SourceStateChanged, PublisherChanged
        )
        self._show_session()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @on(PublisherChanged)
    def _publisher_changed(self, message: PublisherChanged) -> None:
        if message.status.state is not self._producer:
            self._producer = message.status.state
            self._show_session()

    @on(ClusterChanged)
    @on(RegistryStateChanged)
    @on(SourceStateChanged)
    def _show_session(self) -> None:
        session = self._session
        self._show(session.cluster, session.registry_view, self._producer, session.source_view)

    def on_resize(self) -> None:
        if self._last is not None:
            self._show(*self._last)

    def _show(
        self, cluster: ClusterView, registry: RegistryView, producer: PublisherState | None, source: SourceView
    ) -> None:
        # Connection state first: when the line is cut at 80 columns, the cluster id goes, not the state.
        brand = Content.from_markup("[b $accent]evokafka[/] ")
        if self.screen_name:
            brand += Content.from_markup("[b reverse] $name [/] ", name=self.screen_name)
        compact = 0 < self.size.width < 110
        line = Content(" │ ").join(
            [brand + describe_connection(producer, registry), describe_cluster(cluster, compact=compact)]
        )
        self.query_one("#cluster-line", Static).update(line)
        self._last = (cluster, registry, producer, source)
        badge = self.query_one("#source-badge", Static)
        # At 80 columns the cluster (brokers up, cluster id) matters more than the source's full address.
        badge.update(describe_source(source, compact=compact))
        badge.set_class(source.state is SourceState.FAILED, "-failed")
