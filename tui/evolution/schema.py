"""Evolution API 2.3.6's ``POST /kafka/set`` body check, with the messages its validator gives.

Evolution validates the body against ``eventSchema`` (``src/api/integrations/event/event.schema.ts``): ``kafka`` is
``{"enabled": boolean (required, enum true/false), "events": [string from EventController.events]}``. Its router
turns each failure into the validator's ``stack`` without the leading ``instance.``
(``kafka.enabled is not of a type(s) boolean``) and answers 400 with ``message`` = ``[[…those lines…]]``.

Two bodies make Evolution itself fail with a 500 (a ``TypeError`` in ``EventController.set``): no ``kafka`` at
all, and ``enabled: true`` without ``events``. evokafka refuses both with a 400 of the same shape instead.

Pure domain module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tui.routing import EVOLUTION_ALL_EVENTS

_ENUM = ",".join(EVOLUTION_ALL_EVENTS)


def _type_name(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return None


@dataclass(frozen=True, slots=True)
class SetRequest:
    """A valid ``/kafka/set`` body: the switch and the events exactly as sent."""

    enabled: bool
    events: tuple[str, ...]
    """As sent (repeats and order kept); for "enabled, no events", Evolution's whole list as it stores it."""


class SetBodyError(ValueError):
    """A body Evolution's schema refuses; :attr:`messages` are the validator's lines."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def check_set_body(body: Any) -> SetRequest:
    """Validate ``body`` as Evolution does; :class:`SetBodyError` with its lines when it refuses."""
    errors: list[str] = []
    kafka = body.get("kafka") if isinstance(body, Mapping) else None
    if not isinstance(body, Mapping) or "kafka" not in body:
        raise SetBodyError(['instance requires property "kafka"'])
    if _type_name(kafka) != "object":
        raise SetBodyError(["kafka is not of a type(s) object"])
    assert isinstance(kafka, Mapping)
    enabled = kafka.get("enabled")
    if "enabled" in kafka and not isinstance(enabled, bool):
        errors.append("kafka.enabled is not of a type(s) boolean")
        errors.append("kafka.enabled is not one of enum values: true,false")
    events = kafka.get("events")
    if "events" in kafka:
        if not isinstance(events, list):
            errors.append("kafka.events is not of a type(s) array")
        else:
            for index, item in enumerate(events):
                if not isinstance(item, str):
                    errors.append(f"kafka.events[{index}] is not of a type(s) string")
                if item not in EVOLUTION_ALL_EVENTS:
                    errors.append(f"kafka.events[{index}] is not one of enum values: {_ENUM}")
    if "enabled" not in kafka:
        errors.append('kafka requires property "enabled"')
    if errors:
        raise SetBodyError(errors)
    assert isinstance(enabled, bool)
    if not enabled:
        return SetRequest(False, ())
    if events is None:
        raise SetBodyError(['kafka requires property "events"'])
    sent = tuple(str(e) for e in events)
    return SetRequest(True, sent or EVOLUTION_ALL_EVENTS)
