"""The stream pane's pipeline as the bench drives it (subscription, decode, filter, buffer)."""

from __future__ import annotations

import importlib.util
from typing import Any

from tui.kafka.options import ConnectionOptions


def missing_pipeline() -> str | None:
    """Why a pane's pipeline cannot be measured in this build, or None."""
    if importlib.util.find_spec("tui.widgets.stream_pane") is None:
        return "tui/widgets/stream_pane.py (the stream pane) is not in this build"
    return None


class PanePipeline:
    """Placeholder until the pane lands."""

    def __init__(self, options: ConnectionOptions, topic: str, *, prefix: str) -> None:
        self.options, self.topic, self.prefix = options, topic, prefix

    async def start(self) -> None:
        raise NotImplementedError

    async def consume(self, count: int) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        return None

    def details(self) -> dict[str, Any]:
        return {}
