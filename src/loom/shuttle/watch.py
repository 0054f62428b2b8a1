"""``watch``: follow one work item, or the fleet, live through Weft's event stream.

Events are triggers, the API is the truth: when an event mentions the item, shuttle reads
the item again, so it never depends on the exact shape of an event. A dropped stream is
reopened with ``Last-Event-ID`` and the item re-read, so nothing between is missed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn
from rich.text import Text

from loom.shuttle.client import WeftClient, segment
from loom.shuttle.context import state
from loom.shuttle.errors import WeftError
from loom.shuttle.output import Output, plain, status_text
from loom.shuttle.sse import Event

EXIT_INTERRUPTED = 130  # the shell's code for SIGINT: the outcome is unknown
# "failed" is not here: a failed attempt goes back to pending or on to the DLQ.
TERMINAL = frozenset({"completed", "cancelled", "dead-lettered"})
# A stream that closes at once, again and again, means something is wrong, not quiet.
MAX_QUICK_DROPS = 5
QUICK_DROP_SECONDS = 1.0


class ItemDisplay:
    """Shows an item's status changes: a progress bar on a terminal, lines otherwise."""

    def __init__(self, out: Output, item_id: str, *, emit_json: bool) -> None:
        self.out = out
        self.item_id = item_id
        self.emit_json = emit_json
        self.last: tuple[Any, Any] | None = None
        self.progress: Progress | None = None
        self.task: TaskID | None = None

    def __enter__(self) -> ItemDisplay:
        if self.out.interactive:
            self.progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                console=self.out.console,
            )
            self.progress.start()
            self.task = self.progress.add_task(f"work {self.item_id}", total=100)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def update(self, item: dict[str, Any]) -> None:
        state = (item.get("status"), item.get("progress"))
        if state == self.last:
            return
        self.last = state
        status, progress = state
        if self.emit_json:
            self.out.json_line(item)
        elif self.out.json_mode:
            return
        elif self.progress is not None and self.task is not None:
            done = 100 if status == "completed" else progress or 0
            label = Text.assemble(f"{self.item_id}  ", status_text(status))
            self.progress.update(self.task, completed=done, description=label.markup)
        else:
            line = Text(datetime.now().strftime("%H:%M:%S  "), style="dim")
            line.append(status_text(status))
            if progress is not None:
                line.append(f"  {progress}%")
            if item.get("assignedTo"):
                line.append(f"  {item['assignedTo']}", style="dim")
            self.out.console.print(line)


def follow_item(api: WeftClient, out: Output, item_id: str, *, quiet_json: bool = False) -> dict[str, Any]:
    """Follow the item until it reaches a terminal status; return its final state."""
    path = f"/api/work/{segment(item_id)}"
    with ItemDisplay(out, item_id, emit_json=out.json_mode and not quiet_json) as display:
        for events in _streams(api):
            # Read after the stream is connected: a change before now is in the item,
            # a change after now arrives as an event.
            item: dict[str, Any] = api.get(path)
            display.update(item)
            if item.get("status") in TERMINAL:
                return item
            for event in events:
                if item_id in event.data:
                    item = api.get(path)
                    display.update(item)
                    if item.get("status") in TERMINAL:
                        return item
    raise AssertionError("unreachable: _streams never ends")  # pragma: no cover


def _streams(api: WeftClient) -> Iterator[Iterator[Event]]:
    """Connected event streams, one after the other, resuming from the last event id."""
    last_id: str | None = None
    quick_drops = 0
    while True:
        opened = time.monotonic()
        seen = False
        with api.events(last_id) as events:

            def tracked(stream: Iterator[Event] = events) -> Iterator[Event]:
                nonlocal last_id, seen
                for event in stream:
                    last_id, seen = event.id or last_id, True
                    yield event

            yield tracked()
        quick = not seen and time.monotonic() - opened < QUICK_DROP_SECONDS
        quick_drops = quick_drops + 1 if quick else 0
        if quick_drops >= MAX_QUICK_DROPS:
            raise WeftError("Weft keeps closing the event stream", status=0, remote_code="STREAM_CLOSED")
        if quick:
            time.sleep(0.2 * quick_drops)  # back off before reopening a stream that just closed


def event_kind(event: Event, data: Any) -> str:
    if event.event != "message":
        return event.event
    if isinstance(data, dict):
        return str(data.get("type") or data.get("kind") or "message")
    return "message"


SUMMARY_KEYS = ("id", "workItemId", "status", "capability", "boundary", "handle", "guid", "name", "target")


def summarise(data: Any) -> str:
    """A one-line gist of an event's payload (the full payload is in ``--json``)."""
    if not isinstance(data, dict):
        return plain(data)
    inner = data.get("data")
    source: dict[str, Any] = inner if isinstance(inner, dict) else data
    parts = [f"{key}={plain(source[key])}" for key in SUMMARY_KEYS if source.get(key) not in (None, "", [])]
    return "  ".join(parts) or plain(source)


def follow_fleet(api: WeftClient, out: Output) -> None:
    for events in _streams(api):
        for event in events:
            data = event.json()
            if out.json_mode:
                out.json_line({"id": event.id, "event": event.event, "data": data})
                continue
            line = Text(datetime.now().strftime("%H:%M:%S  "), style="dim")
            line.append(f"{event_kind(event, data):<18}", style="bold")
            line.append(f"  {summarise(data)}")
            out.console.print(line)


def watch(
    ctx: typer.Context,
    work_id: Annotated[str | None, typer.Argument(metavar="[WORK_ID]", help="the item to follow")] = None,
) -> None:
    """Follow a work item live until it ends, or (without WORK_ID) the fleet's events.

    With WORK_ID the exit code is the outcome: 0 completed, 1 dead-lettered (failed for good) or
    cancelled; a failed attempt that will be retried keeps the watch going.
    Without it, events print until Ctrl-C.

    Example: shuttle watch 6f1c2b0e-...   |   shuttle watch --json
    """
    st = state(ctx)
    with st.client() as api:
        if work_id is None:
            with _until_interrupted():
                follow_fleet(api, st.out)
            return
        try:
            item = follow_item(api, st.out, work_id)
        except KeyboardInterrupt:
            raise typer.Exit(EXIT_INTERRUPTED) from None
    if not st.out.json_mode:
        report_outcome(st.out, item)
    raise typer.Exit(0 if item.get("status") == "completed" else 1)


def report_outcome(out: Output, item: dict[str, Any]) -> None:
    status = item.get("status")
    if status == "completed":
        out.success(f"Work {item.get('id')} completed")
        if item.get("summary"):
            out.fields([("summary", item["summary"])])
        return
    out.err.print(Text.assemble(f"Work {item.get('id')} ended ", status_text(status)))
    error = item.get("error")
    if error:
        out.err.print(Text(f"  {plain(error)}", style="red"))


@contextmanager
def _until_interrupted() -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        return


def register(app: typer.Typer) -> None:
    app.command("watch")(watch)
