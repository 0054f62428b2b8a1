"""``shuttle watch`` / ``submit --wait`` / ``dlq`` / ``agents`` / ``shutdown`` against a real Weft,
with the work driven by a real MCP agent session (register_agent, claim_work, ...)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from loom.runtime import Runtime
from tests.e2e.conftest import WeftProcess
from tests.e2e.shuttle_helpers import finish, read_line, run_async, shuttle_env, start
from tests.mcp_helpers import Agent, in_process
from tests.waiting import eventually


@pytest.fixture
def env(weft: WeftProcess, tmp_path: Path, project_id: str) -> dict[str, str]:
    return shuttle_env(tmp_path / "cfg", api_url=weft.url, LOOM_PROJECT_ID=project_id)


@contextlib.asynccontextmanager
async def worker(runtime: Runtime) -> AsyncIterator[Agent]:
    """A registered agent with capability ``python``: a real MCP session, opened in the test's task."""
    pytest.importorskip("loom.mcp.toolsets.work", reason="the work toolset is not built yet")
    async with in_process(runtime) as session:
        await session.call(
            "register_agent", agentType="claude-code", capabilities=["python"], handle="worker"
        )
        yield session


async def submit(env: dict[str, str], description: str) -> str:
    result = await run_async(env, "submit", description, "--capability", "python", "--json")
    assert result.code == 0, result
    return str(result.json()["id"])


async def claim(agent: Agent, work_id: str | None = None) -> dict[str, Any]:
    claimed = await agent.call("claim_work", capability="python", timeout=15000)
    item = claimed["workItem"]
    assert item is not None, "nothing to claim"
    if work_id is not None:
        assert item["id"] == work_id
    return dict(item)


async def test_watch_follows_an_item_live_and_exits_0_when_completed(
    env: dict[str, str], runtime: Runtime
) -> None:
    async with worker(runtime) as agent:
        await _watch_follows_an_item_live_and_exits_0_when_completed(env, agent)


async def _watch_follows_an_item_live_and_exits_0_when_completed(env: dict[str, str], agent: Agent) -> None:
    work_id = await submit(env, "write the docs")
    watcher = await start(env, "watch", work_id, "--json")
    first = json.loads(await read_line(watcher))
    assert (first["id"], first["status"]) == (work_id, "pending")

    # The watcher is connected now; everything after this reaches it through the event stream.
    await claim(agent, work_id)
    await agent.call("report_progress", workItemId=work_id, progress=40, message="half way")
    await agent.call("complete_work", workItemId=work_id, summary="docs written", result={"pages": 3})

    rest = await finish(watcher)
    assert rest.code == 0, rest
    snapshots = [first, *rest.lines()]
    assert snapshots[-1]["status"] == "completed"
    assert [s["status"] for s in snapshots].count("completed") == 1

    again = await run_async(env, "watch", work_id)
    assert again.code == 0 and "completed" in again.out


async def test_submit_wait_exits_1_on_failure_then_dlq_retry_and_discard(
    env: dict[str, str], runtime: Runtime
) -> None:
    async with worker(runtime) as agent:
        await _submit_wait_exits_1_on_failure_then_dlq_retry_and_discard(env, agent)


async def _submit_wait_exits_1_on_failure_then_dlq_retry_and_discard(
    env: dict[str, str], agent: Agent
) -> None:
    waiter = await start(env, "submit", "flaky build", "--capability", "python", "--wait", "--json")
    item = await claim(agent)
    await agent.call("fail_work", workItemId=item["id"], error="compiler exploded", recoverable=False)
    result = await finish(waiter)
    assert result.code == 1, result
    doc = result.json()
    assert doc["id"] == item["id"] and doc["item"]["status"] == "dead-lettered"

    async def dlq_entry(work_id: str) -> dict[str, Any] | None:
        listed = (await run_async(env, "dlq", "list", "--json")).json()
        return next((e for e in listed["items"] if e["workItem"]["id"] == work_id), None)

    entry = await eventually(lambda: dlq_entry(item["id"]), message="item in the DLQ")
    assert set(entry) >= {"id", "workItem", "reason", "attempts", "errors", "failedAt"}
    human = await run_async(env, "dlq", "list")
    assert "compiler exploded" in human.out

    retried = await run_async(env, "dlq", "retry", entry["id"], "--json")
    assert retried.code == 0 and retried.json()["status"] == "pending"
    assert (await claim(agent))["id"] == item["id"]
    await agent.call("complete_work", workItemId=item["id"], summary="green now")
    assert (await run_async(env, "watch", item["id"])).code == 0

    second = await submit(env, "hopeless")
    await claim(agent, second)
    await agent.call("fail_work", workItemId=second, error="no way", recoverable=False)
    doomed = await eventually(lambda: dlq_entry(second), message="second item in the DLQ")
    assert (await run_async(env, "dlq", "discard", doomed["id"], "--json")).code == 0
    assert await dlq_entry(second) is None
    missing = await run_async(env, "--json", "dlq", "retry", doomed["id"])
    assert missing.code == 1 and missing.error()["code"] == "NOT_FOUND"


async def test_watch_without_id_prints_fleet_events_until_interrupted(env: dict[str, str]) -> None:
    watcher = await start(env, "watch", "--json")
    # Fleet watching starts from "now": keep making events until the watcher shows one.
    deadline = time.monotonic() + 30
    line = ""
    while not line:
        assert time.monotonic() < deadline, "no fleet event printed"
        await submit(env, "something happened")
        try:
            line = await read_line(watcher, timeout=2)
        except TimeoutError:
            continue
    event = json.loads(line)
    assert set(event) == {"id", "event", "data"} and event["event"]
    watcher.send_signal(signal.SIGINT)
    result = await finish(watcher)
    assert result.code == 0, result


async def test_agents_list_show_and_shutdown(env: dict[str, str], runtime: Runtime) -> None:
    async with worker(runtime) as agent:
        await _agents_list_show_and_shutdown(env, agent)


async def _agents_list_show_and_shutdown(env: dict[str, str], agent: Agent) -> None:
    me = await agent.call("get_my_handle")

    async def listed_online() -> dict[str, Any] | None:
        # Weft answers from its watch-fed directory: the registration reaches it a moment later.
        listed = (await run_async(env, "agents", "list", "--json")).json()
        assert set(listed) >= {"agents", "count"}
        found = next((a for a in listed["agents"] if a["guid"] == me["guid"]), None)
        return found if found is not None and found["status"] == "online" else None

    mine = await eventually(listed_online, timeout=15, message="the registered agent is not listed online")
    assert mine["handle"] == "worker" and mine["capabilities"] == ["python"]
    assert (await run_async(env, "agents", "list", "--capability", "cobol", "--json")).json()["count"] == 0
    assert "worker" in (await run_async(env, "agents", "list")).out

    shown = (await run_async(env, "agents", "show", me["guid"], "--json")).json()
    assert (shown["guid"], shown["status"]) == (me["guid"], "online")
    unknown = await run_async(env, "--json", "agents", "show", "no-such-guid")
    assert unknown.code == 1 and unknown.error()["code"] == "NOT_FOUND"

    stopped = await run_async(env, "shutdown", me["guid"], "--yes", "--json")
    assert stopped.code == 0, stopped
    activity = await agent.call("wait_for_activity", timeout=10)
    assert activity["shutdownRequested"] is True


async def test_watch_exits_3_when_weft_goes_away(env: dict[str, str], weft: WeftProcess) -> None:
    work_id = await submit(env, "never finished")
    watcher = await start(env, "watch", work_id, "--json")
    assert json.loads(await read_line(watcher))["status"] == "pending"
    await asyncio.to_thread(weft.stop, signal.SIGKILL)
    result = await finish(watcher)
    assert result.code == 3, result
