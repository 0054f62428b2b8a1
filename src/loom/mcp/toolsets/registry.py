"""[registry] register_agent, discover_agents, get_agent_info, update_presence, deregister_agent."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from loom.mcp.args import Boundary, Capability, Handle
from loom.mcp.toolkit import NoArgs, Reply, ToolArgs, Toolset
from loom.models.agent import AgentRecord, AgentStatus, AgentView, Scope, Visibility
from loom.runtime import Runtime
from loom.services.directory import AgentFilter
from loom.services.registry import Registration, RegistryService

toolset = Toolset("registry")


AGENT_KEYS = tuple(
    "guid handle agentType capabilities boundaries status currentTaskCount lastHeartbeat hostname".split()
)


def agent_data(view: AgentView) -> dict[str, Any]:
    wire = view.to_wire()
    return {k: wire[k] for k in AGENT_KEYS}


def found_line(view: AgentView) -> str:
    return f"- {view.handle} ({view.agent_type}) {view.status} [{', '.join(view.capabilities)}] {view.guid}"


def discovered(view: AgentView) -> tuple[dict[str, Any], str]:
    return agent_data(view), found_line(view)


def registered_data(record: AgentRecord) -> dict[str, Any]:
    wire = record.to_wire()
    keys = "guid handle agentType capabilities boundaries hostname projectId status".split()
    return {k: wire[k] for k in keys}


class RegisterArgs(ToolArgs):
    agent_type: str = Field(min_length=1, max_length=64)
    capabilities: list[Capability] = Field(default_factory=list, max_length=64)
    boundaries: list[Boundary] = Field(default_factory=list, max_length=64)
    handle: Handle | None = None
    scope: Scope = "project"
    visibility: Visibility = "project-only"
    max_concurrent_tasks: int = Field(default=1, ge=1, le=100)
    metadata: dict[str, Any] = Field(default_factory=dict)


@toolset.tool(
    "register_agent",
    "Register this session as an agent with capabilities and boundaries; call again to update.",
    RegisterArgs,
)
async def register_agent(rt: Runtime, args: RegisterArgs) -> Reply:
    record = await rt.service(RegistryService).register(Registration(**args.model_dump()))
    caps = ", ".join(record.capabilities) or "none"
    return Reply(
        f"Registered {record.handle} ({record.guid}); capabilities: {caps}.", registered_data(record)
    )


class DiscoverArgs(ToolArgs):
    capability: Capability | None = None
    boundary: Boundary | None = None
    agent_type: str | None = None
    hostname: str | None = None
    status: AgentStatus | None = None
    include_offline: bool = False


@toolset.tool(
    "discover_agents",
    "Find agents by capability, boundary, type, host or status.",
    DiscoverArgs,
    read_only=True,
)
async def discover_agents(rt: Runtime, args: DiscoverArgs) -> Reply:
    registry = rt.service(RegistryService)
    found = await registry.discover(AgentFilter(**args.model_dump()))
    # Each agent's reply entry is derived once per change of the agent, not once per call.
    shown = [registry.directory.derived(view, "discover_agents", discovered) for view in found]
    text = f"Found {len(found)} agent(s)" + (":\n" + "\n".join(line for _, line in shown) if shown else ".")
    return Reply(text, {"agents": [data for data, _ in shown]})


class GuidArgs(ToolArgs):
    guid: str = Field(min_length=1, max_length=64)


@toolset.tool("get_agent_info", "Details of one agent by guid.", GuidArgs, read_only=True)
async def get_agent_info(rt: Runtime, args: GuidArgs) -> Reply:
    view = await rt.service(RegistryService).info(args.guid)
    return Reply(f"{view.handle} ({view.agent_type}) is {view.status}.", agent_data(view))


class PresenceArgs(ToolArgs):
    status: AgentStatus | None = None
    current_task_count: int | None = Field(default=None, ge=0, le=10_000)
    capabilities: list[Capability] | None = None
    boundaries: list[Boundary] | None = None


@toolset.tool("update_presence", "Update your status, task count, capabilities or boundaries.", PresenceArgs)
async def update_presence(rt: Runtime, args: PresenceArgs) -> Reply:
    registry = rt.service(RegistryService)
    record = await registry.update_presence(
        args.status, args.current_task_count, args.capabilities, args.boundaries
    )
    return Reply(f"Presence updated: {record.status}.", agent_data(registry.directory.view(record)))


@toolset.tool("deregister_agent", "Go offline now (also happens when the session ends).", NoArgs)
async def deregister_agent(rt: Runtime, args: NoArgs) -> Reply:
    record = await rt.service(RegistryService).deregister()
    return Reply(f"{record.handle} is offline.", {"guid": record.guid, "status": "offline"})
