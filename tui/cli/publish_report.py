"""What ``evokafka publish`` tells about a run: a line per record, state changes as they happen, a summary.

Every record gets a line on stdout, in hand-over order, with its number ``n`` (from 0) and its status:
``acknowledged`` (topic, partition, offset), ``failed`` (error), ``skipped`` (no route, with the rule that
stopped it). A record the cluster loses after acknowledging it gets a second line, ``lost`` (its last line is
its final status). The summary accounts for every one: ``acknowledged + skipped + failed + lost = records``,
and the run exits non-zero unless every record was acknowledged and still held at the end.

On stderr, as they happen: each change of the publisher's state (stalled, reconnecting attempt n/N and the
next try, connected again), each loss by the cluster, and each change of the route.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import click

from tui.kafka.publish.losses import Loss
from tui.records import safe_json
from tui.status import Delivery, PublisherState, PublisherStatus
from tui.topology import Route

MAX_REMEMBERED = 1_000_000
"""Acknowledged records remembered by place, to name the ones lost later (the oldest are forgotten first)."""


def route_line(found: Route) -> str:
    """Where the route goes, and why."""
    return f"{found.where}: {'; '.join(found.reasons)}"


class Report:
    """Prints a run's record lines, narrates on stderr, and counts every record once by its final status."""

    def __init__(self, *, as_json: bool) -> None:
        self.as_json = as_json
        self.acknowledged = 0
        self.failed = 0
        self.lost = 0
        self.skipped: Counter[str] = Counter()
        """Records sent nowhere, by the rule that stopped them."""
        self._where: dict[tuple[str, int, int], tuple[int, str]] = {}
        """(topic, partition, offset) → (n, key) of records printed as acknowledged."""
        self._lost_early: dict[tuple[str, int, int], str] = {}
        """Lost before their acknowledged line was printed: printed lost at once."""
        self._narrated: tuple[PublisherState, int] | None = None
        self._route: tuple[str, tuple[str, ...]] | None = None

    @property
    def records(self) -> int:
        """Records accounted for so far."""
        return self.acknowledged + self.failed + self.lost + sum(self.skipped.values())

    # -- stderr: as it happens -----------------------------------------------------------------------------

    def state(self, status: PublisherStatus) -> None:
        """A publisher status: one line when its state (or reconnect attempt) changed."""
        key = (status.state, status.attempt)
        if key == self._narrated:
            return
        first = self._narrated is None
        self._narrated = key
        if first and status.state is PublisherState.CONNECTED:
            return  # the route line says the run started
        click.echo(f"publisher: {status.headline()}", err=True)

    def route(self, n: int, found: Route) -> None:
        """The route of record ``n``: one line when it differs from the one before."""
        key = (found.where, tuple(t.topic for t in found.targets))
        if self._route is not None and key != self._route:
            click.echo(f"route changed at record {n}: {route_line(found)}", err=True)
        self._route = key

    def loss(self, loss: Loss) -> None:
        """Records the cluster lost: a ``lost`` line for those already printed as acknowledged."""
        click.echo(f"publisher: {loss.describe()}", err=True)
        lines: list[str] = []
        for offset in loss.offsets:
            place = (loss.topic, loss.partition, offset)
            known = self._where.pop(place, None)
            if known is None:
                self._lost_early[place] = loss.reason
                continue
            n, key = known
            self.acknowledged -= 1
            self.lost += 1
            lines.append(self._line(n, "lost", loss.topic, key, loss.partition, offset, loss.reason))
        self._write(lines)

    # -- stdout: a line per record -------------------------------------------------------------------------

    def skip(self, n: int, found: Route) -> None:
        """Record ``n`` goes nowhere."""
        reason = "; ".join(found.reasons) or "no route"
        self.skipped[reason] += 1
        self._write([self._line(n, "skipped", None, None, None, None, reason)])

    def settled(self, n: int, deliveries: list[Delivery]) -> None:
        """Record ``n`` settled (one delivery per target)."""
        lines: list[str] = []
        for d in deliveries:
            if not d.ok or d.partition is None or d.offset is None:
                self.failed += 1
                lines.append(self._line(n, "failed", d.topic, d.key, d.partition, d.offset, d.error))
                continue
            place = (d.topic, d.partition, d.offset)
            early = self._lost_early.pop(place, None)
            if early is not None:
                self.lost += 1
                lines.append(self._line(n, "lost", d.topic, d.key, d.partition, d.offset, early))
                continue
            self.acknowledged += 1
            self._where[place] = (n, d.key)
            if len(self._where) > MAX_REMEMBERED:
                del self._where[next(iter(self._where))]
            lines.append(self._line(n, "acknowledged", d.topic, d.key, d.partition, d.offset, None))
        self._write(lines)

    def _line(
        self, n: int, status: str, topic: str | None, key: str | None, partition: int | None,
        offset: int | None, error: str | None,
    ) -> str:
        if self.as_json:
            return safe_json(
                {
                    "n": n, "status": status, "topic": topic, "partition": partition, "offset": offset,
                    "key": key, "error": error,
                }
            )
        if status == "acknowledged":
            return f"{topic} partition={partition} offset={offset} key={key}"
        if status == "skipped":
            return f"record {n} SKIPPED: nowhere: {error}"
        if status == "lost":
            return f"{topic} LOST partition={partition} offset={offset} key={key} error={error}"
        return f"{topic} FAILED key={key} error={error}"

    @staticmethod
    def _write(lines: list[str]) -> None:
        if lines:
            sys.stdout.write("\n".join(lines) + "\n")

    # -- the summary -----------------------------------------------------------------------------------------

    def summary(self, events: int, status: PublisherStatus, elapsed: float, *, checked: str | None) -> None:
        """The counts, which add up to the records; ``checked`` says why the final read-back could not run."""
        rate = self.acknowledged / elapsed
        records = self.records
        if self.as_json:
            body: dict[str, Any] = {
                "events": events,
                "records": records,
                "sent": status.sent,
                "acknowledged": self.acknowledged,
                "skipped": sum(self.skipped.values()),
                "skipped_reasons": dict(self.skipped),
                "failed": self.failed,
                "lost": self.lost,
                "resent": status.resent,
                "duplicates_seen": status.duplicates_seen,
                "retried": status.retried,
                "checked": checked is None,
                "seconds": round(elapsed, 3),
                "rate": round(rate, 1),
            }
            sys.stdout.write(safe_json({"summary": body}) + "\n")
        sys.stdout.flush()
        click.echo(
            f"sent {status.sent}, acknowledged {self.acknowledged}, failed {self.failed} in {elapsed:.2f}s "
            f"({rate:,.0f} records/s)",
            err=True,
        )
        skipped = sum(self.skipped.values())
        click.echo(
            f"accounted: {records} records = acknowledged {self.acknowledged} + skipped {skipped} (no route) + "
            f"failed {self.failed} + lost by the cluster {self.lost}; resent {status.resent} (may be duplicated)"
            + ("" if status.duplicates_seen is None else f", duplicates read back {status.duplicates_seen}"),
            err=True,
        )
        for reason, count in self.skipped.items():
            click.echo(f"skipped {count}: nowhere: {reason}", err=True)
        if checked is not None:
            click.echo(f"could not read back what was acknowledged to check it is still held: {checked}", err=True)
        click.echo(f"publisher: {status.describe()}", err=True)

    def all_acknowledged(self) -> bool:
        """Whether every record accounted for was acknowledged and is still held."""
        return self.records == self.acknowledged
