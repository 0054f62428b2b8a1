"""[activity] wait_for_activity."""

from __future__ import annotations

from pydantic import Field

from loom.mcp.toolkit import Reply, ToolArgs, Toolset
from loom.runtime import Runtime
from loom.services.activity import ActivityService

toolset = Toolset("activity")


class WaitArgs(ToolArgs):
    timeout: float = Field(default=30, ge=0, le=300, description="seconds")


@toolset.tool(
    "wait_for_activity",
    "Wait until something is new for you (DMs, work, channel posts, a shutdown request), or the timeout.",
    WaitArgs,
    read_only=True,
)
async def wait_for_activity(rt: Runtime, args: WaitArgs) -> Reply:
    activity = await rt.service(ActivityService).wait(args.timeout)
    parts = [f"{activity.unread_direct} unread DM(s)"]
    parts += [f"{n} pending {cap}" for cap, n in activity.pending_work.items() if n]
    parts += [f"{n} new in #{name}" for name, n in activity.channels.items() if n]
    if activity.shutdown_requested:
        parts.append("SHUTDOWN REQUESTED: finish up and deregister")
    return Reply("; ".join(parts), activity.to_wire())
