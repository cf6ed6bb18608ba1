"""The console: a small Textual app; screens, widgets and styles live in their own modules."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.resources
import os
from collections.abc import Callable, Iterable
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.actions import SkipAction
from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen
from textual.worker import Worker

from tui import collector
from tui.console.screens.areas import AREAS
from tui.console.session_app import OpeningFailed, SessionApp, report_worker_failure

if TYPE_CHECKING:
    from tui.console.screens.streams import StreamsScreen
    from tui.console.session import Session
    from tui.selection import PaneSpec

# Each area's screen module is imported when its area first opens (plain imports, visible to mypy), so the first
# frame waits only for the home screen's; the dialogs (keys, profiles, the quit question) when first shown.


def _home() -> Screen[None]:
    from tui.console.screens.main import MainScreen

    return MainScreen()


def _instances() -> Screen[None]:
    from tui.console.screens.instances import InstancesScreen

    return InstancesScreen()


def _publish() -> Screen[None]:
    from tui.console.screens.publish import PublishScreen

    return PublishScreen()


def _streams() -> Screen[None]:
    from tui.console.screens.streams import StreamsScreen

    return StreamsScreen()


def _layout() -> Screen[None]:
    from tui.console.screens.layout import LayoutScreen

    return LayoutScreen()


def _groups() -> Screen[None]:
    from tui.console.screens.groups import GroupsScreen

    return GroupsScreen()


def _doctor() -> Screen[None]:
    from tui.console.screens.doctor import DoctorScreen

    return DoctorScreen()


def _matrix() -> Screen[None]:
    from tui.console.screens.matrix import MatrixScreen

    return MatrixScreen()


SCREENS_BY_MODE: dict[str, Callable[[], Screen[None]]] = {
    "home": _home,
    "instances": _instances,
    "publish": _publish,
    "streams": _streams,
    "layout": _layout,
    "groups": _groups,
    "doctor": _doctor,
    "matrix": _matrix,
}
"""Each area's screen, made on first use."""


SERVICE_WORKERS = "services"
OPENING_ACTIONS = frozenset({"request_quit", "quit"})
"""What keys can do while the console is still opening (:class:`OpeningConsole`)."""
STOP_TIMEOUT_S = 10.0


def stylesheets() -> list[str | PurePath]:
    """Every ``.tcss`` shipped in ``tui.styles``; ``app.tcss`` first so screens' sheets can refine it."""
    folder = Path(str(importlib.resources.files("tui.styles")))
    sheets = sorted(folder.glob("*.tcss"), key=lambda p: (p.name != "app.tcss", p.name))
    return [*sheets]


OPENING_SHEETS = frozenset({"app.tcss"})
"""What the opening screen's first frame is styled by (:class:`OpeningConsole`)."""
HOME_SHEETS = frozenset({"app.tcss", "main.tcss"})
"""What the home screen's first frame is styled by. Textual parses every sheet at start, and again for each
change: a console opening on the home reads the other areas' sheets right after its first frame."""


class EvokafkaApp(SessionApp):
    """evokafka's console; every screen reaches its :class:`~tui.console.session.Session` as ``self.session``."""

    TITLE = "evokafka"
    CSS_PATH = stylesheets()
    MODES = {area.mode: SCREENS_BY_MODE[area.mode] for area in AREAS}
    DEFAULT_MODE = "home"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(area.key, f"app.open_area('{area.mode}')", area.title, show=False, id=f"area-{area.mode}")
            for area in AREAS
        ),
        Binding("q", "app.request_quit(False)", "Quit", id="quit"),
        # Priority: Ctrl-C quits wherever the focus is, as in every terminal program.
        Binding("ctrl+c", "app.request_quit(True)", "Quit", show=False, priority=True, id="quit-ctrl-c"),
        Binding("ctrl+q", "app.request_quit(True)", "Quit", show=False, id="quit-ctrl-q"),
        Binding("question_mark,f1", "app.show_keys", "Keys", id="keys"),
        Binding("escape", "app.go_back", "Back", show=False, id="back-home"),
        Binding("P", "app.profiles", "Profiles", show=False, id="profiles"),
        Binding("ctrl+r", "app.retry_producer", "Retry producer", show=False, id="retry-producer"),
    ]

    def __init__(
        self,
        session: Session | None,
        *,
        connect: bool = True,
        cursor_blink: bool = True,
        panes: tuple[PaneSpec, ...] = (),
    ) -> None:
        """``connect=False`` starts no Kafka work (snapshots: the session's ``connect`` fact says so to every
        screen); ``cursor_blink=False`` freezes cursors; ``panes`` opens the console on the streams area with
        these panes (``evokafka watch``). ``session`` is None only for :class:`OpeningConsole`, which opens it
        after its first frame."""
        super().__init__(session, cursor_blink=cursor_blink)
        if "TEXTUAL_ANIMATIONS" not in os.environ:
            # No slides over SSH: a tab's underline gliding after each ] cost ~40 frames a second under a flood
            # (CPU, bytes on a slow link, and the key's frame waiting for its turn). TEXTUAL_ANIMATIONS=full
            # brings them back.
            self.animation_level = "none"
        self.connect = connect
        if session is not None:
            session.connect = connect
        self.watch_panes = panes
        self.next_profile: str | None = None
        """The profile the operator switched to: the command line opens the console again on it."""
        self._quit_asked = False
        self._later_sheets: list[str | PurePath] = []
        """Sheets read after the first frame (:data:`HOME_SHEETS`)."""
        if self.DEFAULT_MODE == "home" and not panes:
            self._later_sheets = [path for path in self.css_path if PurePath(path).name not in HOME_SHEETS]
            self.css_path = [path for path in self.css_path if PurePath(path).name in HOME_SHEETS]

    async def on_mount(self) -> None:
        if self.session_open and self.watch_panes:
            await self.open_panes(self.watch_panes)
        self.call_after_refresh(self._after_first_frame)

    def _after_first_frame(self) -> None:
        # The services start once the first frame is up: their Kafka client (aiokafka) is imported then, not
        # while the console opens (tests/ui/test_console_start.py).
        if self.session.connect:
            self._run_services()
        self.read_later_sheets()
        self._tune_gc()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Before the session is open (:class:`OpeningConsole`) only quitting works."""
        if not self.session_open and action not in OPENING_ACTIONS:
            return False
        return super().check_action(action, parameters)

    def read_later_sheets(self) -> None:
        """Read the sheets the first frame did without (once; before any other screen shows)."""
        sheets, self._later_sheets = self._later_sheets, []
        added = False
        for path in sheets:
            if not self.stylesheet.has_source(str(path), ""):
                self.stylesheet.read(path)
                added = True
        if added:
            self.refresh_css(animate=False)

    async def open_panes(self, panes: Iterable[PaneSpec], *, grid: bool | None = None) -> StreamsScreen | None:
        """Switch to the streams area and open ``panes`` there (a grid when there are several, unless
        ``grid`` says otherwise); None when the streams screen is not the top of its area."""
        from tui.console.screens.streams import StreamsScreen

        self.read_later_sheets()
        await self.switch_mode("streams")
        streams = self.screen
        if not isinstance(streams, StreamsScreen):
            return None
        specs = list(panes)
        for spec in specs:
            try:
                await streams.add_pane(spec)
            except ValueError as exc:
                self.notify(f"pane {spec.title}: {exc}", severity="error")
        if grid if grid is not None else len(specs) > 1:
            streams.set_arrangement("grid")
        return streams

    @staticmethod
    def _tune_gc() -> None:
        # Under a flood, full collections over everything allocated at start-up (Textual, pydantic, aiokafka)
        # took ~260 ms each and landed on key latency: move those objects out of the collector's sight once
        # the first frame is up, and collect the young generation less often. The command line keeps the
        # collector off until then (tui.cli.console_cmd.open_console): on again here.
        collector.settle(collector.CONSOLE_YOUNG)

    # -- extension points: a console that brings its own cluster (the demo) hooks in here ---------------

    async def prepare_services(self) -> None:
        """Run in the services worker before the publisher, registry and cluster workers start: a subclass
        brings up what they need (the demo starts its broker and seeds its registry). An exception here is
        reported and the services do not start. Does nothing by default."""

    async def services_started(self) -> None:
        """Run in the services worker once the publisher, registry and cluster workers were started (they may
        still be connecting). Does nothing by default."""

    # Services run in workers: the event loop never waits on Kafka, and a broker that is down blocks nothing.
    @work(group=SERVICE_WORKERS, exclusive=False, exit_on_error=False, name="services")
    async def _run_services(self) -> None:
        await self.prepare_services()
        self._watch_cluster()
        # The header says whether the brokers answer before the clients report their own failures; bounded, so a
        # silent network delays the clients by the connection timeout at most.
        await self._first_cluster_check(max(self.session.options.connect_timeout_s, 0.5) * 2)
        self._start_publisher()
        self._run_registry()
        # The Kafka client was imported by the cluster check, after _tune_gc froze what the start-up allocated:
        # out of the collector's sight too.
        collector.freeze_imports()
        await self.services_started()

    async def _first_cluster_check(self, timeout: float) -> None:
        session = self.session
        checked = asyncio.Event()

        def seen(_fact: object = None) -> None:
            if session.cluster.checked_at is not None:
                checked.set()

        unsubscribe = session.changes.add(seen)
        try:
            seen()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(checked.wait(), timeout=timeout)
        finally:
            unsubscribe()

    @work(group=SERVICE_WORKERS, exclusive=False, exit_on_error=False, name="publisher")
    async def _start_publisher(self) -> None:
        await self.session.start_publisher()

    @work(group=SERVICE_WORKERS, exclusive=False, exit_on_error=False, name="registry")
    async def _run_registry(self) -> None:
        await self.session.run_registry()

    @work(group=SERVICE_WORKERS, exclusive=False, exit_on_error=False, name="cluster")
    async def _watch_cluster(self) -> None:
        await self.session.watch_cluster()

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker's failure becomes a visible notification, never a crash."""
        report_worker_failure(self, event)

    def action_open_area(self, mode: str) -> None:
        """Switch to an area of the console."""
        if mode in self.MODES and mode != self.current_mode:
            self.read_later_sheets()
            self.switch_mode(mode)

    def action_retry_producer(self) -> None:
        """Start reconnecting the publisher again (after FAILED)."""
        self.session.retry_publisher()
        self.notify("Producer: reconnecting", timeout=3)

    async def action_quit(self) -> None:
        """Flush what is in flight and stop the services (bounded), then leave, even when stopping failed."""
        # A stop that timed out (the broker gone) must not keep the console open.
        with contextlib.suppress(Exception):
            await self.stop_services()
        self.exit()

    async def action_request_quit(self, anywhere: bool) -> None:
        """``q`` quits from a top screen (on a screen opened over another it says that Esc goes back); Ctrl-C
        quits from ``anywhere``. Either asks once while records are still in flight."""
        from tui.console.screens.confirm_dialog import ConfirmDialog

        top = self.screen
        if isinstance(top, ConfirmDialog) and self._quit_asked:
            top.dismiss(True)  # q or Ctrl-C again, in the question itself: yes
            return
        if not anywhere and len(self.screen_stack) > 1:
            if isinstance(top, ModalScreen):
                raise SkipAction()  # a modal's own keys come first (app keys reach it only with priority)
            self.notify("Esc goes back; q quits from a top screen (Ctrl-C quits from anywhere)", timeout=3)
            return
        if not self.session_open:
            self.exit()  # still opening: nothing in flight, no services to stop
            return
        in_flight = max(self.session.publisher_status.in_flight, 0)
        if in_flight and not self._quit_asked:
            self._quit_asked = True
            self._ask_quit(in_flight)
            return
        await self.action_quit()

    @work(exclusive=True, group="quit-question", exit_on_error=False)
    async def _ask_quit(self, in_flight: int) -> None:
        from tui.console.screens.confirm_dialog import ConfirmDialog

        self.read_later_sheets()
        yes = await self.push_screen_wait(
            ConfirmDialog(
                f"Quit with {in_flight:,} records in flight?",
                "They are flushed on the way out (bounded): each ends acknowledged or reported failed.",
                yes="quit",
                yes_keys=("q",),
            )
        )
        self._quit_asked = False
        if yes:
            await self.action_quit()

    def action_go_back(self) -> None:
        """Esc where the screen has no Esc of its own: close a screen opened over another, else go home."""
        if len(self.screen_stack) > 1:
            self.pop_screen()
        elif self.current_mode != "home":
            self.action_open_area("home")

    def action_show_keys(self) -> None:
        """List every key of this screen and the global ones."""
        from tui.console.screens.keys_help import KeysHelpScreen, key_rows

        screen = self.screen
        if isinstance(screen, KeysHelpScreen):
            return
        self.read_later_sheets()
        name = getattr(screen, "screen_name", "") or screen.__class__.__name__
        self.push_screen(KeysHelpScreen(name, key_rows(self, screen)))

    @work(exclusive=True, group="profiles", exit_on_error=False)
    async def action_profiles(self) -> None:
        """Switch to another named connection profile (the console opens again on it)."""
        from tui.console.screens.profiles_dialog import ProfilesDialog

        current = self.session.profile.name if self.session.profile is not None else None
        self.read_later_sheets()
        chosen = await self.push_screen_wait(ProfilesDialog(current))
        if chosen is not None and chosen != current:
            self.next_profile = chosen
            await self.action_quit()

    async def stop_services(self) -> None:
        """Stop the publisher (flushing), the registry and the admin client; bounded."""
        self.workers.cancel_group(self, SERVICE_WORKERS)
        if not self.session_open:
            return
        await asyncio.wait_for(self.session.stop(), timeout=STOP_TIMEOUT_S * 2)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette: every area, the app's actions and the bindings active on the screen."""
        yield from super().get_system_commands(screen)
        for area in AREAS:
            yield SystemCommand(f"Open {area.title}", area.help, lambda mode=area.mode: self.action_open_area(mode))
        yield SystemCommand("Retry producer", "Reconnect the publisher after it failed", self.action_retry_producer)
        from tui.console.screens.flow_actions import flow_commands  # with the palette, not at start-up

        yield from flow_commands(self)
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.description in seen or not active.enabled:
                continue
            if binding.action.startswith("app.") or binding.id in {"quit", "command_palette"}:
                continue
            seen.add(binding.description)
            yield SystemCommand(
                binding.description,
                binding.tooltip or f"key {binding.key_display or binding.key}",
                lambda node=active.node, action=binding.action: self.run_action(action, node),
            )


def _opening() -> Screen[None]:
    from tui.console.screens.opening import OpeningScreen

    return OpeningScreen()


SessionOpener = Callable[[], "Session"]
"""Reads and validates the settings and builds the console's session (on the event loop, after :func:`warm`);
raises :class:`tui.console.session_app.OpeningFailed` with the lines to print when the settings cannot be used."""


def warm() -> None:
    """Import what opening the session and its home need (pydantic, the settings, the session, the home screen);
    run in a thread after the first frame, so the event loop stays free to answer ``q``."""
    import tui.config
    import tui.console.screens.main
    import tui.console.session  # noqa: F401


class OpeningConsole(EvokafkaApp):
    """The console as ``evokafka`` opens it: its first frame comes before its settings are read.

    pydantic with the settings, evokafka's session and the home screen are half the way to the home's first
    frame (callgrind, to the first frame: 1,966 M instructions when it is the home's, 1,044 M for the opening
    screen; to the home's then 1,958 M). Here the first frame is the opening screen
    (:class:`tui.console.screens.opening.OpeningScreen`); then :func:`warm` imports them in a thread, the
    ``opener`` reads and validates the settings and builds the session, and the console turns to its home, or to
    the panes ``evokafka watch`` asked for, and starts its services. Settings that cannot be used close the
    console: :attr:`failure` holds their lines and exit code, which the command line prints.
    """

    DEFAULT_MODE = "opening"
    MODES = {**EvokafkaApp.MODES, "opening": _opening}

    def __init__(
        self,
        opener: SessionOpener,
        *,
        source: str = "",
        connect: bool = True,
        cursor_blink: bool = True,
        panes: tuple[PaneSpec, ...] = (),
        prepare: Callable[[], None] = warm,
    ) -> None:
        """``source`` says where the settings come from (the opening screen shows it); ``prepare`` runs in a
        thread before ``opener`` (tests hold it to see the opening screen)."""
        super().__init__(None, connect=connect, cursor_blink=cursor_blink, panes=panes)
        self._opener = opener
        self._prepare = prepare
        self._source = source
        self.failure: OpeningFailed | None = None
        """Why the session could not be opened (the console closed): the lines to print and the exit code."""
        self._later_sheets = [path for path in self.css_path if PurePath(path).name not in OPENING_SHEETS]
        self.css_path = [path for path in self.css_path if PurePath(path).name in OPENING_SHEETS]

    async def on_mount(self) -> None:
        from tui.console.screens.opening import OpeningScreen

        screen = self.screen
        if isinstance(screen, OpeningScreen) and self._source:
            screen.show_state(f"Reading the settings ({self._source}) and opening the session…")
        await super().on_mount()

    def _after_first_frame(self) -> None:
        # The collector stays off (the command line held it) while the session's modules are imported and its
        # home composed, as when the console opens on its home: on once that frame is up.
        self._open()

    @work(exclusive=True, group="opening", exit_on_error=False, name="opening")
    async def _open(self) -> None:
        try:
            await asyncio.to_thread(self._prepare)
            session = self._opener()
        except Exception as exc:  # one line on the way out, never a traceback on the console
            self.failure = (
                exc if isinstance(exc, OpeningFailed)
                else OpeningFailed([f"error: {exc.__class__.__name__}: {exc}"], code=1)
            )
            self._tune_gc()
            self.exit(return_code=self.failure.code)
            return
        self.open_session(session)
        session.connect = self.connect
        if self.watch_panes:
            await self.open_panes(self.watch_panes)
        else:
            # The home's sheets now; the others right after its first frame, as when the console opens on it.
            later, self._later_sheets = self._later_sheets, []
            for path in later:
                if PurePath(path).name in HOME_SHEETS:
                    self.stylesheet.read(path)  # applied as the home mounts (a new mode's screen restyles all)
                else:
                    self._later_sheets.append(path)
            await self.switch_mode("home")
            self.call_after_refresh(self.read_later_sheets)
        self.call_after_refresh(self._tune_gc)
        # The opening mode stays (one idle screen, never shown again: no key opens it): removing it could race
        # the app's own closing of every mode when the operator quits at that moment.
        if session.connect:
            self._run_services()
