"""The demo's settings as a ``.env`` file, so a console in a second terminal sees exactly what the demo runs.

``evokafka --brokers <proxy> --env-file <this file>`` then agrees with the demo on everything that shapes the
topics (global layout, partitions, prefix, every ``KAFKA_EVENTS_*``, the registry topic): ``topics diff`` shows
no false differences. Secrets (and SSL material given as PEM text) are left out: a second terminal takes them
from its own environment.

Domain-side: file writing only, no Kafka, no Textual.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tui.config import KafkaSettings
from tui.config_view import describe

SECRET_VARIABLES = frozenset({"KAFKA_SASL_PASSWORD", "KAFKA_SSL_KEY"})
MASKED = "********"


def env_lines(settings: KafkaSettings, registry_topic: str) -> list[str]:
    """``KEY=value`` lines for every setting of the reference (secrets left out) and the registry topic."""
    lines = ["# Written by `evokafka demo`: the settings the demo runs with."]
    for group, values in describe(settings).items():
        lines.append(f"# {group}")
        for name, value in values.items():
            if name in SECRET_VARIABLES or value is None or value in ("", MASKED) or str(value).startswith("PEM "):
                continue  # secrets, and PEM contents shown only described: the second terminal's own env has them
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            lines.append(f"{name}={text}")
    lines.append(f"EVOKAFKA_REGISTRY_TOPIC={registry_topic}")
    return lines


def default_env_path(bootstrap: str) -> Path:
    """Where the demo on ``bootstrap`` writes its file: the temporary folder, named after the (first) port."""
    port = bootstrap.split(",")[0].rpartition(":")[2]
    safe = "".join(c for c in port if c.isalnum())[:20] or "cluster"
    return Path(tempfile.gettempdir()) / f"evokafka-demo-{safe}.env"


def write_env_file(settings: KafkaSettings, registry_topic: str, path: Path) -> Path:
    """Write the file (readable by its owner only) and return its path."""
    text = "\n".join(env_lines(settings, registry_topic)) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    return path
