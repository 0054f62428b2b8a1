"""Two `weft` processes on one project: one leads; kill it and the other takes over; no double dispatch."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

import httpx

from loom.runtime import Runtime
from tests.e2e.conftest import WeftProcess
from tests.mcp_helpers import in_process


def leader(weft: WeftProcess) -> bool:
    return bool(httpx.get(f"{weft.url}/health", timeout=5).json()["leader"])


def wait_for(probe: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(0.1)  # polling a subprocess's HTTP endpoint, bounded by the deadline
    return False


async def test_failover_and_no_double_dispatch(
    start_weft: Callable[..., WeftProcess], runtime: Runtime
) -> None:
    first, second = start_weft(), start_weft()
    assert wait_for(lambda: leader(first) != leader(second), 15), "exactly one Weft leads"
    active, standby = (first, second) if leader(first) else (second, first)
    ids = [httpx.post(f"{w.url}/api/work", json={"description": f"{i}", "capability": "python"}, timeout=10).json()["id"]
           for i, w in enumerate([first, second] * 5)]  # fmt: skip
    active.stop(signal.SIGKILL)
    assert wait_for(lambda: leader(standby), 15), "the standby took over"
    async with in_process(runtime) as agent:
        await agent.call("register_agent", agentType="c", capabilities=["python"])
        claimed = []
        while (
            item := (await agent.call("claim_work", capability="python", timeout=500))["workItem"]
        ) is not None:
            claimed.append(item["id"])
            await agent.call("complete_work", workItemId=item["id"])
    assert sorted(claimed) == sorted(ids)  # each exactly once
    listed = httpx.get(
        f"{standby.url}/api/work", params={"status": "completed", "limit": 100}, timeout=10
    ).json()
    assert listed["count"] == 10
