"""The reconnect schedule of Evolution API's producer: exponential backoff with a cap and an attempt limit.

The first delay is ``KAFKA_RECONNECT_INITIAL_DELAY_MS``; each further attempt doubles it, up to 2^5 times the
first delay (as Evolution API does); after ``KAFKA_RECONNECT_MAX_ATTEMPTS`` attempts the schedule is
exhausted and the publisher is FAILED until the operator retries.

No I/O: the publisher asks the policy how long to wait, and waits itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tui.config import KafkaSettings

CAP_EXPONENT = 5
"""The delay stops doubling at 2^5 times the first delay."""


@dataclass
class ReconnectPolicy:
    """How long to wait before each reconnect attempt, and when to give up."""

    initial_delay_ms: int
    max_attempts: int
    cap_exponent: int = CAP_EXPONENT
    attempt: int = field(default=0, init=False)
    """Attempts scheduled since the last :meth:`reset` (0: none yet)."""

    def __post_init__(self) -> None:
        if self.initial_delay_ms < 1:
            raise ValueError("initial_delay_ms must be >= 1")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")

    @classmethod
    def from_settings(cls, settings: KafkaSettings) -> ReconnectPolicy:
        """The policy of ``KAFKA_RECONNECT_INITIAL_DELAY_MS`` and ``KAFKA_RECONNECT_MAX_ATTEMPTS``."""
        return cls(settings.reconnect_initial_delay_ms, settings.reconnect_max_attempts)

    @property
    def max_delay_ms(self) -> int:
        """The cap: 2^5 times the first delay."""
        return self.initial_delay_ms * (1 << self.cap_exponent)

    def delay_for(self, attempt: int) -> int:
        """The delay (ms) before attempt ``attempt`` (1-based): first delay doubled per attempt, capped."""
        if attempt < 1:
            raise ValueError("attempts count from 1")
        exponent = min(attempt - 1, self.cap_exponent)
        return self.initial_delay_ms * (1 << exponent)

    def delays(self) -> list[int]:
        """Every delay of a full schedule, in order (what an operator would wait at worst)."""
        return [self.delay_for(n) for n in range(1, self.max_attempts + 1)]

    @property
    def exhausted(self) -> bool:
        """Whether every attempt has been scheduled."""
        return self.attempt >= self.max_attempts

    def next_delay(self) -> int | None:
        """Schedule the next attempt: its delay in ms, or None when the attempts are used up."""
        if self.exhausted:
            return None
        self.attempt += 1
        return self.delay_for(self.attempt)

    def reset(self) -> None:
        """Start over (after a successful connection, or when the operator retries)."""
        self.attempt = 0
