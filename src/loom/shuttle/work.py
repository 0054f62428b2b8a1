"""``submit`` and ``work list|show|cancel``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.text import Text

from loom.errors import InvalidArgument
from loom.shuttle.client import segment
from loom.shuttle.context import agent_type_option, name_option, state
from loom.shuttle.output import Output, ago, status_text
from loom.shuttle.watch import EXIT_INTERRUPTED, follow_item, report_outcome

work_app = typer.Typer(help="List, inspect and cancel work items.", no_args_is_help=True)


class WorkStatus(StrEnum):
    pending = "pending"
    assigned = "assigned"
    in_progress = "in-progress"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"
    dead_lettered = "dead-lettered"


def parse_deadline(value: str | None) -> str | None:
    """An ISO 8601 time (``Z`` or an offset; naive means UTC), normalised to UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(f"{value!r} is not an ISO 8601 time", field="--deadline") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_context(value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        data = json.loads(value)
    except json.JSONDecodeError as exc:
        raise InvalidArgument(f"is not valid JSON ({exc.msg})", field="--context") from None
    if not isinstance(data, dict):
        raise InvalidArgument("must be a JSON object", field="--context")
    return data


def submit(
    ctx: typer.Context,
    description: Annotated[str, typer.Argument(help="what needs doing")],
    capability: Annotated[str, typer.Option("--capability", "-c", help="capability an agent needs")],
    boundary: Annotated[
        str | None, typer.Option("--boundary", "-b", help="boundary the work must stay in")
    ] = None,
    priority: Annotated[
        int | None, typer.Option("--priority", "-p", min=1, max=10, help="1..10, 10 first")
    ] = None,
    deadline: Annotated[str | None, typer.Option("--deadline", help="ISO 8601 time")] = None,
    context: Annotated[str | None, typer.Option("--context", help="JSON object handed to the agent")] = None,
    task_id: Annotated[str | None, typer.Option("--task-id", help="your id for the task")] = None,
    preferred_agent_type: Annotated[
        str | None, typer.Option("--preferred-agent-type", help="agents of this type go first")
    ] = None,
    required_agent_type: Annotated[
        str | None, typer.Option("--required-agent-type", help="only agents and targets of this type")
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", "-w", help="follow the item until it ends")] = False,
) -> None:
    """Submit a work item; Weft routes it to an eligible agent (or spins one up).

    Example: shuttle submit "Fix the flaky login test" --capability python --priority 8 --wait
    """
    st = state(ctx)
    body = {
        "description": description,
        "capability": name_option(capability, "--capability"),
        "boundary": name_option(boundary, "--boundary"),
        "priority": priority,
        "deadline": parse_deadline(deadline),
        "contextData": parse_context(context),
        "taskId": task_id,
        "preferredAgentType": agent_type_option(preferred_agent_type, "--preferred-agent-type"),
        "requiredAgentType": agent_type_option(required_agent_type, "--required-agent-type"),
    }
    if not description.strip():
        raise InvalidArgument("must not be empty", field="DESCRIPTION")
    with st.client() as api:
        created = api.post("/api/work", {k: v for k, v in body.items() if v is not None})
        if not wait:
            if st.out.json_mode:
                st.out.json(created)
            else:
                show_submitted(st.out, created)
            return
        if not st.out.json_mode:
            show_submitted(st.out, created)
        try:
            final = follow_item(api, st.out, str(created["id"]), quiet_json=True)
        except KeyboardInterrupt:
            raise typer.Exit(EXIT_INTERRUPTED) from None
    if st.out.json_mode:
        st.out.json({**created, "item": final})
    else:
        report_outcome(st.out, final)
    raise typer.Exit(outcome_code(final))


def outcome_code(item: dict[str, Any]) -> int:
    return 0 if item.get("status") == "completed" else 1


def show_submitted(out: Output, created: dict[str, Any]) -> None:
    routing = created.get("routing") or {}
    out.success(f"Submitted work {created.get('id')} ({created.get('status')})")
    out.fields(
        [
            ("eligible agents", routing.get("eligibleAgents")),
            ("agent type", routing.get("targetAgentType")),
            ("spin-up", routing.get("spinUpTriggered")),
            ("target", routing.get("target")),
            ("reason", created.get("reason")),
        ]
    )
    out.info(f"Follow it with: shuttle watch {created.get('id')}")


@work_app.command("list")
def list_work(
    ctx: typer.Context,
    status: Annotated[WorkStatus | None, typer.Option("--status", "-s", help="only this status")] = None,
    capability: Annotated[str | None, typer.Option("--capability", "-c")] = None,
    boundary: Annotated[str | None, typer.Option("--boundary", "-b")] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, max=1000)] = None,
    cursor: Annotated[str | None, typer.Option("--cursor", help="nextCursor of the previous page")] = None,
) -> None:
    """List work items, newest first.

    Example: shuttle work list --status pending --capability python
    """
    st = state(ctx)
    with st.client() as api:
        data = api.get(
            "/api/work",
            status=status.value if status else None,
            capability=name_option(capability, "--capability"),
            boundary=name_option(boundary, "--boundary"),
            limit=limit,
            cursor=cursor,
        )
    if st.out.json_mode:
        st.out.json(data)
        return
    rows = [
        (
            item.get("id"),
            status_text(item.get("status")),
            item.get("capability"),
            item.get("boundary"),
            item.get("priority"),
            item.get("attempts"),
            item.get("assignedTo"),
            ago(item.get("offeredAt")),
            _truncate(item.get("description"), 50),
        )
        for item in data.get("items", [])
    ]
    columns = (
        "ID",
        "STATUS",
        "CAPABILITY",
        "BOUNDARY",
        "PRI",
        "TRIES",
        "ASSIGNED TO",
        "OFFERED",
        "DESCRIPTION",
    )
    st.out.table(columns, rows, empty="No work items.")
    if data.get("nextCursor"):
        st.out.info(f"More: shuttle work list --cursor {data['nextCursor']}")


@work_app.command("show")
def show_work(ctx: typer.Context, work_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Show one work item with its result or error.

    Example: shuttle work show 6f1c2b0e-...
    """
    st = state(ctx)
    with st.client() as api:
        item = api.get(f"/api/work/{segment(work_id)}")
    if st.out.json_mode:
        st.out.json(item)
    else:
        show_item(st.out, item)


def show_item(out: Output, item: dict[str, Any]) -> None:
    progress = item.get("progress")
    out.fields(
        [
            ("id", item.get("id")),
            ("task id", item.get("taskId")),
            ("status", status_text(item.get("status"))),
            ("capability", item.get("capability")),
            ("boundary", item.get("boundary")),
            ("priority", item.get("priority")),
            ("assigned to", item.get("assignedTo")),
            ("progress", None if progress is None else f"{progress}%"),
            ("attempts", item.get("attempts")),
            ("offered by", item.get("offeredBy")),
            ("offered", item.get("offeredAt")),
            ("updated", item.get("updatedAt")),
            ("description", item.get("description")),
        ]
    )
    extra = [(key, item.get(key)) for key in ("summary", "result", "error") if item.get(key)]
    if extra:
        out.fields(extra, title="Outcome")


@work_app.command("cancel")
def cancel_work(ctx: typer.Context, work_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Cancel a work item that has not finished.

    Example: shuttle work cancel 6f1c2b0e-...
    """
    st = state(ctx)
    with st.client() as api:
        item = api.post(f"/api/work/{segment(work_id)}/cancel")
    if st.out.json_mode:
        st.out.json(item)
        return
    status = (item or {}).get("status", "cancelled")
    st.out.success(Text.assemble(f"Work {work_id} is now ", status_text(status)).plain)


def _truncate(value: Any, size: int) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= size else text[: size - 1] + "…"


def register(app: typer.Typer) -> None:
    app.command("submit")(submit)
    app.add_typer(work_app, name="work")
