"""``/api/targets`` and ``/api/spinups``: launch targets, their health, and spin-up records."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import Query, Request, Response

from loom.errors import Conflict, InvalidArgument, NotFound
from loom.models.target import SpinUp, SpinUpState
from loom.names import validate_name
from loom.weft.api.common import Body, Rt, api_router
from loom.weft.events import EventLog
from loom.weft.routing import Need, eligible_targets
from loom.weft.spinup.manager import SpinUpManager, check_health
from loom.weft.targets import TargetRegistry

router = api_router()


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
    launched, errors = await rt.service(SpinUpManager).spin_up_first(targets, need)
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


@router.get("/spinups")
async def list_spin_ups(
    rt: Rt, target: str | None = None, state: str | None = None, workId: str | None = None,  # the API's name
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:  # fmt: skip
    """Spin-up records, newest first (kept for a week)."""
    if state is not None and state not in get_args(SpinUpState):
        raise InvalidArgument(f"must be one of {', '.join(get_args(SpinUpState))}", field="state")
    records = [
        r for r in reversed(await rt.service(SpinUpManager).records(target))
        if (state is None or r.state == state) and (workId is None or r.work_id == workId)
    ]  # fmt: skip
    return {"spinUps": [_spin_up_view(r) for r in records[:limit]], "count": min(len(records), limit)}


@router.get("/spinups/{spin_up_id}")
async def get_spin_up(rt: Rt, spin_up_id: str) -> dict[str, Any]:
    record = await rt.service(SpinUpManager).record(spin_up_id)
    if record is None:
        raise NotFound(f"no spin-up {spin_up_id}", field="spinUpId")
    return _spin_up_view(record)
