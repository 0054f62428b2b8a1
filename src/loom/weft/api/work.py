"""``/api/work`` and ``/api/dlq``: submit, list, cancel, and the dead-letter queue."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import Field

from loom.errors import InvalidArgument
from loom.models.work import WorkRecord
from loom.names import validate_name
from loom.runtime import Runtime
from loom.services.dead_letters import DeadLetterQueue
from loom.services.directory import AgentDirectory, AgentFilter
from loom.services.work import WorkService, WorkSpec
from loom.weft.api.common import Body, Rt, api_router
from loom.weft.events import EventLog
from loom.weft.routing import Need, eligible_agents, eligible_targets
from loom.weft.spinup.manager import SpinUpManager
from loom.weft.targets import TargetRegistry

router = api_router()


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
    if not agents:  # before launching one, make sure an agent that registered just now is seen
        await directory.sync()
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
    launched, errors = await rt.service(SpinUpManager).spin_up_first(targets, need, record.id)
    if launched is None:
        return routing, "no eligible agent online; no target could launch now (" + "; ".join(errors) + ")"
    target, spun = launched
    routing |= {
        "spinUpTriggered": spun.state != "failed",
        "target": target.name,
        "targetAgentType": target.agent_type,
    }
    return routing, f"no eligible agent online; spin-up on {target.name}: {spun.state}"


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
    letters = await rt.service(DeadLetterQueue).list(capability, limit)
    items = [d.public() for d in letters]
    return {"items": items, "count": len(items)}


class RetryBody(Body):
    reset_attempts: bool = False


@router.post("/dlq/{item_id}/retry")
async def retry_dlq(rt: Rt, item_id: str, body: RetryBody | None = None) -> dict[str, Any]:
    record = await rt.service(DeadLetterQueue).retry(item_id, body.reset_attempts if body else False)
    return {"itemId": record.id, "status": "pending"}


@router.delete("/dlq/{item_id}")
async def discard_dlq(rt: Rt, item_id: str) -> dict[str, Any]:
    await rt.service(DeadLetterQueue).discard(item_id)
    return {"itemId": item_id, "status": "discarded"}
