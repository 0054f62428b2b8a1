"""Everything shuttle prints: tables and key/value views on a terminal, JSON with ``--json``.

Rich decides about colour: none when stdout is not a terminal or ``NO_COLOR`` is set.
With ``--json`` stdout carries only JSON (one document, or one line per event for the live
commands) and errors go to stderr as ``{"error": {"code", "message", "exitCode"}}``.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from loom.errors import LoomError
from loom.shuttle.errors import error_code, exit_code

STATUS_STYLES = {
    "online": "green",
    "completed": "green",
    "healthy": "green",
    "enabled": "green",
    "registered": "green",
    "busy": "yellow",
    "assigned": "yellow",
    "in-progress": "yellow",
    "launched": "yellow",
    "requested": "yellow",
    "pending": "cyan",
    "unknown": "dim",
    "offline": "red",
    "failed": "red",
    "dead-lettered": "red",
    "unhealthy": "red",
    "disabled": "red",
    "timed-out": "red",
    "cancelled": "magenta",
}
# When stdout is a pipe Rich would wrap at 80 columns; a wide virtual width keeps rows whole.
PIPE_WIDTH = 200


def status_text(status: Any) -> Text:
    value = "-" if status is None else str(status)
    return Text(value, style=STATUS_STYLES.get(value, ""))


def ago(timestamp: Any, now: datetime | None = None) -> str:
    """``12s ago`` / ``5m ago`` / ``3h ago`` / ``2d ago`` for an ISO time; ``-`` when absent."""
    if not isinstance(timestamp, str) or not timestamp:
        return "-"
    try:
        then = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return timestamp
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    seconds = int(((now or datetime.now(UTC)) - then).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            amount = f"{seconds // size}{unit}"
            break
    else:
        amount = f"{seconds}s"
    return f"in {amount}" if future else f"{amount} ago"


def seconds(value: Any) -> str:
    """``30`` / ``30.0`` → ``30s``; ``-`` when absent."""
    if not isinstance(value, int | float):
        return "-"
    return f"{value:g}s"


def plain(value: Any) -> str:
    """A cell value: lists comma-joined, objects as compact JSON, nothing as ``-``."""
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


class Output:
    """The printer of one shuttle run."""

    def __init__(self, json_mode: bool = False) -> None:
        self.json_mode = json_mode
        width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else PIPE_WIDTH
        self.console = Console(highlight=False, width=width)
        err_width = None if sys.stderr.isatty() or os.environ.get("COLUMNS") else PIPE_WIDTH
        self.err = Console(stderr=True, highlight=False, width=err_width)

    @property
    def interactive(self) -> bool:
        """True when a person watches a terminal (live displays only then)."""
        return not self.json_mode and self.console.is_terminal

    # -- JSON --------------------------------------------------------------------------------
    def json(self, data: Any) -> None:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def json_line(self, data: Any) -> None:
        sys.stdout.write(json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n")
        sys.stdout.flush()

    # -- human output ------------------------------------------------------------------------
    def table(self, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, empty: str) -> None:
        rows = list(rows)
        if not rows:
            self.console.print(empty, style="dim")
            return
        table = Table(box=box.SIMPLE_HEAD, header_style="bold cyan", pad_edge=False, show_edge=False)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(cell if isinstance(cell, Text) else Text(plain(cell)) for cell in row))
        self.console.print(table)

    def fields(self, pairs: Sequence[tuple[str, Any]], *, title: str | None = None) -> None:
        """Aligned ``key  value`` lines; values that are Rich Text keep their style."""
        if title:
            self.console.print(title, style="bold")
        width = max((len(key) for key, _ in pairs), default=0)
        for key, value in pairs:
            line = Text(f"  {key.ljust(width)}  ", style="cyan")
            line.append(value if isinstance(value, Text) else Text(plain(value)))
            self.console.print(line)

    def success(self, message: str) -> None:
        self.console.print(Text("✓ ", style="green") + Text(message))

    def info(self, message: str) -> None:
        self.console.print(Text(message, style="dim"))

    def warn(self, message: str) -> None:
        self.err.print(Text("! ", style="yellow") + Text(message))

    def error(self, exc: LoomError) -> None:
        code = error_code(exc)
        if self.json_mode:
            body = {"error": {"code": code, "message": exc.message, "exitCode": exit_code(exc)}}
            sys.stderr.write(json.dumps(body) + "\n")
            return
        self.err.print(Text(f"Error [{code}]: ", style="bold red") + Text(exc.message))
