"""[dlq] list_dead_letter_items, retry_dead_letter_item, discard_dead_letter_item."""

from __future__ import annotations

from pydantic import Field

from loom.mcp.args import Capability
from loom.mcp.toolkit import Reply, ToolArgs, Toolset
from loom.runtime import Runtime
from loom.services.dead_letters import DeadLetterQueue

toolset = Toolset("dlq")


class ListArgs(ToolArgs):
    capability: Capability | None = None
    limit: int = Field(default=20, ge=1, le=100)


@toolset.tool(
    "list_dead_letter_items",
    "Work items that ran out of attempts, with their errors.",
    ListArgs,
    read_only=True,
)
async def list_dead_letter_items(rt: Runtime, args: ListArgs) -> Reply:
    letters = await rt.service(DeadLetterQueue).list(args.capability, args.limit)
    items = [d.public() for d in letters]
    lines = [f"- {d.id} [{d.work_item.capability}] {d.reason}" for d in letters]
    return Reply("\n".join(lines) or "The dead-letter queue is empty.", {"items": items})


class ItemArgs(ToolArgs):
    item_id: str = Field(min_length=1, max_length=64)


class RetryArgs(ItemArgs):
    reset_attempts: bool = False


@toolset.tool("retry_dead_letter_item", "Put a dead-lettered item back on its queue.", RetryArgs)
async def retry_dead_letter_item(rt: Runtime, args: RetryArgs) -> Reply:
    record = await rt.service(DeadLetterQueue).retry(args.item_id, args.reset_attempts)
    return Reply(f"{record.id} is pending again.", {"itemId": record.id, "status": "pending"})


@toolset.tool("discard_dead_letter_item", "Drop a dead-lettered item for good.", ItemArgs)
async def discard_dead_letter_item(rt: Runtime, args: ItemArgs) -> Reply:
    await rt.service(DeadLetterQueue).discard(args.item_id)
    return Reply(f"{args.item_id} discarded.", {"itemId": args.item_id, "status": "discarded"})
