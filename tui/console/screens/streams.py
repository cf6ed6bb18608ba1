"""Live streams: as many panes as the operator likes, as tabs or as a grid, each with its own subscription.

Keys: ``n`` new pane, ``e`` edit the pane, ``w`` close it, ``[``/``]`` previous/next pane, ``a`` tabs/grid,
``z`` maximise the pane, ``+``/``-`` resize it in the grid, ``space`` pause/resume, ``f`` follow, ``c`` clear,
``enter`` record detail, ``/`` narrow the rows, ``:`` jump to partition/offset, ``y`` copy the row, ``x`` export
(``X`` with secrets), ``g`` lag panel, ``ctrl+s`` save the view, ``o`` open a saved view; on the row under the
cursor ``t`` trace its message, ``E`` explain its event, ``R`` re-send it.

A grid never leaves a pane under :data:`MIN_PANE_ROWS` rows of records: when the panes do not fit, they are
shown as tabs until they do (the grid comes back by itself when the terminal grows or a pane closes).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.message import Message
from textual.widgets import Input, Static, Tab, Tabs

from tui.address_book import AddressBook
from tui.console.screens.base import ConsoleScreen
from tui.console.screens.flow_actions import explain_record, redrive_record, trace_record
from tui.console.screens.prompt_dialog import PromptDialog
from tui.console.screens.record_detail import RecordDetailScreen
from tui.console.screens.subscription_dialog import SubscriptionDialog
from tui.console.screens.view_picker import ViewPicker
from tui.console.widgets.stream_lag import LagPanel
from tui.console.widgets.stream_pane import FRAME_RATE, StreamPane, export_records
from tui.console.widgets.stream_rows import BatchRows
from tui.console.widgets.stream_table import StreamTable
from tui.filters import FilterError
from tui.saved_views import Arrangement, View, ViewStore
from tui.selection import PaneSpec, ViewError, parse_position
from tui.summaries import one_line

MIN_PANE_ROWS = 4
"""Rows of records a pane keeps in the grid at least."""
PANE_CHROME = 5
"""Lines of a pane that are not records: border (2), title, column header, counters."""
MAX_WEIGHT = 6
"""How much taller than the others ``+`` can make a pane in the grid."""
DISCOVERY_TIMEOUT_S = 1.5
"""Bound on looking for instances seen only in topics before the subscription dialog opens."""


class PaneArea(Container):
    """Where the panes are; says when its size changes (the header or the lag panel may take lines), so the
    screen can tell whether the grid still fits."""

    class Resized(Message):
        """The area's size changed."""

    def on_resize(self) -> None:
        self.post_message(self.Resized())


class StreamsScreen(ConsoleScreen):
    """Several live stream panes; see the module docstring for the keys."""

    SCREEN_NAME = "Streams"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_pane", "New pane", id="streams-new"),
        Binding("e", "edit_pane", "Edit", id="streams-edit"),
        Binding("w", "close_pane", "Close pane", id="streams-close"),
        Binding("space", "pause", "Pause/resume", id="streams-pause"),
        Binding("f", "follow", "Follow", id="streams-follow"),
        Binding("c", "clear", "Clear", id="streams-clear"),
        Binding("a", "arrange", "Tabs/grid", id="streams-arrange"),
        Binding("z", "zoom", "Maximise", id="streams-zoom"),
        Binding("plus,equals_sign", "resize(1)", "Taller", show=False, key_display="+", id="streams-taller"),
        Binding("minus", "resize(-1)", "Shorter", show=False, key_display="-", id="streams-shorter"),
        Binding("colon", "jump", "Jump to offset", show=False, key_display=":", id="streams-jump"),
        Binding("x", "export(False)", "Export", id="streams-export"),
        Binding("X", "export(True)", "Export with secrets", show=False, id="streams-export-reveal"),
        Binding("g", "lag", "Lag", id="streams-lag"),
        Binding("ctrl+s", "save_view", "Save view", id="streams-save-view"),
        Binding("o", "open_view", "Open view", id="streams-open-view"),
        Binding("t", "row('trace')", "Trace message", show=False, id="streams-trace"),
        Binding("E", "row('explain')", "Explain event", show=False, id="streams-explain"),
        Binding("R", "row('redrive')", "Re-send record", show=False, id="streams-redrive"),
        # Priority: the app runs these as soon as the key arrives, instead of handing the key to the focused
        # table and letting it bubble up pane by pane (under a flood each hop waits behind the readers).
        Binding("]", "next_pane", "Next pane", show=False, priority=True, id="streams-next"),
        Binding("[", "previous_pane", "Previous pane", show=False, priority=True, id="streams-previous"),
    ]

    def __init__(self) -> None:
        super().__init__(classes="streams-screen")
        self.arrangement: Arrangement = "tabs"
        self.zoomed = False
        """Whether the active pane takes the whole body (``z``)."""
        self.grid_fits = True
        """Whether the grid leaves every pane :data:`MIN_PANE_ROWS` rows (else it is shown as tabs)."""
        self._next_id = 1
        self.views = ViewStore()
        self.names = AddressBook()
        """Who is who, as the traffic of every pane told it: rows name people and groups from it."""
        self.rows = BatchRows()
        """Where the panes make their rows: panes sharing a fetch share rows too."""
        self.reading: bool | None = None
        """Whether new panes read Kafka; None follows the app's ``connect`` (off for snapshots)."""
        # Held, not queried: a key press under a flood asked the DOM for them six times (~1 ms a query).
        self._tabs = Tabs(id="pane-tabs")
        self._empty = Static(
            Text("No panes yet. n: new pane · o: open a saved view · g: consumer lag"),
            id="streams-empty",
            markup=False,
        )
        self._area = PaneArea(id="panes", classes="-tabs")

    def on_mount(self) -> None:
        # One frame clock for every pane: under a flood all panes move in the same screen update.
        self.set_interval(1 / FRAME_RATE, self._draw_frames)

    def _draw_frames(self) -> None:
        cluster = self.session.cluster
        silent = cluster.checked_at is not None and not cluster.up
        for pane in self.panes:
            pane.set_cluster_silent(silent)
            pane.draw_frame()

    def compose_body(self) -> ComposeResult:
        yield self._tabs
        yield self._empty
        yield self._area

    # -- panes --------------------------------------------------------------------------------------------

    @property
    def panes(self) -> list[StreamPane]:
        """The open panes, in tab order."""
        return [child for child in self._area.children if isinstance(child, StreamPane)]

    @property
    def active_pane(self) -> StreamPane | None:
        """The pane the keys act on: the active tab."""
        active = self._tabs.active
        if not active:
            return None
        pane_id = active.removeprefix("tab-")
        return next((pane for pane in self.panes if pane.id == pane_id), None)

    async def add_pane(self, spec: PaneSpec, *, reading: bool | None = None) -> StreamPane:
        """Open a pane for ``spec`` and make it active (``reading`` defaults to the app's ``connect``)."""
        session = self.session
        pane_id = f"pane-{self._next_id}"
        self._next_id += 1
        pane = StreamPane(
            spec,
            prefix=session.settings.topic_prefix,
            capacity=session.app_settings.pane_buffer,
            max_bytes=session.app_settings.pane_buffer_bytes,
            clock=session.clock,
            follow=session.follow,
            reading=self._reading() if reading is None else reading,
            retry_delay_ms=session.settings.reconnect_initial_delay_ms,
            clocked=False,
            names=self.names,
            rows=self.rows,
            id=pane_id,
        )
        await self._area.mount(pane)
        await self._tabs.add_tab(Tab(Text(one_line(spec.title, 30)), id=f"tab-{pane_id}"))
        self.activate(pane)
        return pane

    def _reading(self) -> bool:
        if self.reading is not None:
            return self.reading
        return self.session.connect

    async def close_pane(self, pane: StreamPane) -> None:
        """Close ``pane`` (its reader stops with it)."""
        tabs = self._tabs
        await tabs.remove_tab(f"tab-{pane.id}")
        await pane.remove()
        self._show_active()

    def _show_active(self) -> None:
        active = self.active_pane
        panes = self.panes
        grid = self._grid_shown()
        container = self._area
        container.set_class(grid, "-grid")
        container.set_class(not grid, "-tabs")
        restyle = []
        for pane in panes:
            pane.display = grid or pane is active
            if pane.has_class("-active") != (pane is active):
                pane.set_class(pane is active, "-active", update=False)
                restyle.append(pane)
        if restyle:
            # Only the panes themselves: ``-active`` changes their outline's colour, nothing inside them, and restyling
            # every descendant (as a class change does) cost ~15 ms of CPU per key press under a flood.
            self.app.stylesheet.update_nodes(restyle, animate=True)
        self._empty.display = not panes
        self._tabs.display = bool(panes) and not self.zoomed
        self.set_class(self.zoomed, "-zoomed")

    def _grid_shown(self) -> bool:
        """Whether the panes are drawn as a grid now: asked for, not maximised, and every pane fits."""
        if self.arrangement != "grid" or self.zoomed:
            return False
        count = len(self.panes)
        height = self._area.size.height or self.size.height
        fits = count <= 1 or height // count >= PANE_CHROME + MIN_PANE_ROWS
        if fits != self.grid_fits and count and height:
            self.grid_fits = fits
            if not fits:
                self.notify(f"{count} panes do not fit a grid here: shown as tabs ([ ] to switch)", timeout=4)
        return fits

    @on(PaneArea.Resized)
    def _area_resized(self) -> None:
        self._show_active()

    @on(Tabs.TabActivated)
    def _tab_changed(self) -> None:
        pane = self.active_pane
        if pane is not None and pane.has_class("-active") and self.focused is pane.table:
            # ``activate`` showed it already (]/[ and the number keys): the tab's message comes after.
            return
        self._show_active()
        if pane is not None and pane.is_mounted:
            pane.table.focus()

    @on(StreamTable.RecordChosen)
    def _open_detail(self, event: StreamTable.RecordChosen) -> None:
        self.app.push_screen(RecordDetailScreen(event.row.record, event.table.neighbour))

    def on_descendant_focus(self) -> None:
        # In the grid, the pane holding the focus is the active one.
        focused = self.focused
        if self.arrangement != "grid" or focused is None:
            return
        for node in focused.ancestors_with_self:
            if isinstance(node, StreamPane) and node is not self.active_pane:
                self._tabs.active = f"tab-{node.id}"
                break

    # -- actions ------------------------------------------------------------------------------------------

    async def _known_instances(self) -> list[str]:
        """The registry's instances and those seen only in topics (discovery, bounded in time): the pick list."""
        names: set[str] = set()
        with contextlib.suppress(Exception):  # the registry may not be synced yet: typed names still work
            names.update(self.session.registry_entries())
        if self._reading():
            # A slow or unreachable cluster: the dialog opens with what is known.
            with contextlib.suppress(Exception):
                names.update(await asyncio.wait_for(self.session.discover(), timeout=DISCOVERY_TIMEOUT_S))
        return sorted(names)

    @work(exclusive=True, group="streams-dialog", exit_on_error=False)
    async def action_new_pane(self) -> None:
        """Ask for a subscription and open a pane for it."""
        dialog = SubscriptionDialog(self.session.settings.topic_prefix, await self._known_instances())
        spec = await self.app.push_screen_wait(dialog)
        if spec is not None:
            await self.add_pane(spec)

    @work(exclusive=True, group="streams-dialog", exit_on_error=False)
    async def action_edit_pane(self) -> None:
        """Change the active pane's subscription or filters (the pane restarts)."""
        pane = self.active_pane
        if pane is None:
            return
        dialog = SubscriptionDialog(self.session.settings.topic_prefix, await self._known_instances(), pane.spec)
        spec = await self.app.push_screen_wait(dialog)
        if spec is not None:
            await self.close_pane(pane)
            await self.add_pane(spec)

    async def action_close_pane(self) -> None:
        """Close the active pane."""
        pane = self.active_pane
        if pane is not None:
            await self.close_pane(pane)

    def action_pause(self) -> None:
        """Pause or resume the active pane."""
        pane = self.active_pane
        if pane is not None:
            paused = pane.toggle_pause()
            self.notify(f"{one_line(pane.spec.title, 30)}: {'paused' if paused else 'resumed'}", timeout=2)

    def action_follow(self) -> None:
        """Follow the newest record in the active pane, or stop following."""
        pane = self.active_pane
        if pane is not None:
            pane.toggle_follow()

    def action_clear(self) -> None:
        """Empty the active pane (counted as dropped)."""
        pane = self.active_pane
        if pane is not None:
            pane.clear()

    def action_arrange(self) -> None:
        """Switch between tabs (one pane at a time) and a grid (all panes)."""
        self.set_arrangement("grid" if self.arrangement == "tabs" else "tabs")

    def set_arrangement(self, arrangement: Arrangement) -> None:
        """Show the panes as tabs or as a grid (tabs while the grid would leave a pane too few rows)."""
        self.arrangement = arrangement
        self.zoomed = False
        self.grid_fits = True
        self._show_active()

    def action_zoom(self) -> None:
        """Let the active pane take the whole body, or give the others their place back."""
        if self.active_pane is None:
            return
        self.zoomed = not self.zoomed
        self._show_active()

    def action_resize(self, step: int) -> None:
        """Make the active pane taller (``+``) or shorter (``-``) than the others in the grid."""
        pane = self.active_pane
        if pane is None or not self._grid_shown():
            self.notify("resizing is for the grid (a: tabs/grid)", timeout=2)
            return
        pane.weight = max(1, min(MAX_WEIGHT, pane.weight + step))
        pane.styles.height = f"{pane.weight}fr"

    @work(exclusive=True, group="streams-dialog", exit_on_error=False)
    async def action_jump(self) -> None:
        """Put the cursor on a record of the active pane by partition and offset (``2/1234``, or ``1234``)."""
        pane = self.active_pane
        if pane is None:
            return
        answer = await self.app.push_screen_wait(PromptDialog("Jump to partition/offset (e.g. 2/1234 or 1234)", ""))
        if answer is None:
            return
        try:
            partition, offset = parse_position(answer)
        except ValueError as exc:
            self.notify(one_line(str(exc), 200), severity="warning")
            return
        index = pane.table.find_position(partition, offset)
        if index is None:
            self.notify(f"{one_line(answer, 30)} is not in this pane's buffer (e: start the pane elsewhere)",
                        severity="warning", timeout=4)
            return
        pane.table.move_to(index)
        pane.table.focus()

    def action_row(self, what: str) -> None:
        """Trace (``t``), explain (``E``) or re-send (``R``) the active pane's record under the cursor."""
        pane = self.active_pane
        row = pane.table.selected() if pane is not None else None
        if row is None:
            self.notify("no record under the cursor", severity="warning", timeout=3)
            return
        {"trace": trace_record, "explain": explain_record, "redrive": redrive_record}[what](self, row.record)

    def action_next_pane(self) -> None:
        """Activate the next pane."""
        self._step_pane(1)

    def action_previous_pane(self) -> None:
        """Activate the previous pane."""
        self._step_pane(-1)

    def _step_pane(self, step: int) -> None:
        # The bindings are priority ones: a field being typed in (the lag panel's group id) keeps its brackets.
        if isinstance(self.focused, Input):
            raise SkipAction()
        panes = self.panes
        if not panes:
            return
        current = self.active_pane
        index = panes.index(current) if current in panes else -1
        self.activate(panes[(index + step) % len(panes)])

    def activate(self, pane: StreamPane) -> None:
        """Make ``pane`` the active one at once (tab, border, focus), without waiting for the tab's message."""
        self._tabs.active = f"tab-{pane.id}"
        self._show_active()
        if pane.is_mounted:
            # Focused now (Widget.focus waits for the app's next turn): until then a queued focus event of the
            # pane before it would make that pane the active one again in the grid (on_descendant_focus).
            self.set_focus(pane.table)

    @work(exclusive=True, group="streams-dialog", exit_on_error=False)
    async def action_export(self, reveal: bool) -> None:
        """Write the active pane's records to a JSONL file (secrets masked unless ``reveal``)."""
        pane = self.active_pane
        if pane is None:
            return
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", pane.spec.title).strip("-") or "pane"
        question = "Export to (JSONL)" + (" — WITH SECRETS" if reveal else ", secrets masked")
        answer = await self.app.push_screen_wait(PromptDialog(question, f"evokafka-{safe}.jsonl"))
        if answer is None:
            return
        try:
            # File writing off the event loop: an export of a full buffer may take a moment.
            rows = pane.buffer.snapshot()  # on the event loop: the buffer keeps moving while the file is written
            count = await asyncio.to_thread(export_records, rows, answer, reveal=reveal)
        except OSError as exc:
            self.notify(one_line(f"cannot write {answer}: {exc.strerror or exc}", 200), severity="error")
            return
        self.notify(f"exported {count:,} records to {one_line(answer, 80)}", timeout=4)

    async def action_lag(self) -> None:
        """Show or hide the consumer lag of ``KAFKA_CONSUMER_GROUP_ID``."""
        found = self.query(LagPanel)
        if found:
            await found.remove()
            return
        settings = self.session.settings
        pattern = re.escape(settings.topic_prefix) + r"\..*"
        await self.query_one("#body").mount(LagPanel(self.session, settings.consumer_group_id, pattern))

    def current_view(self, name: str) -> View:
        """The open panes as a view called ``name``."""
        return View(name, tuple(p.spec for p in self.panes), self.arrangement)

    @work(exclusive=True, group="streams-dialog", exit_on_error=False)
    async def action_save_view(self) -> None:
        """Save the open panes under a name."""
        if not self.panes:
            self.notify("no panes to save", severity="warning")
            return
        name = await self.app.push_screen_wait(PromptDialog("Save view as", "default"))
        if name is None:
            return
        try:
            self.views.save(self.current_view(name))
        except (OSError, ViewError) as exc:
            self.notify(one_line(f"cannot save the view: {exc}", 200), severity="error")
            return
        self.notify(f"view {one_line(name, 40)} saved to {self.views.path}", timeout=4)

    @work(exclusive=True, group="streams-dialog", exit_on_error=False)
    async def action_open_view(self) -> None:
        """Replace the open panes with a saved view."""
        names = self.views.names()
        for problem in self.views.problems:
            self.notify(one_line(problem, 200), severity="warning")
        name = await self.app.push_screen_wait(ViewPicker(names))
        if name is not None:
            await self.open_view(self.views.get(name))

    async def open_view(self, view: View) -> None:
        """Close every pane and open the view's."""
        for pane in self.panes:
            await self.close_pane(pane)
        for spec in view.panes:
            try:
                await self.add_pane(spec)
            except (ValueError, FilterError) as exc:
                self.notify(one_line(f"pane {spec.title}: {exc}", 200), severity="error")
        self.set_arrangement(view.arrangement)
