"""Publish test envelopes: event, instance, a JSON body from the event's template, preview, send or burst."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.suggester import SuggestFromList
from textual.validation import Integer, Number
from textual.widgets import Button, Input, Label, ProgressBar, Static

from tui import catalog
from tui.console.bridge import listen
from tui.console.messages import RegistryEntryUpdated
from tui.console.screens.base import ConsoleScreen
from tui.console.widgets.delivery_log import DeliveryLog
from tui.console.widgets.event_chooser import EventChooser
from tui.console.widgets.json_editor import JsonEditor, JsonProblem
from tui.console.widgets.publish_preview import PublishPreview
from tui.handles import Sending
from tui.listeners import Unsubscribe
from tui.routing import name_problem, route_for
from tui.status import Delivery, PublisherState
from tui.templates import template
from tui.topology import route

DEFAULT_EVENT = catalog.BY_NAME["MESSAGES_UPSERT"]
DEFAULT_INSTANCE = "demo"
MAX_BURST = 100_000
MAX_RATE = 10_000.0
WAITING_REFRESH_S = 0.5
"""How often a send still waiting for the cluster says so again (its countdown moves)."""


def problem_markup(problem: JsonProblem) -> str:
    """The error line and the offending line with a caret under the column (markup-safe)."""
    from rich.markup import escape

    caret = " " * max(problem.column - 1, 0) + "^"
    return f"[b]✗ {escape(problem.describe())}[/b]  (ctrl+g: go there)\n{escape(problem.excerpt)}\n{caret}"


class PublishScreen(ConsoleScreen):
    """Compose and send envelopes through the console's publisher."""

    SCREEN_NAME = "Publish"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send", id="send", priority=True),
        Binding("ctrl+t", "reload_template", "Template", id="template"),
        Binding("ctrl+g", "goto_problem", "Go to JSON error", id="goto-problem", show=False),
        Binding("ctrl+f", "focus_event", "Event", id="focus-event"),
        Binding("ctrl+o", "focus_instance", "Instance", id="focus-instance"),
        Binding("escape", "cancel_or_back", "Stop/back", id="cancel"),
    ]

    def __init__(self, instance: str | None = None, event: catalog.Event | None = None) -> None:
        super().__init__()
        self._instance = instance
        self.event = event or DEFAULT_EVENT
        self._template_text = ""
        self._unsubscribe: Unsubscribe | None = None

    # -- layout ---------------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="publish-main"):
            with Vertical(id="publish-left"):
                yield Label("Event", classes="field-label")
                yield EventChooser(self.event, id="event-chooser")
                yield Label("Instance", classes="field-label")
                yield Input(self._instance or "", placeholder="instance name", id="instance", compact=True)
            with Vertical(id="publish-right"):
                yield JsonEditor(id="body")
                yield Static(id="body-error")
                yield PublishPreview(id="preview")
                with Horizontal(id="send-row"):
                    yield Button("Send", id="send", variant="primary", compact=True)
                    yield Label(" times ")
                    yield Input("1", id="count", type="integer", compact=True,
                                validators=[Integer(minimum=1, maximum=MAX_BURST)])
                    yield Label(" at ")
                    yield Input("10", id="rate", type="number", compact=True,
                                validators=[Number(minimum=0.1, maximum=MAX_RATE)])
                    yield Label(" msg/s ")
                    # Hidden until a burst runs: an idle bar without a total would animate forever.
                    yield ProgressBar(id="progress", total=1, show_eta=False)
                yield DeliveryLog(id="deliveries")

    def on_mount(self) -> None:
        blink = self.cursor_blink
        for widget in (*self.query(Input), self.query_one(JsonEditor)):
            widget.cursor_blink = blink
        instance_box = self.query_one("#instance", Input)
        if not instance_box.value:
            known = sorted(self.session.registry_entries())
            instance_box.value = known[0] if known else DEFAULT_INSTANCE
        self._suggest()
        self._unsubscribe = listen(self.session, self, RegistryEntryUpdated)
        self._load_template()
        self.query_one("#event-search", Input).focus()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    # -- state -----------------------------------------------------------------------------------------

    @property
    def instance(self) -> str:
        """The instance name as typed."""
        return self.query_one("#instance", Input).value.strip()

    def _suggest(self) -> None:
        names = sorted(self.session.registry_entries())
        self.query_one("#instance", Input).suggester = SuggestFromList(names, case_sensitive=True)

    @on(RegistryEntryUpdated)
    def _refresh_registry_view(self) -> None:
        self._suggest()
        self._preview()

    def _load_template(self) -> None:
        """Fill the editor with the chosen event's realistic data for the instance."""
        now = datetime.fromtimestamp(self.session.clock(), UTC)
        data = template(self.event, self.instance or DEFAULT_INSTANCE, now=now)
        self._template_text = json.dumps(data, indent=2, ensure_ascii=False)
        self.query_one(JsonEditor).load_text(self._template_text)
        self._preview()

    def _preview(self) -> None:
        preview = self.query_one(PublishPreview)
        instance = self.instance
        current = self.session.registry_entry(instance) if instance else None
        where = route(self.session.settings, instance, self.event, current)
        problem = name_problem(instance, self.session.settings.topic_prefix, where)
        if problem is not None:
            preview.problem(problem)
            return
        preview.show(self.event, instance, where, route_for(self.session.settings, instance, self.event, current))

    # -- events ----------------------------------------------------------------------------------------

    @on(EventChooser.Chosen)
    def _event_chosen(self, message: EventChooser.Chosen) -> None:
        self.event = message.event
        self._load_template()
        self.query_one(JsonEditor).focus()

    @on(Input.Changed, "#instance")
    def _instance_changed(self) -> None:
        # An untouched template follows the instance; an edited body is the operator's and stays.
        if self.query_one(JsonEditor).text == self._template_text:
            self._load_template()
        else:
            self._preview()

    @on(Input.Submitted, "#instance")
    def _instance_done(self) -> None:
        self.query_one(JsonEditor).focus()

    @on(JsonEditor.Checked)
    def _checked(self, message: JsonEditor.Checked) -> None:
        error = self.query_one("#body-error", Static)
        if message.problem is None:
            error.update("[dim]✓ valid JSON · ctrl+s sends[/dim]")
            error.remove_class("-invalid")
        else:
            error.update(problem_markup(message.problem))
            error.add_class("-invalid")
        self.query_one("#send", Button).disabled = message.problem is not None

    @on(Button.Pressed, "#send")
    def _send_pressed(self) -> None:
        self.action_send()

    # -- actions ---------------------------------------------------------------------------------------

    def action_reload_template(self) -> None:
        """Replace the body with the chosen event's template."""
        self._load_template()

    def action_goto_problem(self) -> None:
        """Put the cursor where the JSON is wrong."""
        self.query_one(JsonEditor).jump_to_problem()

    def action_focus_event(self) -> None:
        """Search the events."""
        self.query_one("#event-search", Input).focus()

    def action_focus_instance(self) -> None:
        """Type the instance."""
        self.query_one("#instance", Input).focus()

    async def action_cancel_or_back(self) -> None:
        """Stop a running burst; otherwise go back (to the screen it was opened from, or home)."""
        running = [w for w in self.workers if w.group == "publish" and w.is_running]
        if running:
            self.workers.cancel_group(self, "publish")
            return
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        else:
            await self.app.run_action("app.open_area('home')")

    def action_send(self) -> None:
        """Send the body (N times at rate R when N > 1); refused while the body is not valid JSON."""
        editor = self.query_one(JsonEditor)
        log = self.query_one(DeliveryLog)
        if editor.problem is not None:
            log.note(f"not sent: the body is not valid JSON ({editor.problem.describe()})", error=True)
            self.notify("The body is not valid JSON; nothing was sent.", severity="error")
            return
        count_box, rate_box = self.query_one("#count", Input), self.query_one("#rate", Input)
        for box in (count_box, rate_box):
            result = box.validate(box.value)
            if result is not None and not result.is_valid:
                self.notify(f"{box.id}: {'; '.join(result.failure_descriptions)}", severity="error")
                return
        self._send(self.event, self.instance, editor.value, int(count_box.value), float(rate_box.value))

    @work(group="publish", exclusive=True, exit_on_error=False, name="publish")
    async def _send(self, event: catalog.Event, instance: str, data: Any, count: int, rate: float) -> None:
        log = self.query_one(DeliveryLog)
        try:
            if count == 1:
                ticket = await self.session.publish(event, instance, data)
                self._report_route(ticket)
                log.deliveries(await self._settled(ticket, log))
                return
            await self._burst(event, instance, data, count, rate)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.note(f"refused: {exc}", error=True)
            raise

    async def _settled(self, ticket: Sending, log: DeliveryLog) -> list[Delivery]:
        """What became of ``ticket``'s records; meanwhile, when the publisher is not connected, one line that says
        the send is queued and why (the publisher's state, its next try), updated until the outcome replaces it."""
        outcome = asyncio.ensure_future(ticket.wait())
        while True:
            done, _ = await asyncio.wait({outcome}, timeout=WAITING_REFRESH_S)
            if done:
                return outcome.result()
            status = self.session.publisher_status
            if status.state is not PublisherState.CONNECTED:
                log.waiting(f"queued — waiting for the cluster ({status.headline()})")

    def _report_route(self, ticket: Sending) -> None:
        if not ticket.route.targets:
            self.query_one(DeliveryLog).note("nothing sent: " + "; ".join(ticket.route.reasons))

    async def _burst(self, event: catalog.Event, instance: str, data: Any, count: int, rate: float) -> None:
        log = self.query_one(DeliveryLog)
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=count, progress=0)
        bar.display = True
        tally = {"acked": 0, "failed": 0, "messages": 0}
        failures: list[Delivery] = []

        async def settle(ticket: Sending) -> None:
            for delivery in await ticket.wait():
                tally["acked" if delivery.error is None else "failed"] += 1
                if delivery.error is not None and len(failures) < 5:
                    failures.append(delivery)
            tally["messages"] += 1
            bar.advance(1)

        loop = asyncio.get_running_loop()
        started = loop.time()
        settling: list[asyncio.Task[None]] = []
        sent = 0
        try:
            for index in range(count):
                ticket = await self.session.publish(event, instance, data)
                if index == 0:
                    self._report_route(ticket)
                settling.append(asyncio.create_task(settle(ticket)))
                sent += 1
                # Pacing to the asked rate (a schedule, not a wait for a condition).
                delay = started + (index + 1) / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            await asyncio.gather(*settling)
        finally:
            log.deliveries(failures)
            elapsed = max(loop.time() - started, 1e-3)
            log.note(
                f"burst: {sent} of {count} messages handed over in {elapsed:.1f}s "
                f"({sent / elapsed:.0f}/s) · records acked {tally['acked']} · failed {tally['failed']}"
                + ("" if sent == count else " · stopped"),
                error=bool(tally["failed"]),
            )
