"""``evokafka doctor``: the integration document's troubleshooting list, as checks.

Each check ends ``pass``, ``warn``, ``fail`` or ``skip`` (not applicable), with one line saying what was seen
and, when it is not a pass, one line saying what to do. The checks return structured results
(:class:`CheckResult`, :class:`DoctorReport`) so that the CLI and the console's doctor screen show the same
thing. The whole run is bounded in time: a check still running at the deadline is reported failed.

Every broker of ``KAFKA_BROKERS`` is checked on its own, step by step (name resolution, TCP, TLS, API
versions, SASL), because aiokafka's own bootstrap tries them in turn and only logs why each one failed.
Nothing here writes to the cluster: the registry is read read-only, idempotence is probed with a bare
``InitProducerId`` request, lag with :mod:`tui.kafka.lag` (a consumer's ``committed()``; the admin call fails to decode on Tansu).

The checks live in sibling modules: :mod:`tui.kafka.doctor.results` (what a check reports),
:mod:`tui.kafka.doctor.probe` (connecting to one broker), :mod:`tui.kafka.doctor.certificates`,
:mod:`tui.kafka.doctor.broker` (per broker), :mod:`tui.kafka.doctor.settings` (no network) and
:mod:`tui.kafka.doctor.cluster`; this module runs them all, and re-exports their public names.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from tui.config import KafkaSettings
from tui.diagnosis import CheckResult, DoctorReport, ResultSink, Status
from tui.kafka.admin import Admin
from tui.kafka.doctor.broker import check_broker
from tui.kafka.doctor.cluster import (
    InstancesSource,
    RegistryReading,
    check_idempotence,
    check_instances,
    check_lag,
    check_planned_topics,
    check_skipped,
    registry_source,
)
from tui.kafka.doctor.results import failed_check
from tui.kafka.doctor.settings import check_files, check_settings
from tui.kafka.errors import diagnose
from tui.kafka.options import ClusterUnreachableError, ConnectionOptions, ConnectionSetupError


@dataclass
class Doctor:
    """Runs every check within ``budget_s`` seconds; ``sink`` sees each result as soon as it is known."""

    settings: KafkaSettings
    options: ConnectionOptions | None = None
    registry_topic: str = "__evokafka_instances"
    budget_s: float | None = None
    sink: ResultSink | None = None
    instances: InstancesSource | None = None
    _results: list[CheckResult] = field(default_factory=list)

    def _add(self, *results: CheckResult) -> None:
        for result in results:
            self._results.append(result)
            if self.sink is not None:
                self.sink(result)

    def default_budget(self) -> float:
        """Connection timeout and request timeout per step, a few steps, and never less than 10 s."""
        s = self.settings
        return max(10.0, 4 * s.connection_timeout / 1000 + 2 * min(s.request_timeout / 1000, 15.0))

    async def run(self) -> DoctorReport:
        """Run the checks; the report is complete even when the deadline cut some short."""
        started = time.monotonic()
        budget = self.budget_s if self.budget_s is not None else self.default_budget()
        self._add(*check_settings(self.settings))
        self._add(*check_files(self.settings))
        if self.options is None:
            try:
                self.options = ConnectionOptions.from_settings(self.settings)
            except ConnectionSetupError as exc:
                self._add(CheckResult("connection.options", Status.FAIL, str(exc), "fix the KAFKA_SSL_* files"))
                return DoctorReport(tuple(self._results), time.monotonic() - started)
        try:
            await asyncio.wait_for(self._network(self.options), timeout=budget)
        except TimeoutError:
            self._add(
                CheckResult(
                    "doctor.deadline", Status.FAIL, f"checks still running after {budget:.0f} s were stopped",
                    "the cluster answers slowly: raise KAFKA_REQUEST_TIMEOUT or check the network",
                )
            )
        return DoctorReport(tuple(self._results), time.monotonic() - started)

    async def _network(self, options: ConnectionOptions) -> None:
        per_broker = await asyncio.gather(
            *(check_broker(self.settings, options, b) for b in self.settings.brokers), return_exceptions=True
        )
        for broker, found in zip(self.settings.brokers, per_broker, strict=True):
            if isinstance(found, BaseException):
                self._add(failed_check("broker", found, broker))
            else:
                self._add(*found)
        try:
            admin = await Admin(options).start()
        except ClusterUnreachableError as exc:
            self._add(
                CheckResult(
                    "cluster.metadata", Status.FAIL, diagnose(exc).summary, "fix the broker checks above first"
                )
            )
            return
        try:
            info = await admin.cluster()
            existing = await admin.topics()
        except Exception as exc:
            self._add(failed_check("cluster.metadata", exc, None))
            await admin.close()
            return
        await admin.close()
        self._add(
            CheckResult(
                "cluster.metadata", Status.PASS,
                f"cluster {info.cluster_id or '?'}: {len(info.brokers)} broker(s), {len(existing)} topics",
            )
        )
        source = self.instances or registry_source(self.settings, options, self.registry_topic)
        instances = await source()
        self._add(
            *check_instances(instances, f" ({self.registry_topic})", topic_exists=self.registry_topic in existing)
        )
        if isinstance(source, RegistryReading):
            self._add(*check_skipped(source.skipped, self.registry_topic))
        self._add(*check_planned_topics(self.settings, instances or {}, existing))
        try:
            self._add(await check_lag(self.settings, options, existing))
        except Exception as exc:
            self._add(failed_check("consumer.lag", exc, self.settings.consumer_group_id))
        self._add(await check_idempotence(options))


async def run_doctor(
    settings: KafkaSettings,
    *,
    options: ConnectionOptions | None = None,
    registry_topic: str = "__evokafka_instances",
    budget_s: float | None = None,
    sink: ResultSink | None = None,
    instances: InstancesSource | None = None,
) -> DoctorReport:
    """Run every check once (see :class:`Doctor`)."""
    doctor = Doctor(settings, options, registry_topic, budget_s, sink, instances)
    return await doctor.run()
