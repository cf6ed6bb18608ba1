"""The producer's state, always visible: reconnect attempts with a live countdown, counters, last error."""

from __future__ import annotations

from textual import on
from textual.app import RenderResult
from textual.content import Content
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget

from tui.console.bridge import listen
from tui.console.messages import PublisherChanged
from tui.console.session import Session
from tui.listeners import Unsubscribe
from tui.status import PublisherState, PublisherStatus

_LOOK: dict[PublisherState, tuple[str, str]] = {
    PublisherState.DISCONNECTED: ("○", "$text-muted"),
    PublisherState.CONNECTING: ("◌", "$warning"),
    PublisherState.CONNECTED: ("●", "$success"),
    PublisherState.STALLED: ("◌", "$warning"),
    PublisherState.RECONNECTING: ("◌", "$warning"),
    PublisherState.FAILED: ("✖", "$error"),
}

COUNTDOWN_TICK_S = 0.2
"""How often the countdown to the next reconnect attempt is redrawn while one is pending."""


def headline(status: PublisherStatus, now: float) -> Content:
    """First line: state, attempt n of N, backoff and the countdown to the next try."""
    icon, colour = _LOOK.get(status.state, ("?", "$text"))
    parts = [Content.from_markup(f"[{colour}]$icon Producer [b]$state[/b][/]", icon=icon, state=status.state.value)]
    if status.state is PublisherState.RECONNECTING:
        parts.append(Content(f"attempt {status.attempt}/{status.max_attempts}"))
        if status.next_try_at is not None:
            left = max(status.next_try_at - now, 0.0)
            parts.append(Content(f"next try in {left:.1f}s"))
        if status.delay_ms:
            parts.append(Content(f"backoff {status.delay_ms} ms"))
    elif status.state is PublisherState.FAILED:
        parts.append(Content(f"gave up after {status.max_attempts} attempts"))
        parts.append(Content.from_markup("[b]ctrl+r[/b] retry"))
    return Content(" · ").join(parts)


def counters(status: PublisherStatus) -> Content:
    """Second line: counters, idempotence, last error."""
    idem = {True: "on", False: "[$warning]off[/]", None: "?"}[status.idempotence]
    line = Content.from_markup(
        f"sent $sent · acked $acked · retried $retried · [{'$error' if status.failed else '$text'}]failed $failed[/]"
        f" · idempotence {idem}",
        sent=str(status.sent),
        acked=str(status.acknowledged),
        retried=str(status.retried),
        failed=str(status.failed),
    )
    if status.last_error:
        line = line + Content.from_markup(" · [$error]$error[/]", error=status.last_error)
    return line


class ProducerStatus(Widget):
    """Two compact lines: the publisher's state and counters, updated as the publisher reports changes."""

    DEFAULT_CSS = """
    ProducerStatus { height: 2; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    status: reactive[PublisherStatus | None] = reactive(None)

    def __init__(
        self,
        session: Session,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._session = session
        self._clock = session.clock
        self._unsubscribe: Unsubscribe | None = None
        self._ticker: Timer | None = None

    def on_mount(self) -> None:
        self.status = self._session.publisher_status
        self._unsubscribe = listen(self._session, self, PublisherChanged)
        self._ticker = self.set_interval(COUNTDOWN_TICK_S, self._tick, pause=True)
        self._update_ticker()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @on(PublisherChanged)
    def _publisher_changed(self, message: PublisherChanged) -> None:
        self.status = message.status

    def watch_status(self, status: PublisherStatus | None) -> None:
        self.set_class(status is not None and status.state is PublisherState.FAILED, "-failed")
        self.set_class(status is not None and status.state is PublisherState.RECONNECTING, "-reconnecting")
        self._update_ticker()

    def _update_ticker(self) -> None:
        if self._ticker is None:
            return
        status = self.status
        if status is not None and status.next_try_at is not None:
            self._ticker.resume()
        else:
            self._ticker.pause()

    def _tick(self) -> None:
        self.refresh()

    def render(self) -> RenderResult:
        status = self.status
        if status is None:
            return Content("○ Producer: no status yet")
        return Content("\n").join([headline(status, self._clock()), counters(status)])
