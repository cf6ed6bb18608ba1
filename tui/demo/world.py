"""What the demo's traffic remembers while it runs: each instance's WhatsApp account (contacts, groups, labels,
its recent messages, the events it has still to emit) and the dice and clock every scenario shares.

Pure domain module: no I/O, no Textual, no aiokafka.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tui.demo import words
from tui.demo.words import Language

if TYPE_CHECKING:  # the instances are defined with the traffic, which imports this module
    from tui.demo.traffic import DemoInstance

PERSONAL = "@s.whatsapp.net"
GROUP = "@g.us"


@dataclass(slots=True)
class Contact:
    """Someone an account talks to."""

    jid: str
    name: str
    language: Language


@dataclass(slots=True)
class Group:
    """A group an account belongs to (its owner first among the members)."""

    jid: str
    subject: str
    members: list[str]
    admins: set[str]


@dataclass(slots=True)
class Sent:
    """A message of the conversation, kept for later receipts, edits and deletes."""

    remote: str
    message_id: str
    from_me: bool
    text: str
    participant: str | None


@dataclass(slots=True)
class Account:
    """What the generator remembers about one instance's WhatsApp account."""

    instance: DemoInstance
    instance_id: str
    contacts: list[Contact] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    recent: deque[Sent] = field(default_factory=lambda: deque(maxlen=20))
    labels: list[str] = field(default_factory=list)
    connected: bool = False
    paired: bool = False
    queue: deque[tuple[str, Any]] = field(default_factory=deque)
    """``(wire name, data)`` still to emit, in order."""

    def emit(self, wire: str, data: Any) -> None:
        """Queue one event of this account."""
        self.queue.append((wire, data))


class World:
    """The dice and the simulated clock every scenario draws from: one seed fixes every choice."""

    def __init__(self, seed: int, start: float, wall: Callable[[], float] | None = None) -> None:
        self.rng = random.Random(seed)
        self._wall = wall
        self.clock = float(start) if wall is None else wall()
        """Epoch seconds; moves on by a few random seconds per event, or follows ``wall`` (``time.time``)."""

    @property
    def seconds(self) -> int:
        """The clock in whole seconds (``messageTimestamp``)."""
        return int(self.clock)

    @property
    def millis(self) -> int:
        """The clock in milliseconds."""
        return int(self.clock * 1000)

    def tick(self) -> None:
        """Move the clock on, as between two events (following the wall clock, never backwards)."""
        step = self.rng.uniform(0.05, 2.5)  # drawn either way: the same seed makes the same events
        self.clock = self.clock + step if self._wall is None else max(self.clock + 0.001, self._wall())

    # --- ids and times -------------------------------------------------------------------------------

    def hex(self, length: int) -> str:
        """``length`` random upper-case hex digits."""
        return f"{self.rng.getrandbits(length * 4):0{length}X}"

    def uuid(self) -> str:
        """A random version-4 UUID."""
        raw = f"{self.rng.getrandbits(128):032x}"
        return f"{raw[:8]}-{raw[8:12]}-4{raw[13:16]}-a{raw[17:20]}-{raw[20:]}"

    def message_id(self) -> str:
        """A Baileys message id, as the web client makes them (``3EB0…``)."""
        return "3EB0" + self.hex(16)

    def iso(self) -> str:
        """The clock as ISO-8601 with milliseconds and ``Z``."""
        moment = datetime.fromtimestamp(self.clock, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    # --- people --------------------------------------------------------------------------------------

    def language_for(self, account: Account) -> Language:
        """Mostly the instance's own language, now and then the other one."""
        if self.rng.random() < 0.8:
            return account.instance.language
        return Language.EN if account.instance.language is Language.PT else Language.PT

    def new_contact(self, language: Language) -> Contact:
        """A new Brazilian mobile number with a name in ``language``."""
        rng = self.rng
        area = rng.choice(words.AREAS)
        jid = f"55{area}9{rng.randint(0, 99_999_999):08d}{PERSONAL}"
        name = rng.choice(words.PT_NAMES if language is Language.PT else words.EN_NAMES)
        return Contact(jid, name, language)

    def pick_contact(self, account: Account) -> Contact:
        """One of the account's contacts (now and then a new one)."""
        if not account.contacts or self.rng.random() < 0.05:
            account.contacts.append(self.new_contact(self.language_for(account)))
        return self.rng.choice(account.contacts)

    @staticmethod
    def contact_by_jid(account: Account, jid: str) -> Contact | None:
        """The account's contact with ``jid``, if it has one."""
        return next((c for c in account.contacts if c.jid == jid), None)

    def new_group(self, account: Account) -> Group:
        """A new group of the account (owner plus two to four contacts)."""
        rng = self.rng
        jid = f"120363{rng.randint(0, 999_999_999_999):012d}{GROUP}"
        owner = account.instance.owner
        # dict.fromkeys, not a set: a set's order follows string hashing, which changes from run to run.
        picked = dict.fromkeys(self.pick_contact(account).jid for _ in range(rng.randint(2, 4)))
        members = [owner, *picked]
        found = Group(jid, rng.choice(words.GROUP_SUBJECTS[self.language_for(account)]), members, set())
        account.groups.append(found)
        return found
