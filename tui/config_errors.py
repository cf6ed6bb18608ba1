"""One line per invalid setting: the variable, the value (secrets never shown), the problem, what is allowed.

Pure domain module, used by :mod:`tui.config`.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import AliasChoices, ValidationError
from pydantic_settings import BaseSettings


def _variable(model: type[BaseSettings], loc: tuple[int | str, ...]) -> str:
    field = str(loc[0]) if loc else "?"
    if model.__name__ == "KafkaSettings":
        return f"KAFKA_{field.upper()}"
    info = model.model_fields.get(field)
    alias = info.validation_alias if info else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return field.upper()


def _allowed(model: type[BaseSettings], field: str) -> str:
    info = model.model_fields.get(field)
    if info is None:
        return ""
    annotation = info.annotation
    if annotation is bool:
        return "true or false"
    if annotation is int:
        low = next((m.ge for m in info.metadata if hasattr(m, "ge")), None)
        high = next((m.le for m in info.metadata if hasattr(m, "le")), None)
        if low is not None and high is not None:
            return f"an integer >= {low} and <= {high}"
        return f"an integer >= {low}" if low is not None else "an integer"
    if field == "sasl_mechanism":
        return "plain, scram-sha-256, scram-sha-512 (any case)"
    if field == "topic_prefix":
        return "letters, digits, '.', '_', '-'"
    if field == "evolution_api_url":
        return "http(s)://host[:port]"
    if field == "instance_source":
        return "auto, evolution, registry"
    if field == "evolution_api_timeout":
        return "seconds, a number > 0"
    if field == "registry_topic":
        return "letters, digits, '_', '-' (no dots), at most 249"
    return ""


def report(model: type[BaseSettings], error: ValidationError, source: Mapping[str, str]) -> list[str]:
    lines: list[str] = []
    seen: set[str] = set()
    for item in error.errors():
        var = _variable(model, item["loc"])
        if var in seen:
            continue
        seen.add(var)
        field = str(item["loc"][0]) if item["loc"] else ""
        raw = source.get(var, source.get(var.lower(), item.get("input")))
        shown = "***" if "PASSWORD" in var or ("KEY" in var and "API" in var) else repr(raw)
        message = str(item["msg"]).removeprefix("Value error, ")
        allowed = _allowed(model, field)
        tail = f"; allowed: {allowed}" if allowed and "allowed:" not in message else ""
        lines.append(f"{var}={shown}: {message}{tail}")
    return lines
