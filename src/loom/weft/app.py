"""The Weft FastAPI application: routes, health, metrics, stats and the event stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import Response
from prometheus_client import generate_latest
from sse_starlette.sse import EventSourceResponse

from loom import __version__
from loom.runtime import Runtime
from loom.services.directory import AgentDirectory
from loom.services.work import WorkService
from loom.weft import errors
from loom.weft.api import router
from loom.weft.deps import check_token, project_runtime
from loom.weft.events import EventLog
from loom.weft.lease import LeaderLease
from loom.weft.metrics import Metrics
from loom.weft.projects import Projects
from loom.weft.spinup.manager import SpinUpManager
from loom.weft.targets import TargetRegistry

Rt = Annotated[Runtime, Depends(project_runtime)]

WORK_KEYS = {
    "pending": "pending",
    "assigned": "assigned",
    "in-progress": "inProgress",
    "completed": "completed",
    "failed": "failed",
    "cancelled": "cancelled",
    "dead-lettered": "deadLettered",
}


def create_app(projects: Projects, tokens: frozenset[str], metrics: Metrics) -> FastAPI:
    app = FastAPI(
        title="Weft",
        version=__version__,
        description="Loom's coordinator: routes work by capability and boundary, launches and retires agents",
    )
    app.state.projects = projects
    app.state.tokens = tokens
    app.state.metrics = metrics
    errors.install(app)
    app.include_router(router)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        up = projects.bus.nc.is_connected
        default = await projects.get(None)
        return {
            "status": "ok" if up else "degraded",
            "nats": "connected" if up else "disconnected",
            "version": __version__,
            "leader": default.service(LeaderLease).is_leader.is_set(),
        }

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type="text/plain; version=0.0.4")

    @app.get("/api/stats", dependencies=[Depends(check_token)])
    async def stats(rt: Rt) -> dict[str, Any]:
        directory = rt.service(AgentDirectory)
        await directory.start()
        views = [directory.view(r) for r in directory.records.values()]
        work = dict.fromkeys(WORK_KEYS.values(), 0)
        for record in await rt.service(WorkService).all():
            work[WORK_KEYS[record.status]] += 1
        targets = await rt.service(TargetRegistry).list()
        spinups = await rt.service(SpinUpManager).records()
        return {
            "agents": {
                "total": len(views),
                "online": sum(v.status == "online" for v in views),
                "busy": sum(v.status == "busy" for v in views),
                "offline": sum(v.status == "offline" for v in views),
            },
            "work": work,
            "targets": {
                "total": len(targets),
                "enabled": sum(t.enabled for t in targets),
                "healthy": sum(t.health.status == "healthy" for t in targets),
            },
            "spinUps": {
                "started": sum(s.state in ("launched", "registered") for s in spinups),
                "failed": sum(s.state in ("failed", "timed-out") for s in spinups),
            },
        }

    @app.get("/api/events", dependencies=[Depends(check_token)])
    async def events(
        rt: Rt, request: Request, last_event_id: Annotated[str | None, Header()] = None
    ) -> EventSourceResponse:
        after = int(last_event_id) if last_event_id and last_event_id.isdigit() else None

        async def stream() -> AsyncIterator[dict[str, str]]:
            async for seq, event in rt.service(EventLog).follow(after):
                if await request.is_disconnected():
                    return
                yield {"id": str(seq), "event": event["kind"], "data": json.dumps(event)}

        return EventSourceResponse(stream(), ping=15)

    return app
