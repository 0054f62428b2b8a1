"""``/api/agents``: the directory, and shutdown requests."""

from __future__ import annotations

from typing import Any

from loom.errors import NotFound
from loom.services.control import ControlService
from loom.services.directory import AgentDirectory, AgentFilter
from loom.weft.api.common import Body, Rt, api_router
from loom.weft.events import EventLog

router = api_router()


@router.get("/agents")
async def list_agents(
    rt: Rt, capability: str | None = None, boundary: str | None = None, status: str | None = None,
    agentType: str | None = None,  # the API's parameter name
) -> dict[str, Any]:  # fmt: skip
    directory = rt.service(AgentDirectory)
    await directory.start()
    where = AgentFilter(capability, boundary, agentType, None, status, include_offline=True)  # type: ignore[arg-type]
    agents = [a.to_wire() for a in directory.find(where)]
    return {"agents": agents, "count": len(agents)}


@router.get("/agents/{guid}")
async def get_agent(rt: Rt, guid: str) -> dict[str, Any]:
    directory = rt.service(AgentDirectory)
    await directory.start()
    record = directory.records.get(guid)
    if record is None:
        raise NotFound(f"no agent {guid}", field="guid")
    return directory.view(record).to_wire()


class ShutdownBody(Body):
    graceful: bool = True


@router.post("/agents/{guid}/shutdown", status_code=202)
async def shutdown_agent(rt: Rt, guid: str, body: ShutdownBody | None = None) -> dict[str, Any]:
    await get_agent(rt, guid)
    graceful = body.graceful if body else True
    await rt.service(ControlService).request_shutdown(guid, graceful, "requested through the API")
    await rt.service(EventLog).publish("agent", {"guid": guid, "shutdownRequested": True})
    return {"guid": guid, "shutdownRequested": True, "graceful": graceful}
