"""Work queues with leases and the DLQ, through real MCP sessions against a real nats-server."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loom.config import Settings
from loom.runtime import Runtime
from loom.services.work import WorkService
from tests.mcp_helpers import Agent, in_process
from tests.waiting import eventually

TOOLSETS = ("identity", "registry", "work", "dlq")


async def offer(agent: Agent, capability: str = "build", **extra: Any) -> str:
    return str(
        (
            await agent.call(
                "broadcast_work_offer", description="do it", requiredCapability=capability, **extra
            )
        )["workItemId"]
    )


async def test_three_agents_complete_thirty_items_exactly_once(
    make_settings: Callable[..., Settings],
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        agents = []
        for i in range(4):
            rt = await stack.enter_async_context(await Runtime.open(make_settings(agent_id=f"w{i}")))
            agent = await stack.enter_async_context(in_process(rt, TOOLSETS))
            await agent.call("register_agent", agentType="worker", capabilities=["build"])
            agents.append(agent)
        lead = agents[0]
        ids = [await offer(lead) for _ in range(30)]
        done: Counter[str] = Counter()

        async def run(agent: Agent) -> None:
            while True:
                item = (await agent.call("claim_work", capability="build", timeout=200))["workItem"]
                if item is None:
                    return
                await agent.call("complete_work", workItemId=item["id"], summary="ok")
                done[item["id"]] += 1

        await asyncio.gather(*(run(agent) for agent in agents[1:]))
        assert sorted(done) == sorted(ids) and set(done.values()) == {1}
        states = [await lead.call("get_work_item", workItemId=i) for i in ids]
        assert {s["status"] for s in states} == {"completed"}


async def test_priority_order_and_fifo_within_a_priority(runtime: Runtime) -> None:
    async with in_process(runtime, TOOLSETS) as agent:
        await agent.call("register_agent", agentType="w", capabilities=["build"])
        low = await offer(agent, priority=1)
        mid1 = await offer(agent, priority=5)
        high = await offer(agent, priority=10)
        mid2 = await offer(agent, priority=5)
        order = []
        for _ in range(4):
            item = (await agent.call("claim_work", capability="build", timeout=0))["workItem"]
            order.append(item["id"])
            await agent.call("complete_work", workItemId=item["id"])
        assert order == [high, mid1, mid2, low]
        assert (await agent.call("claim_work", capability="build", timeout=0))["workItem"] is None


async def test_lapsed_lease_is_offered_again_then_dead_lettered_with_errors(
    make_settings: Callable[..., Settings],
) -> None:
    fast = make_settings(work_lease=1, work_max_attempts=2)
    async with await Runtime.open(fast) as rt, in_process(rt, TOOLSETS) as agent:
        await agent.call("register_agent", agentType="w", capabilities=["build"])
        item_id = await offer(agent)
        first = (await agent.call("claim_work", capability="build", timeout=0))["workItem"]
        assert first["attempts"] == 1
        # Let the lease lapse: the same item comes back as attempt 2.
        second = (await agent.call("claim_work", capability="build", timeout=5000))["workItem"]
        assert (second["id"], second["attempts"]) == (item_id, 2)
        failed = await agent.call("fail_work", workItemId=item_id, error="compiler crashed")
        assert failed == {"workItemId": item_id, "status": "dead-lettered", "attempts": 2}
        letters = (await agent.call("list_dead_letter_items"))["items"]
        assert [d["id"] for d in letters] == [item_id]
        assert [e["error"] for e in letters[0]["errors"]] == ["lease lapsed", "compiler crashed"]
        assert (await agent.call("get_work_item", workItemId=item_id))["status"] == "dead-lettered"
        # Retry puts it back; completing it clears it.
        assert await agent.call("retry_dead_letter_item", itemId=item_id, resetAttempts=True) == {
            "itemId": item_id,
            "status": "pending",
        }
        again = (await agent.call("claim_work", capability="build", timeout=2000))["workItem"]
        assert (again["id"], again["attempts"]) == (item_id, 1)
        await agent.call("complete_work", workItemId=item_id, result={"ok": True})
        assert (await agent.call("complete_work", workItemId=item_id))["status"] == "completed"  # idempotent
        assert (await agent.call("list_dead_letter_items"))["items"] == []


async def test_recoverable_failure_requeues_and_unrecoverable_goes_to_the_dlq(runtime: Runtime) -> None:
    async with in_process(runtime, TOOLSETS) as agent:
        await agent.call("register_agent", agentType="w", capabilities=["build"])
        item_id = await offer(agent)
        await agent.call("claim_work", capability="build", timeout=0)
        assert (await agent.call("fail_work", workItemId=item_id, error="flaky"))["status"] == "pending"
        again = (await agent.call("claim_work", capability="build", timeout=5000))["workItem"]
        assert again["attempts"] == 2
        assert (await agent.call("fail_work", workItemId=item_id, error="bad input", recoverable=False))[
            "status"
        ] == "dead-lettered"
        await agent.call("discard_dead_letter_item", itemId=item_id)
        assert (await agent.error("discard_dead_letter_item", itemId=item_id)).code == "NOT_FOUND"


async def test_only_the_claimant_may_act_on_a_claim(make_settings: Callable[..., Settings]) -> None:
    async with (
        await Runtime.open(make_settings(agent_id="a")) as rt1,
        await Runtime.open(make_settings(agent_id="b")) as rt2,
        in_process(rt1, TOOLSETS) as a,
        in_process(rt2, TOOLSETS) as b,
    ):
        await a.call("register_agent", agentType="w", capabilities=["build"])
        await b.call("register_agent", agentType="w", capabilities=["build"])
        item_id = await offer(a)
        await a.call("claim_work", capability="build", timeout=0)
        for tool, extra in [
            ("complete_work", {}),
            ("fail_work", {"error": "x"}),
            ("report_progress", {"progress": 5}),
        ]:
            assert (await b.error(tool, workItemId=item_id, **extra)).code == "FORBIDDEN"
        progressed = await a.call("report_progress", workItemId=item_id, progress=40)
        assert progressed["progress"] == 40
        assert (await b.call("get_work_item", workItemId=item_id))[
            "status"
        ] == "in-progress"  # fan-in readable


async def test_claim_only_for_registered_capabilities_and_timeout_bounds(runtime: Runtime) -> None:
    async with in_process(runtime, TOOLSETS) as agent:
        await agent.call("register_agent", agentType="w", capabilities=["build"])
        assert (await agent.error("claim_work", capability="deploy")).code == "FORBIDDEN"
        assert (await agent.error("claim_work", capability="build", timeout=30001)).code == "INVALID_ARGUMENT"
        assert (await agent.call("claim_work", capability="build", timeout=300))["workItem"] is None
        for bad in ["*", ">", "a.b", "x y", "_dlq"]:
            error = await agent.error("broadcast_work_offer", description="x", requiredCapability=bad)
            assert error.code == "INVALID_ARGUMENT" and "requiredCapability" in error.text


async def test_a_capability_named_deadletter_is_just_a_queue(runtime: Runtime) -> None:
    async with in_process(runtime, TOOLSETS) as agent:
        await agent.call("register_agent", agentType="w", capabilities=["deadletter"])
        item_id = await offer(agent, capability="deadletter")
        assert (await agent.call("list_dead_letter_items"))["items"] == []
        item = (await agent.call("claim_work", capability="deadletter", timeout=0))["workItem"]
        assert item["id"] == item_id


async def test_queues_and_dlq_are_isolated_per_project(make_settings: Callable[..., Settings]) -> None:
    async with await Runtime.open(make_settings()) as rt, in_process(rt, TOOLSETS) as ours:
        await ours.call("register_agent", agentType="w", capabilities=["build"])
        item_id = await offer(ours)
        await ours.call("claim_work", capability="build", timeout=0)
        await ours.call("fail_work", workItemId=item_id, error="x", recoverable=False)
        async with (
            await Runtime.open(make_settings(project_id="elsewhere-q")) as rt2,
            in_process(rt2, TOOLSETS) as them,
        ):
            await them.call("register_agent", agentType="w", capabilities=["build"])
            await offer(ours)
            assert (await them.call("claim_work", capability="build", timeout=0))["workItem"] is None
            assert (await them.call("list_dead_letter_items"))["items"] == []
            assert (await them.error("get_work_item", workItemId=item_id)).code == "NOT_FOUND"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    item_bounds=st.lists(st.sampled_from([None, "corp", "home"]), min_size=1, max_size=6),
    agent_bounds=st.lists(st.sampled_from(["corp", "home"]), unique=True, max_size=2),
)
async def test_no_item_is_claimed_outside_the_agents_boundaries(
    runtime: Runtime, item_bounds: list[str | None], agent_bounds: list[str]
) -> None:
    async with in_process(runtime, TOOLSETS) as agent:
        await agent.call("register_agent", agentType="w", capabilities=["bounded"], boundaries=agent_bounds)
        offered = {}
        for b in item_bounds:
            offered[await offer(agent, capability="bounded", **({"boundary": b} if b else {}))] = b
        while (
            item := (await agent.call("claim_work", capability="bounded", timeout=0))["workItem"]
        ) is not None:
            assert item["boundary"] is None or item["boundary"] in agent_bounds
            await agent.call("complete_work", workItemId=item["id"])
        for item_id, b in offered.items():
            status = (await agent.call("get_work_item", workItemId=item_id))["status"]
            assert status == ("completed" if b is None or b in agent_bounds else "pending")
            if status == "pending":  # leave the queue clean for the next example
                await runtime.service(WorkService).cancel(item_id)


async def test_claim_wakes_up_when_work_arrives(make_settings: Callable[..., Settings]) -> None:
    async with (
        await Runtime.open(make_settings(agent_id="waiter")) as rt1,
        await Runtime.open(make_settings(agent_id="offerer")) as rt2,
        in_process(rt1, TOOLSETS) as waiter,
        in_process(rt2, TOOLSETS) as offerer,
    ):
        await waiter.call("register_agent", agentType="w", capabilities=["build"])
        claim = asyncio.create_task(waiter.call("claim_work", capability="build", timeout=20000))
        await eventually(lambda: not claim.done(), timeout=1)
        item_id = await offer(offerer)
        assert (await asyncio.wait_for(claim, 15))["workItem"]["id"] == item_id


async def test_claim_reads_a_queued_id_from_an_older_loom_and_drops_unreadable_messages(
    runtime: Runtime,
) -> None:
    """Queue messages carry the offered record; one holding only the id (queued by an older
    Loom) is still claimed, and one that is neither is dropped instead of blocking the queue."""
    async with in_process(runtime, TOOLSETS) as agent:
        await agent.call("register_agent", agentType="w", capabilities=["build"])
        queue = runtime.service(WorkService).queue
        subject = queue.subject("build", None, 5)
        await queue.ready()
        js = runtime.bus.js
        for n, payload in enumerate([b"{not json", b'{"no": "id"}']):
            await js.publish(subject, payload, headers={"Nats-Msg-Id": f"garbage-{n}"})
        item_id = await offer(agent)  # queued as a record, behind the two unreadable messages
        await js.publish(subject, item_id.encode(), headers={"Nats-Msg-Id": f"{item_id}-by-id"})
        first = (await agent.call("claim_work", capability="build", timeout=0))["workItem"]
        assert (first["id"], first["attempts"]) == (item_id, 1)
        # The same item queued by id: claimed from what the bucket holds (a second delivery).
        second = (await agent.call("claim_work", capability="build", timeout=0))["workItem"]
        assert (second["id"], second["attempts"]) == (item_id, 1)
        assert await queue.counts("build") == {subject: 2}  # both held; the unreadable ones are gone
