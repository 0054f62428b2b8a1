"""[identity] set_handle, get_my_handle."""

from __future__ import annotations

from loom.mcp.args import Handle
from loom.mcp.toolkit import NoArgs, Reply, ToolArgs, Toolset
from loom.runtime import Runtime
from loom.services.agent_state import AgentState
from loom.services.registry import RegistryService

toolset = Toolset("identity")


class SetHandleArgs(ToolArgs):
    handle: Handle


@toolset.tool("set_handle", "Choose your handle (lower-case letters, digits, - and _).", SetHandleArgs)
async def set_handle(rt: Runtime, args: SetHandleArgs) -> Reply:
    state = rt.service(AgentState)
    state.handle = args.handle
    if state.record is not None:  # keep the registry in step with the session
        await rt.service(RegistryService).update(
            state.guid, lambda record: record.model_copy(update={"handle": args.handle})
        )
    return Reply(f"Handle set to {args.handle}.", {"handle": args.handle})


@toolset.tool(
    "get_my_handle", "Your handle and guid (guid is null until you register).", NoArgs, read_only=True
)
async def get_my_handle(rt: Runtime, args: NoArgs) -> Reply:
    state = rt.service(AgentState)
    handle = state.handle or (state.record.handle if state.record else None)
    guid = state.guid if state.registered else None
    text = f"Handle: {handle or '(none)'}; guid: {guid or '(not registered)'}"
    return Reply(text, {"handle": handle, "guid": guid})
