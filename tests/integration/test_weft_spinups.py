"""Spin-up records through Weft's API: a launch from a local target, followed to registration."""

from __future__ import annotations

import sys
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
