"""[work] broadcast_work_offer, claim_work, report_progress, complete_work, fail_work, get_work_item."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from loom.mcp.args import Boundary, Capability
from loom.mcp.toolkit import Reply, ToolArgs, Toolset
from loom.runtime import Runtime
from loom.services.agent_state import AgentState
from loom.services.work import WorkService, WorkSpec

toolset = Toolset("work")
ItemId = Field(min_length=1, max_length=64)


class OfferArgs(ToolArgs):
    description: str = Field(min_length=1, max_length=65536)
    required_capability: Capability
    task_id: str | None = Field(default=None, max_length=128)
    priority: int = Field(default=5, ge=1, le=10)
    boundary: Boundary | None = None
    deadline: datetime | None = None
    context_data: dict[str, Any] = Field(default_factory=dict)


@toolset.tool("broadcast_work_offer", "Put a work item on the queue of a capability.", OfferArgs)
async def broadcast_work_offer(rt: Runtime, args: OfferArgs) -> Reply:
    state = rt.service(AgentState)
    spec = WorkSpec(
        description=args.description,
        capability=args.required_capability,
        task_id=args.task_id,
        priority=args.priority,
        boundary=args.boundary,
        deadline=args.deadline,
        context_data=args.context_data,
    )
    record = await rt.service(WorkService).offer(spec, state.guid if state.registered else None)
    data = {
        "workItemId": record.id,
        "taskId": record.task_id,
        "capability": record.capability,
        "boundary": record.boundary,
        "priority": record.priority,
        "status": "pending",
    }
    return Reply(f"Offered {record.id} to {record.capability} (priority {record.priority}).", data)


class ClaimArgs(ToolArgs):
    capability: Capability
    timeout: int = Field(default=5000, ge=0, le=30000, description="milliseconds to wait for an item")


@toolset.tool(
    "claim_work",
    "Take the next item for one of your capabilities (a lease: report progress, then complete or fail).",
    ClaimArgs,
)
async def claim_work(rt: Runtime, args: ClaimArgs) -> Reply:
    record = await rt.service(WorkService).claim([args.capability], args.timeout)
    if record is None:
        return Reply(f"No work for {args.capability} right now.", {"workItem": None})
    lease = record.to_wire()["leaseExpiresAt"]
    text = f"Claimed {record.id} (attempt {record.attempts}, lease until {lease}): {record.description}"
    return Reply(text, {"workItem": record.claimed()})


class ProgressArgs(ToolArgs):
    work_item_id: str = ItemId
    progress: int = Field(ge=0, le=100)
    message: str | None = Field(default=None, max_length=4000)


@toolset.tool("report_progress", "Report progress on your claimed item (extends its lease).", ProgressArgs)
async def report_progress(rt: Runtime, args: ProgressArgs) -> Reply:
    record = await rt.service(WorkService).report_progress(args.work_item_id, args.progress, args.message)
    data = {
        "workItemId": record.id,
        "progress": record.progress,
        "leaseExpiresAt": record.to_wire()["leaseExpiresAt"],
    }
    return Reply(f"{record.id}: {record.progress}%.", data)


class CompleteArgs(ToolArgs):
    work_item_id: str = ItemId
    result: dict[str, Any] = Field(default_factory=dict)
    summary: str | None = Field(default=None, max_length=16000)


@toolset.tool("complete_work", "Finish your claimed item with its result (idempotent).", CompleteArgs)
async def complete_work(rt: Runtime, args: CompleteArgs) -> Reply:
    record = await rt.service(WorkService).complete(args.work_item_id, args.result, args.summary)
    return Reply(f"{record.id} completed.", {"workItemId": record.id, "status": "completed"})


class FailArgs(ToolArgs):
    work_item_id: str = ItemId
    error: str = Field(min_length=1, max_length=16000)
    recoverable: bool = True


@toolset.tool("fail_work", "Give up on your claimed item: it is offered again, or dead-lettered.", FailArgs)
async def fail_work(rt: Runtime, args: FailArgs) -> Reply:
    record = await rt.service(WorkService).fail(args.work_item_id, args.error, args.recoverable)
    status = "dead-lettered" if record.status == "dead-lettered" else "pending"
    data = {"workItemId": record.id, "status": status, "attempts": record.attempts}
    return Reply(f"{record.id} is {status} after {record.attempts} attempt(s).", data)


class GetItemArgs(ToolArgs):
    work_item_id: str = ItemId


@toolset.tool(
    "get_work_item", "State, assignee, progress and result of a work item.", GetItemArgs, read_only=True
)
async def get_work_item(rt: Runtime, args: GetItemArgs) -> Reply:
    record = await rt.service(WorkService).get(args.work_item_id)
    return Reply(f"{record.id} is {record.status} ({record.progress}%).", record.public())
