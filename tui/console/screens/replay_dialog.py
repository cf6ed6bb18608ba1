"""The replay dry run and its one confirmation: per partition, from which offset to which, how many records will
be delivered again, and whether the group has active members (a live group is refused, as Kafka requires).

Dismissed with True only when the operator confirms (``y``) a plan that can be carried out, in a console that is
not read-only.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.replay_plan import ReplayPlan
from tui.summaries import one_line


def plan_text(plan: ReplayPlan) -> Text:
    """The dry run: the group and its members, a line per partition, the total."""
    members = (f"{len(plan.members)} active member(s): {', '.join(plan.members[:3])}" if plan.live
               else "no active members")
    text = Text(f"Replay group {one_line(plan.group, 60)} {plan.target.describe()} — dry run", style="bold")
    text.append(f"\nstate {plan.state}, {members}")
    width = max([len(f"{m.topic}[{m.partition}]") for m in plan.moves] + [9])
    text.append(f"\n{'partition':<{width}}  {'from':>9} → {'to':<9} {'again':>7} {'skipped':>7}", style="dim")
    for m in plan.moves:
        start = "-" if m.committed is None else str(m.committed)
        text.append(f"\n{f'{m.topic}[{m.partition}]':<{width}}  {start:>9} → {m.target:<9} {m.again:>7} {m.skipped:>7}",
                    style="" if m.moves else "dim")
    text.append(f"\ntotal: {plan.again:,} records will be delivered again, {plan.skipped:,} skipped", style="bold")
    return text


class ReplayDialog(ModalScreen[bool]):
    """The dry run; ``y`` resets the group, ``escape``/``n`` leaves it where it is."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Reset the group", id="replay-confirm"),
        Binding("escape,n", "cancel", "Cancel", id="replay-cancel"),
    ]

    def __init__(self, plan: ReplayPlan, *, read_only: bool) -> None:
        super().__init__(classes="replay-dialog")
        self.plan = plan
        self.read_only = read_only

    @property
    def refusal(self) -> str | None:
        """Why the reset cannot be done from here, or None."""
        if self.read_only:
            return "refused: the console is read-only (EVOKAFKA_READ_ONLY)"
        return self.plan.refusal

    def compose(self) -> ComposeResult:
        refusal = self.refusal
        question = (Text(refusal, style="bold red") if refusal
                    else Text(f"y: reset group {one_line(self.plan.group, 60)} · escape: cancel", style="bold"))
        with Vertical(id="replay-box"):
            with VerticalScroll(id="replay-plan"):
                yield Static(plan_text(self.plan), markup=False)
            yield Static(question, id="replay-question", markup=False)

    def action_confirm(self) -> None:
        """Reset the group as the dry run says (nothing when refused)."""
        if self.refusal is None:
            self.dismiss(True)
        else:
            self.notify(self.refusal, severity="warning")

    def action_cancel(self) -> None:
        """Leave the group where it is."""
        self.dismiss(False)
