"""How the event publisher watches its connection: a stall within seconds, a probe while idle, losses checked.

Every :data:`WATCH_TICK_S`: requests in flight (or a probe) unanswered for the stall threshold make the state
STALLED at once, whatever ``KAFKA_REQUEST_TIMEOUT`` is; the first answer makes it CONNECTED again. While idle
or stalled, a probe asks the cluster whether it is there; unanswered within the connection timeout, the
connection counts as lost and Evolution's reconnect schedule runs. Partitions suspected of having lost
acknowledged records are read back in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from tui.failures import reason
from tui.kafka.admin import Admin
from tui.kafka.options import ConnectionOptions
from tui.kafka.publish.losses import Loss
from tui.kafka.publish.outbox import Outbox
from tui.listeners import Listeners
from tui.status import PublisherState

log = logging.getLogger("tui.kafka.publish.publisher")

STALL_S = 2.0
"""Requests in flight (or the idle probe) with no answer for this long: the publisher is STALLED, whatever
``KAFKA_REQUEST_TIMEOUT`` is. The reconnect schedule is not shortened: the first answer ends the stall; a probe
not answered within the connection timeout counts the connection as lost."""
WATCH_TICK_S = 0.2


class ConnectionWatch:
    """The connection watch of :class:`~tui.kafka.publish.publisher.EventPublisher` (a mixin)."""

    options: ConnectionOptions
    probes: int
    probe_interval_s: float
    stall_s: float
    _state: PublisherState
    _outbox: Outbox
    _admin: Admin | None
    _lost: asyncio.Event
    _last_error: str | None
    _stalled_since: float
    _verifier: asyncio.Task[int] | None

    _loss_listeners: Listeners[Loss]

    def _emit(self) -> None:
        raise NotImplementedError

    def _set_state(
        self, state: PublisherState, *, delay_ms: int = 0, next_try_at: float | None = None
    ) -> None:
        raise NotImplementedError

    def _changed(self) -> None:
        raise NotImplementedError

    async def _watch_connection(self) -> None:
        """Return when the connection is lost: by failed sends, or by a probe the cluster did not answer.

        Every :data:`WATCH_TICK_S`: requests in flight (or a probe) unanswered for :attr:`stall_s` make the
        state STALLED at once, whatever the request timeout; the first answer makes it CONNECTED again. While
        idle or stalled, a probe asks the cluster whether it is there; unanswered within the connection timeout,
        the connection counts as lost. Without the probe an idle console would show "connected" long after the
        broker went away.
        """
        loop = asyncio.get_running_loop()
        probe: asyncio.Task[None] | None = None
        probe_started = 0.0
        next_probe = loop.time() + self.probe_interval_s
        answer_mark = 0.0
        try:
            while True:
                try:
                    await asyncio.wait_for(self._lost.wait(), timeout=WATCH_TICK_S)
                    return
                except TimeoutError:
                    pass
                now = loop.time()
                stalled = self._state is PublisherState.STALLED
                if probe is not None and probe.done():
                    failure = None if probe.cancelled() else probe.exception()
                    probe = None
                    next_probe = now + self.probe_interval_s
                    if failure is None:
                        self.probes += 1
                        if stalled and self._outbox.stalled_for(now) == 0.0:
                            self._unstall()  # nothing of ours waits any more, and the cluster answers
                            stalled = False
                    elif stalled or not self._outbox.unsettled:
                        # Records in flight settle through their own attempts unless the cluster is silent.
                        self._last_error = f"the cluster stopped answering ({reason(failure)})"
                        return
                waiting = max(self._outbox.stalled_for(now), now - probe_started if probe is not None else 0.0)
                if self._state is PublisherState.CONNECTED and waiting >= self.stall_s:
                    self._stalled_since = now - waiting
                    answer_mark = self._outbox.last_answer
                    log.warning("publisher: stalled: no answer from the cluster for %.1fs", waiting)
                    self._outbox.in_flight_uncertain()
                    self._set_state(PublisherState.STALLED)
                elif stalled:
                    if self._outbox.last_answer != answer_mark:
                        self._unstall()  # a batch was answered
                    elif now - self._stalled_since >= self.stall_s + max(self.options.connect_timeout_s, 1.0):
                        # The cluster may answer the probe through another broker while this producer still
                        # waits on the one it knew: a new connection bootstraps from every broker again.
                        self._last_error = f"no answer to the records sent for {now - self._stalled_since:.1f}s"
                        return
                    else:
                        self._changed()  # the stall's length moves on
                if probe is None and self._admin is not None and (
                    self._state is PublisherState.STALLED or (not self._outbox.unsettled and now >= next_probe)
                ):
                    probe = asyncio.create_task(self._probe(self._admin), name="publisher:probe")
                    probe_started = now
                if self._outbox.losses.suspect and (self._verifier is None or self._verifier.done()):
                    self._verifier = asyncio.create_task(self._verify_suspects(), name="publisher:verify")
        finally:
            if probe is not None:
                probe.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await probe

    def _unstall(self) -> None:
        log.info("publisher: the cluster answers again")
        self._last_error = None
        self._set_state(PublisherState.CONNECTED)
        self._outbox.wake()

    async def _probe(self, admin: Admin) -> None:
        await asyncio.wait_for(admin.cluster(), timeout=max(self.options.connect_timeout_s, 1.0))

    async def _verify_suspects(self) -> int:
        try:
            return await asyncio.wait_for(self._outbox.losses.verify(self.options), timeout=60.0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # checked again on the next tick
            log.info("publisher: cannot read back what was acknowledged yet: %s", reason(exc))
            return 0

    @property
    def losses(self) -> list[Loss]:
        """Every loss by the cluster found so far, oldest first."""
        return list(self._outbox.losses.losses)

    def subscribe_losses(self, callback: Callable[[Loss], None]) -> Callable[[], None]:
        """Call ``callback`` with each :class:`~tui.kafka.publish.losses.Loss` found; returns the unsubscribe."""
        return self._loss_listeners.add(callback)

    def _on_loss(self, loss: Loss) -> None:
        self._loss_listeners.notify(loss)  # an observer's bug is logged and must not stop the publisher
        self._emit()

    async def verify(self, *, timeout: float = 60.0) -> int:
        """Read back every partition written to and count the acknowledged records no longer there as lost.

        Returns the records newly found lost. Raises what the cluster raises when it cannot be read.
        """
        if self._verifier is not None:
            with contextlib.suppress(Exception):
                await self._verifier
        return await asyncio.wait_for(self._outbox.losses.verify(self.options, everything=True), timeout=timeout)
