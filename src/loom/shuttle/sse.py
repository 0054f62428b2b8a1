"""A Server-Sent Events parser over an iterator of lines (the WHATWG event-stream format)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    """One dispatched event: ``event`` defaults to ``message``; ``id`` is the last id seen."""

    event: str
    data: str
    id: str | None = None

    def json(self) -> Any:
        """The data parsed as JSON, or the raw text when it is not JSON."""
        try:
            return json.loads(self.data)
        except ValueError:
            return self.data


def parse(lines: Iterable[str]) -> Iterator[Event]:
    """Yield events as their terminating blank line arrives; comments (``:ping``) are skipped."""
    name = ""
    data: list[str] = []
    last_id: str | None = None
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield Event(name or "message", "\n".join(data), last_id)
            name, data = "", []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
        elif field == "id" and "\0" not in value:
            last_id = value
