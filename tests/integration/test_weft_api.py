"""Weft over real HTTP (in-process ASGI server on a free port) against a real nats-server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from loom.config import Settings
from loom.runtime import Runtime
from loom.weft.entry import run_weft
from tests.mcp_helpers import in_process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def weft(settings: Settings, token: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    if token:
        settings = settings.model_copy(update={"api_token": SecretStr(token)})
    port = free_port()
    started = asyncio.Event()
    task = asyncio.create_task(run_weft(settings, "127.0.0.1", port, started))
    await asyncio.wait_for(started.wait(), 30)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=20
        ) as client:
            yield client
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_submit_claim_complete_reads_completed_with_result(settings: Settings) -> None:
    async with weft(settings) as api, await Runtime.open(settings.model_copy(update={"agent_id": "w"})) as rt:
        async with in_process(rt) as agent:
            await agent.call(
                "register_agent", agentType="coder", capabilities=["python"], boundaries=["corp"]
            )
            created = await api.post(
                "/api/work", json={"description": "fix", "capability": "python", "boundary": "corp"}
            )
            assert created.status_code == 201
            body = created.json()
            assert body["routing"]["eligibleAgents"] and body["routing"]["spinUpTriggered"] is False
            item = (await agent.call("claim_work", capability="python", timeout=5000))["workItem"]
            assert item["id"] == body["id"]
            await agent.call("complete_work", workItemId=item["id"], result={"pr": 12}, summary="fixed")
            done = (await api.get(f"/api/work/{body['id']}")).json()
            assert (done["status"], done["result"], done["summary"]) == ("completed", {"pr": 12}, "fixed")


async def test_boundaries_route_only_to_agents_inside_them(settings: Settings) -> None:
    async with weft(settings) as api, await Runtime.open(settings.model_copy(update={"agent_id": "p"})) as rt:
        async with in_process(rt) as personal:
            await personal.call(
                "register_agent", agentType="coder", capabilities=["python"], boundaries=["personal"]
            )
            corp = (
                await api.post(
                    "/api/work", json={"description": "x", "capability": "python", "boundary": "corporate"}
                )
            ).json()
            assert corp["routing"]["eligibleAgents"] == []
            assert "no eligible" in corp["reason"]
            mine = (
                await api.post(
                    "/api/work", json={"description": "y", "capability": "python", "boundary": "personal"}
                )
            ).json()
            assert len(mine["routing"]["eligibleAgents"]) == 1
            item = (await personal.call("claim_work", capability="python", timeout=2000))["workItem"]
            assert item["id"] == mine["id"]  # never the corporate one
            assert (await personal.call("claim_work", capability="python", timeout=0))["workItem"] is None


async def test_auth_errors_and_bad_bodies(settings: Settings) -> None:
    async with weft(settings, token="t0k") as api:
        anonymous = await httpx.AsyncClient(base_url=str(api.base_url)).get("/api/stats")
        assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "UNAUTHENTICATED"
        assert (await api.get("/health")).json()["nats"] == "connected"
        bad_json = await api.post(
            "/api/work", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert bad_json.status_code == 400 and bad_json.json()["error"]["code"] == "INVALID_ARGUMENT"
        missing = await api.post("/api/work", json={"description": "x"})
        assert missing.status_code == 422 and "capability" in missing.json()["error"]["message"]
        bad_name = await api.post("/api/work", json={"description": "x", "capability": "a.b"})
        assert bad_name.status_code == 400 and "capability" in bad_name.json()["error"]["message"]
        bad_priority = await api.post(
            "/api/work", json={"description": "x", "capability": "c", "priority": 11}
        )
        assert bad_priority.status_code == 422 and "priority" in bad_priority.json()["error"]["message"]
        assert (await api.get("/api/work/nope")).status_code == 404
        assert (await api.get("/api/agents/nope")).json()["error"]["code"] == "NOT_FOUND"
        bad_target = await api.post(
            "/api/targets",
            json={"name": "t", "agentType": "x", "mechanism": "webhook", "config": {"url": "ftp://x"}},
        )
        assert bad_target.status_code == 400 and "config.url" in bad_target.json()["error"]["message"]
        metrics = await api.get("/metrics")
        assert "loom_work_submitted" in metrics.text and "loom_submit_to_claim_seconds" in metrics.text


async def test_refuses_a_public_address_without_a_token(settings: Settings) -> None:
    from loom.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="--host"):
        await run_weft(settings, "0.0.0.0", free_port())


async def test_events_stream_work_changes_in_order(settings: Settings) -> None:
    async with weft(settings) as api, await Runtime.open(settings.model_copy(update={"agent_id": "e"})) as rt:
        async with in_process(rt) as agent:
            await agent.call("register_agent", agentType="coder", capabilities=["python"])
            seen: list[str] = []
            # Only the coordinator's watch of the work bucket emits these events, and the bucket
            # keeps one revision per key: a state overwritten before the watch delivered it is
            # never emitted. So each change waits until the previous one was seen.
            arrived = {status: asyncio.Event() for status in ("pending", "assigned")}

            async def listen() -> None:
                # Last-Event-ID 0: from the start of the stream, so no event can be missed.
                async with api.stream("GET", "/api/events", headers={"Last-Event-ID": "0"}) as response:
                    async for line in response.aiter_lines():
                        if line.startswith("data:"):
                            event = json.loads(line[5:])
                            if event["kind"] == "work":
                                status = event["data"]["status"]
                                seen.append(status)
                                if status in arrived:
                                    arrived[status].set()
                                if status == "completed":
                                    return

            listener = asyncio.create_task(listen())
            item_id = (await api.post("/api/work", json={"description": "x", "capability": "python"})).json()[
                "id"
            ]
            await asyncio.wait_for(arrived["pending"].wait(), 20)
            await agent.call("claim_work", capability="python", timeout=5000)
            await asyncio.wait_for(arrived["assigned"].wait(), 20)
            await agent.call("complete_work", workItemId=item_id)
            await asyncio.wait_for(listener, 20)
            assert seen[0] == "pending" and seen[-1] == "completed"
            assert seen.index("assigned") < seen.index("completed")


async def test_a_second_weft_takes_over_and_nothing_is_dispatched_twice(settings: Settings) -> None:
    async with weft(settings) as first:
        item = (await first.post("/api/work", json={"description": "x", "capability": "python"})).json()
        async with weft(settings) as second:
            listed = (await second.get("/api/work")).json()
            assert [i["id"] for i in listed["items"]] == [item["id"]]
    # Restarted: the state is all in NATS.
    async with weft(settings) as third:
        assert (await third.get(f"/api/work/{item['id']}")).json()["status"] == "pending"
        async with (
            await Runtime.open(settings.model_copy(update={"agent_id": "late"})) as rt,
            in_process(rt) as agent,
        ):
            await agent.call("register_agent", agentType="c", capabilities=["python"])
            first_claim = (await agent.call("claim_work", capability="python", timeout=3000))["workItem"]
            assert first_claim["id"] == item["id"]
            assert (await agent.call("claim_work", capability="python", timeout=0))["workItem"] is None
