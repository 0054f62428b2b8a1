"""Spin-up records through Weft's API: a launch from a local target, followed to registration."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from loom.config import Settings
from tests.integration.test_weft_api import weft
from tests.waiting import eventually

ECHO = "import json, sys; print('done', json.load(sys.stdin)['description'])"


def local_target(settings: Settings, tmp_path: Path) -> dict[str, Any]:
    loom = str(Path(sys.executable).parent / "loom")
    script = tmp_path / "echo.py"
    script.write_text(ECHO)
    command = [
        loom,
        "agent",
        "run",
        "-c",
        "docs",
        "--exec",
        f"{sys.executable} {script}",
        "--idle-exit",
        "20",
    ]
    return {
        "name": "docs-local", "agentType": "scripted", "mechanism": "local", "capabilities": ["docs"],
        "config": {"command": command, "cwd": str(tmp_path), "env": {"NATS_URL": settings.nats_url}},
    }  # fmt: skip


async def _spin_up(api: httpx.AsyncClient, spin_up_id: str) -> dict[str, Any]:
    response = await api.get(f"/api/spinups/{spin_up_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_work_with_no_agent_launches_one_and_the_record_follows_it(
    settings: Settings, tmp_path: Path
) -> None:
    async with weft(settings) as api:
        assert (await api.post("/api/targets", json=local_target(settings, tmp_path))).status_code == 201
        submitted = (await api.post("/api/work", json={"description": "guide", "capability": "docs"})).json()
        assert submitted["routing"]["spinUpTriggered"] is True
        assert submitted["routing"]["target"] == "docs-local"
        listed = (await api.get("/api/spinups", params={"workId": submitted["id"]})).json()
        assert listed["count"] == 1
        record = listed["spinUps"][0]
        assert (record["target"], record["workId"], record["capability"]) == (
            "docs-local",
            submitted["id"],
            "docs",
        )

        async def registered() -> bool:
            return (await _spin_up(api, record["id"]))["status"] == "registered"

        await eventually(registered, timeout=60)
        agent_guid = (await _spin_up(api, record["id"]))["agentGuid"]
        agent = (await api.get(f"/api/agents/{agent_guid}")).json()
        assert agent["target"] == "docs-local" and agent["launchWorkId"] == submitted["id"]
        assert agent["spinUpId"] == record["id"]  # correlated exactly, not by time

        async def completed() -> bool:
            return (await api.get(f"/api/work/{submitted['id']}")).json()["status"] == "completed"

        await eventually(completed, timeout=60)
        mine = (await api.get("/api/spinups", params={"target": "docs-local", "state": "registered"})).json()
        assert [r["id"] for r in mine["spinUps"]] == [record["id"]]
        assert (await api.get("/api/spinups", params={"target": "elsewhere"})).json()["count"] == 0


async def test_spin_up_queries_reject_bad_input(settings: Settings) -> None:
    async with weft(settings) as api:
        bad_state = await api.get("/api/spinups", params={"state": "bogus"})
        assert bad_state.status_code == 400 and "state" in bad_state.text and "registered" in bad_state.text
        assert (await api.get("/api/spinups", params={"limit": 0})).status_code == 422
        for spin_up_id in ("no-such-id", "a*b", "x.y"):
            missing = await api.get(f"/api/spinups/{spin_up_id}")
            assert missing.status_code == 404 and "spinUpId" in missing.text


async def _events_until(
    api: httpx.AsyncClient, done: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Every event from the start of the stream up to the first one ``done`` accepts."""
    seen: list[dict[str, Any]] = []
    async with api.stream("GET", "/api/events", headers={"Last-Event-ID": "0"}) as response:
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                seen.append(json.loads(line[5:]))
                if done(seen[-1]):
                    return seen
    return seen


async def test_a_burst_launches_one_agent_at_a_time_which_works_then_retires(
    settings: Settings, tmp_path: Path
) -> None:
    body = local_target(settings, tmp_path)
    body["config"]["command"] = body["config"]["command"][:-2]  # no --idle-exit: Weft retires it
    body |= {"maxConcurrent": 1, "cooldownSeconds": 0, "idleTimeoutSeconds": 1}
    async with weft(settings) as api:
        assert (await api.post("/api/targets", json=body)).status_code == 201
        routed = [
            (await api.post("/api/work", json={"description": f"page {i}", "capability": "docs"})).json()
            for i in range(5)
        ]
        assert routed[0]["routing"]["spinUpTriggered"] is True
        assert all(r["routing"]["spinUpTriggered"] is False for r in routed[1:])
        assert routed[1]["reason"].endswith("(target docs-local is at maxConcurrent=1)")
        spin_ups = (await api.get("/api/spinups", params={"target": "docs-local"})).json()
        assert spin_ups["count"] == 1
        pid = int(spin_ups["spinUps"][0]["detail"].split()[1].rstrip(","))

        async def all_done() -> bool:
            items = [(await api.get(f"/api/work/{r['id']}")).json() for r in routed]
            return all(i["status"] == "completed" for i in items)

        await eventually(all_done, timeout=60)
        events = await asyncio.wait_for(
            _events_until(
                api, lambda e: e["kind"] == "agent" and e["data"].get("shutdownRequested") == "idle"
            ),
            60,
        )

        def exited() -> bool:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            return False

        await eventually(exited, timeout=30)
        states = [e["data"]["state"] for e in events if e["kind"] == "spin-up"]
        assert states == ["requested", "launched", "registered"]
        stats = (await api.get("/api/stats")).json()
        assert stats["spinUps"] == {"started": 1, "failed": 0} and stats["work"]["completed"] == 5
