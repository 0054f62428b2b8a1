"""The ``/api`` routes: thin adapters over the services."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from loom.errors import Conflict, InvalidArgument, NotFound
from loom.models.target import SpinUp, Target
from loom.models.work import WorkRecord
from loom.names import validate_name
from loom.runtime import Runtime
from loom.services.channels import ChannelService
from loom.services.control import ControlService
from loom.services.directory import AgentDirectory, AgentFilter
from loom.services.work import WorkService, WorkSpec
from loom.weft.deps import check_token, project_runtime
from loom.weft.events import EventLog
from loom.weft.routing import Need, eligible_agents, eligible_targets
from loom.weft.spinup.manager import SpinUpManager, check_health
from loom.weft.targets import TargetRegistry

router = APIRouter(prefix="/api", dependencies=[Depends(check_token)])
Rt = Annotated[Runtime, Depends(project_runtime)]


class Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


# -- agents ---------------------------------------------------------------------------------
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


# -- work -----------------------------------------------------------------------------------
class SubmitBody(Body):
    description: str = Field(min_length=1, max_length=65536)
    capability: str
    boundary: str | None = None
    priority: int = Field(default=5, ge=1, le=10)
    task_id: str | None = Field(default=None, max_length=128)
    deadline: datetime | None = None
    context_data: dict[str, Any] = Field(default_factory=dict)
    preferred_agent_type: str | None = None
    required_agent_type: str | None = None


@router.post("/work", status_code=201)
async def submit_work(rt: Rt, body: SubmitBody, request: Request) -> dict[str, Any]:
    need = Need(
        validate_name(body.capability, "capability"),
        validate_name(body.boundary, "boundary") if body.boundary else None,
        body.required_agent_type,
        body.preferred_agent_type,
    )
    spec = WorkSpec(
        description=body.description, capability=need.capability, task_id=body.task_id,
        priority=body.priority,
        boundary=need.boundary, deadline=body.deadline, context_data=body.context_data,
        preferred_agent_type=body.preferred_agent_type, required_agent_type=body.required_agent_type,
    )  # fmt: skip
    record = await rt.service(WorkService).offer(spec, "weft")
    request.app.state.metrics.submitted.labels(rt.settings.project_id).inc()
    directory = rt.service(AgentDirectory)
    await directory.start()
    agents = eligible_agents(directory.find(AgentFilter()), need)
    routing: dict[str, Any] = {
        "eligibleAgents": [a.guid for a in agents],
        "targetAgentType": agents[0].agent_type if agents else None,
        "spinUpTriggered": False,
        "target": None,
    }
    reason = f"{len(agents)} eligible agent(s) online; queued for {need.capability}"
    if not agents:
        routing, reason = await _spin_up_for(rt, need, record, routing)
    await rt.service(EventLog).publish("work", record.public())
    return {"id": record.id, "status": record.status, "routing": routing, "reason": reason}


async def _spin_up_for(
    rt: Runtime, need: Need, record: WorkRecord, routing: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    targets = eligible_targets(await rt.service(TargetRegistry).list(), need)
    if not targets:
        return routing, "no eligible agent online and no eligible target: the item waits in its queue"
    launched, errors = await _launch_first(rt, targets, need, record.id)
    if launched is None:
        return routing, "no eligible agent online; no target could launch now (" + "; ".join(errors) + ")"
    target, spun = launched
    routing |= {
        "spinUpTriggered": spun.state != "failed",
        "target": target.name,
        "targetAgentType": target.agent_type,
    }
    return routing, f"no eligible agent online; spin-up on {target.name}: {spun.state}"


async def _launch_first(
    rt: Runtime, targets: list[Target], need: Need, work_id: str | None
) -> tuple[tuple[Target, SpinUp] | None, list[str]]:
    """Launch on the first target (in routing order) that has a free slot now."""
    manager = rt.service(SpinUpManager)
    errors = []
    for target in targets:
        try:
            spun = await manager.spin_up(target, work_id, need.capability, need.boundary)
        except Exception as exc:  # at its limit or cooling down: try the next target
            errors.append(f"{target.name}: {exc}")
            continue
        return (target, spun), errors
    return None, errors


def _cursor(value: str | None) -> int:
    if not value:
        return 0
    try:
        return int(base64.urlsafe_b64decode(value.encode()).decode())
    except ValueError:
        raise InvalidArgument("is not a cursor this API gave out", field="cursor") from None


@router.get("/work")
async def list_work(
    rt: Rt, status: str | None = None, capability: str | None = None, boundary: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50, cursor: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    items = [
        r for r in await rt.service(WorkService).all()
        if (status is None or r.status == status) and (capability is None or r.capability == capability)
        and (boundary is None or r.boundary == boundary)
    ]  # fmt: skip
    start = _cursor(cursor)
    page = items[start : start + limit]
    more = start + limit < len(items)
    next_cursor = base64.urlsafe_b64encode(str(start + limit).encode()).decode() if more else None
    return {"items": [r.public() for r in page], "count": len(page), "nextCursor": next_cursor}


@router.get("/work/{work_id}")
async def get_work(rt: Rt, work_id: str) -> dict[str, Any]:
    return (await rt.service(WorkService).get(work_id)).public()


@router.post("/work/{work_id}/cancel")
async def cancel_work(rt: Rt, work_id: str) -> dict[str, Any]:
    record = await rt.service(WorkService).cancel(work_id)
    await rt.service(EventLog).publish("work", record.public())
    return record.public()


# -- dead-letter queue ----------------------------------------------------------------------
@router.get("/dlq")
async def list_dlq(
    rt: Rt, capability: str | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 50
) -> dict[str, Any]:
    letters = await rt.service(WorkService).dead_letters(capability, limit)
    items = [d.public() for d in letters]
    return {"items": items, "count": len(items)}


class RetryBody(Body):
    reset_attempts: bool = False


@router.post("/dlq/{item_id}/retry")
async def retry_dlq(rt: Rt, item_id: str, body: RetryBody | None = None) -> dict[str, Any]:
    record = await rt.service(WorkService).retry(item_id, body.reset_attempts if body else False)
    return {"itemId": record.id, "status": "pending"}


@router.delete("/dlq/{item_id}")
async def discard_dlq(rt: Rt, item_id: str) -> dict[str, Any]:
    await rt.service(WorkService).discard(item_id)
    return {"itemId": item_id, "status": "discarded"}


# -- targets --------------------------------------------------------------------------------
@router.get("/targets")
async def list_targets(
    rt: Rt, capability: str | None = None, boundary: str | None = None, mechanism: str | None = None,
    enabled: bool | None = None,
) -> dict[str, Any]:  # fmt: skip
    targets = [
        t for t in await rt.service(TargetRegistry).list()
        if (capability is None or capability in t.capabilities)
        and (boundary is None or boundary in t.boundaries)
        and (mechanism is None or t.mechanism == mechanism) and (enabled is None or t.enabled == enabled)
    ]  # fmt: skip
    return {"targets": [t.public() for t in targets], "count": len(targets)}


@router.post("/targets", status_code=201)
async def create_target(rt: Rt, body: dict[str, Any]) -> dict[str, Any]:
    target = await rt.service(TargetRegistry).create(body)
    await rt.service(EventLog).publish("target", target.public())
    return target.public()


@router.get("/targets/{id_or_name}")
async def get_target(rt: Rt, id_or_name: str) -> dict[str, Any]:
    return (await rt.service(TargetRegistry).get(id_or_name)).public()


@router.put("/targets/{id_or_name}")
async def update_target(rt: Rt, id_or_name: str, body: dict[str, Any]) -> dict[str, Any]:
    target = await rt.service(TargetRegistry).update(id_or_name, body)
    await rt.service(EventLog).publish("target", target.public())
    return target.public()


@router.delete("/targets/{id_or_name}", status_code=204)
async def delete_target(rt: Rt, id_or_name: str) -> Response:
    await rt.service(TargetRegistry).delete(id_or_name)
    return Response(status_code=204)


@router.post("/targets/{id_or_name}/test")
async def test_target(rt: Rt, id_or_name: str) -> dict[str, Any]:
    target = await check_health(rt, await rt.service(TargetRegistry).get(id_or_name))
    return target.public()


@router.post("/targets/{id_or_name}/enable")
async def enable_target(rt: Rt, id_or_name: str) -> dict[str, Any]:
    registry = rt.service(TargetRegistry)
    return (await registry.change((await registry.get(id_or_name)).id, enabled=True)).public()


@router.post("/targets/{id_or_name}/disable")
async def disable_target(rt: Rt, id_or_name: str) -> dict[str, Any]:
    registry = rt.service(TargetRegistry)
    return (await registry.change((await registry.get(id_or_name)).id, enabled=False)).public()


@router.post("/targets/{id_or_name}/spin-up")
async def spin_up_target(rt: Rt, id_or_name: str, request: Request) -> dict[str, Any]:
    target = await rt.service(TargetRegistry).get(id_or_name)
    record = await rt.service(SpinUpManager).spin_up(target)
    request.app.state.metrics.spin_ups.labels(rt.settings.project_id, record.state).inc()
    return _spin_up_view(record)


class SpinUpBody(Body):
    capability: str
    boundary: str | None = None


@router.post("/spin-up")
async def spin_up_by_capability(rt: Rt, body: SpinUpBody, request: Request) -> dict[str, Any]:
    """Launch an agent on the target Weft would pick for work of this capability and boundary."""
    need = Need(
        validate_name(body.capability, "capability"),
        validate_name(body.boundary, "boundary") if body.boundary else None,
    )
    targets = eligible_targets(await rt.service(TargetRegistry).list(), need)
    if not targets:
        where = f" in boundary {need.boundary}" if need.boundary else ""
        raise NotFound(f"no enabled, healthy target offers {need.capability}{where}", field="capability")
    launched, errors = await _launch_first(rt, targets, need, None)
    if launched is None:
        raise Conflict("no target could launch now (" + "; ".join(errors) + ")", field="target")
    _, record = launched
    request.app.state.metrics.spin_ups.labels(rt.settings.project_id, record.state).inc()
    return _spin_up_view(record)


def _spin_up_view(record: SpinUp) -> dict[str, Any]:
    return record.to_wire() | {
        "status": record.state,
        "error": record.detail if record.state == "failed" else None,
    }


# -- channels -------------------------------------------------------------------------------
@router.get("/channels")
async def list_channels(rt: Rt) -> dict[str, Any]:
    channels = await rt.service(ChannelService).list()
    return {
        "channels": [
            {"name": c.name, "description": c.description, "messageCount": c.message_count} for c in channels
        ]
    }


@router.get("/channels/{name}/messages")
async def read_channel(
    rt: Rt, name: str, limit: Annotated[int, Query(ge=1, le=1000)] = 50, before: int | None = None
) -> dict[str, Any]:
    page = await rt.service(ChannelService).read(name, limit, before)
    return {"messages": [m.public(s) for s, m in page.messages], "hasMore": page.has_more}


class PostBody(Body):
    message: str
    handle: str | None = None


@router.post("/channels/{name}/messages", status_code=201)
async def post_channel(rt: Rt, name: str, body: PostBody) -> dict[str, Any]:
    handle = validate_name(body.handle, "handle") if body.handle else "human"
    seq, msg = await rt.service(ChannelService).send(name, body.message, None, handle=handle)
    return msg.public(seq) | {"channel": name}
